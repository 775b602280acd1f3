"""Production: everything secret or host-specific comes from the environment; HTTPS assumed at the proxy."""

from django.core.exceptions import ImproperlyConfigured

from .base import *  # noqa: F403
from .base import env_bool

DEBUG = False
# Refuse to start with no key, a development key, the .env.example placeholder or a short one: a known key
# lets anyone forge sessions and save tokens.
if (
    not SECRET_KEY  # noqa: F405
    or SECRET_KEY.startswith("dev-")  # noqa: F405
    or "change-me" in SECRET_KEY  # noqa: F405
    or len(SECRET_KEY) < 50  # noqa: F405
):
    raise ImproperlyConfigured(
        "Set SECRET_KEY to a long random value in production (50+ characters, not the .env.example placeholder)."
    )

SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", True)
SECURE_HSTS_SECONDS = int(os.environ.get("SECURE_HSTS_SECONDS", "31536000"))  # noqa: F405
SECURE_HSTS_INCLUDE_SUBDOMAINS = True
SECURE_HSTS_PRELOAD = True
SESSION_COOKIE_SECURE = True
CSRF_COOKIE_SECURE = True
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
