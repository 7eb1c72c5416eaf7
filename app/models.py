"""Imports every model module so that metadata is complete for Alembic and the tests."""

from app.actions import models as action_models
from app.auth import models as auth_models
from app.contacts import models as contact_models
from app.core import audit, outbox, versions
from app.core.ratelimit import RateCounter
from app.customers import models as customer_models
from app.issues import models as issue_models
from app.org import models as org_models
from app.reports import models as report_models
from app.scheduler import models as scheduler_models
from app.surveys import models as survey_models
from app.voice import models as voice_models
from app.warnings import models as warning_models

__all__ = [
    "RateCounter",
    "action_models",
    "audit",
    "auth_models",
    "contact_models",
    "customer_models",
    "issue_models",
    "org_models",
    "outbox",
    "report_models",
    "scheduler_models",
    "survey_models",
    "versions",
    "voice_models",
    "warning_models",
]
