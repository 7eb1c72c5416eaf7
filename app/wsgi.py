"""WSGI entry point: `gunicorn -w 4 -b 0.0.0.0:8000 'app.wsgi:app'`.

The scheduler starts here only in a process whose environment sets SCHEDULER_ENABLED. With
several workers leave it unset and run one `python -m app.scheduler.worker` beside them (see
docs/deploy.md); never combine it with `gunicorn --preload`, whose forked workers would not
inherit the scheduler thread.
"""

from flask.cli import load_dotenv

from app import create_app
from app.db import utcnow
from app.issues.sla import warm_up
from app.scheduler import start_scheduler

load_dotenv()  # .env, as the `flask` command reads it; the process environment wins
app = create_app()
warm_up(utcnow().year)  # the holiday tables now, not in each worker's first intake
scheduler = start_scheduler(app)
