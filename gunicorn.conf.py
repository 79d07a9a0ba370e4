"""gunicorn's settings for fundapp, read from the working directory: `.venv/bin/gunicorn 'fundapp:create_app()'`.

Command-line flags override these. Measured in bench/public_pages.py (see bench/README.md):

- gthread workers keep connections alive: 1.6-4.6x the requests/s of sync workers on the public pages;
- reuse_port gives every worker a listening socket of its own, so the kernel spreads connections evenly. On one
  shared socket, one worker of two sometimes took almost every keep-alive connection and the server ran on one
  CPU: 716 requests/s instead of about 1,500 on the same fund page, in one run of four.
"""

import os

bind = os.environ.get("FUNDAPP_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
threads = 4  # per worker; config.PUBLIC_VERSION_POOL_SIZE and the pool size follow this
reuse_port = True
accesslog = os.environ.get("FUNDAPP_ACCESS_LOG") or None  # a path, or "-" for stdout; off by default
