"""gunicorn settings for production, used by docker-compose.yml and the Dockerfile (`gunicorn -c` this file)."""

import multiprocessing
import os

bind = os.environ.get("GUNICORN_BIND", "0.0.0.0:8000")
# Sync workers: each request holds a worker, so size by cores (the usual 2n+1) unless told otherwise.
workers = int(os.environ.get("GUNICORN_WORKERS", str(2 * multiprocessing.cpu_count() + 1)))
timeout = int(os.environ.get("GUNICORN_TIMEOUT", "30"))
accesslog = "-"
# Request limits: gunicorn caps the request line and headers; bodies are capped by nginx (client_max_body_size)
# and by Django before anything reads them (config/middleware.py, MAX_REQUEST_BYTES).
limit_request_line = 4094
limit_request_fields = 60
limit_request_field_size = 8190
# The proxy is the only client: take X-Forwarded-* from it alone (docker-compose's internal network).
forwarded_allow_ips = os.environ.get("FORWARDED_ALLOW_IPS", "127.0.0.1")
