"""`python -m app.serve [--host 127.0.0.1] [--port 5000]`: the server that `make run` uses.

One process serves HTTP with werkzeug's threaded server (no reloader: a reloader would fork a
second process with a second scheduler) and, when SCHEDULER_ENABLED is set, runs the scheduler
in a background thread. For gunicorn and several workers see app/wsgi.py and docs/deploy.md.
"""

from __future__ import annotations

import argparse
import logging
import signal
from types import FrameType

from flask.cli import load_dotenv
from werkzeug.serving import run_simple

from app import create_app
from app.db import utcnow
from app.issues.sla import warm_up
from app.scheduler import start_scheduler

log = logging.getLogger("app.serve")


def _stop_on_sigterm(_signum: int, _frame: FrameType | None) -> None:
    raise SystemExit(0)  # unwinds through `finally`, which stops the scheduler


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Serve the app, with its scheduler.")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=5000)
    args = parser.parse_args(argv)
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    load_dotenv()  # .env, as the `flask` command reads it; set variables win over the file
    app = create_app()
    warm_up(utcnow().year)  # the holiday tables now, not in the first intake
    scheduler = start_scheduler(app)
    log.info(
        "serving on http://%s:%s (scheduler %s)",
        args.host,
        args.port,
        "on" if scheduler else "off: SCHEDULER_ENABLED is not set",
    )
    signal.signal(signal.SIGTERM, _stop_on_sigterm)
    try:
        run_simple(args.host, args.port, app, threaded=True, use_reloader=False)
    finally:
        if scheduler is not None:
            scheduler.shutdown(wait=False)


if __name__ == "__main__":
    main()
