"""`python -m app.scheduler.worker`: the scheduler alone, for deployments whose web workers run
without it. Stops cleanly on SIGTERM/SIGINT."""

from __future__ import annotations

import logging
import signal
import threading
from typing import Any

from app import create_app
from app.scheduler import start_scheduler


def main() -> None:
    logging.basicConfig(
        level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s"
    )
    app = create_app(SCHEDULER_ENABLED=True)
    scheduler = start_scheduler(app)
    stop = threading.Event()

    def _stop(*_args: Any) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    stop.wait()
    if scheduler is not None:
        scheduler.shutdown(wait=True)


if __name__ == "__main__":
    main()
