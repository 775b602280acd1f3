"""The load benchmark's settings: production's, over plain http on 127.0.0.1, plus the baseline views.

Two changes only. The cookies lose their Secure flag, because the benchmark speaks http to loopback and a client
(locust's cookie jar, like a browser) never sends a Secure cookie over http. And the URLconf adds the baseline
views of `bench/load/urls.py`, which therefore exist only when this module is the settings.
"""

from config.settings.production import *  # noqa: F403

SESSION_COOKIE_SECURE = False
CSRF_COOKIE_SECURE = False
ROOT_URLCONF = "bench.load.urls"
