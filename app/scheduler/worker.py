"""`python -m app.scheduler.worker`: the scheduler alone, no web server, for deployments whose
web workers (gunicorn) run without it. Stops on SIGTERM or SIGINT, letting a running job finish
so that its claim ends "done" or "failed" rather than waiting to go stale."""

from __future__ import annotations

import logging
import signal
import sys
import threading
from types import FrameType

from flask.cli import load_dotenv

from app import create_app
from app.scheduler import start_scheduler

log = logging.getLogger("app.scheduler.worker")


def main() -> int:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    load_dotenv()  # .env, as the `flask` command reads it; set variables win over the file
    # This process exists to schedule, so it does not depend on SCHEDULER_ENABLED being set.
    app = create_app(SCHEDULER_ENABLED=True)
    scheduler = start_scheduler(app)
    if scheduler is None:
        log.error("scheduler not started (TESTING is set)")
        return 1
    stop = threading.Event()

    def _stop(signum: int, _frame: FrameType | None) -> None:
        log.info("signal %s: stopping after running jobs finish", signum)
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    while not stop.wait(timeout=1.0):  # a timed wait keeps the main thread responsive
        pass
    scheduler.shutdown(wait=True)
    log.info("scheduler stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
