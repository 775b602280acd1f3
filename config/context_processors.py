def csp_nonce(request):
    """Expose django-csp's per-request nonce under the name django-htmx's {% htmx_script %} reads."""
    return {"csp_nonce": getattr(request, "csp_nonce", "")}
