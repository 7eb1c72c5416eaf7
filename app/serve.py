"""`python -m app.serve`: the embedded server that `make run` uses, with the scheduler.

For production behind gunicorn, see app/wsgi.py and docs/deploy.md.
"""

from __future__ import annotations

import argparse
import logging

from werkzeug.serving import run_simple

from app import create_app
from app.scheduler import start_scheduler


def main() -> None:
    parser = argparse.ArgumentParser(description="Serve the app with its scheduler.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args()
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app()
    scheduler = start_scheduler(app)
    print(f"Serving on http://{args.host}:{args.port}  (scheduler {'on' if scheduler else 'off'})")
    try:
        # no reloader: it would fork a second process with a second scheduler
        run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


if __name__ == "__main__":
    main()
