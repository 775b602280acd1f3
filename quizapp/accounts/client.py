"""Who is asking: the client's address as the trusted proxy saw it, and a small per-address rate limit."""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)


def client_ip(request) -> str | None:
    """The client's address: REMOTE_ADDR, or with TRUSTED_PROXY_COUNT proxies in front, the hop they recorded.

    Each trusted proxy appends the address it received the request from to X-Forwarded-For, so the entry
    TRUSTED_PROXY_COUNT from the right is the one no client can forge. Anything further left is the client's say.
    """
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if hop.strip()]
        if len(hops) >= count:
            return hops[-count]
    return request.META.get("REMOTE_ADDR") or None


def over_rate_limit(request, scope: str, *, limit: int, window_seconds: int) -> bool:
    """Count one more `scope` request from this client; True once it exceeds `limit` within the window."""
    key = f"rate:{scope}:{client_ip(request) or 'unknown'}"
    try:
        cache.add(key, 0, timeout=window_seconds)
        try:
            count = cache.incr(key)
        except ValueError:  # expired between add and incr
            cache.set(key, 1, timeout=window_seconds)
            count = 1
    except Exception:  # a shared cache that is away (REDIS_URL): let the person through rather than fail the page
        logger.warning("rate limit %s not counted: the cache is unavailable", scope, exc_info=True)
        return False
    return count > limit
