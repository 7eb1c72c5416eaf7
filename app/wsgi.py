"""WSGI entry point: `gunicorn -w 4 'app.wsgi:app'`. The scheduler starts here only where
SCHEDULER_ENABLED is set; with several workers, prefer one `python -m app.scheduler.worker`."""

from app import create_app
from app.scheduler import start_scheduler

app = create_app()
scheduler = start_scheduler(app)
