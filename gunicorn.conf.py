"""gunicorn's settings for fundapp, read from the working directory: `.venv/bin/gunicorn 'fundapp:create_app()'`.

Command-line flags override these. Measured in bench/public_pages.py (see bench/README.md):

- gthread workers keep connections alive: 1.6-4.6x the requests/s of sync workers on the public pages;
- reuse_port gives every worker a listening socket of its own, so the kernel spreads connections evenly. On one
  shared socket, one worker of two sometimes took almost every keep-alive connection and the server ran on one
  CPU: 716 requests/s instead of about 1,500 on the same fund page, in one run of four;
- gc.freeze() once the app is loaded: the ~250,000 objects of a loaded worker (modules, SQLAlchemy's and Jinja's
  structures) leave the collector's view, so no full collection walks them. Measured in process: a full
  collection paused a request for 104 ms (several hundred ms on a busy machine: the p99 spikes of the bench);
  frozen, no full collection happened in 6,000 requests and the slowest took 44 ms instead of 428.
"""

import gc
import os

bind = os.environ.get("FUNDAPP_BIND", "127.0.0.1:8000")
worker_class = "gthread"
workers = int(os.environ.get("WEB_CONCURRENCY", os.cpu_count() or 2))
threads = 4  # per worker; config.PUBLIC_VERSION_POOL_SIZE and the pool size follow this
reuse_port = True
accesslog = os.environ.get("FUNDAPP_ACCESS_LOG") or None  # a path, or "-" for stdout; off by default


def post_worker_init(worker):
    gc.collect()
    gc.freeze()
