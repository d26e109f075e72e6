"""gunicorn behind deploy/nginx: `gunicorn -c deploy/gunicorn.conf.py leaguetable.wsgi`.

Threaded workers keep connections alive, so nginx's upstream keepalive pool (and any client
that talks to gunicorn directly) does not pay a TCP handshake per request; a stored public
response costs a fraction of a millisecond, less than that handshake. Two processes per core
pair is what `make bench` measures; WEB_CONCURRENCY and WEB_THREADS change it.
"""

import os

bind = os.getenv("BIND", "127.0.0.1:8000")
workers = int(os.getenv("WEB_CONCURRENCY", "2"))
worker_class = "gthread"
threads = int(os.getenv("WEB_THREADS", "4"))
# Connections kept open between requests, per worker: nginx's pool and direct clients.
worker_connections = 1000
keepalive = 75
# Only nginx on this host may say which scheme and client a request came from.
forwarded_allow_ips = "127.0.0.1"
# A computation or import runs on the Celery workers, never in a request.
timeout = 60
graceful_timeout = 30
