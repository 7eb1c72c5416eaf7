"""Imports every model module so that metadata is complete for Alembic and the tests."""

from app.auth import models as auth_models
from app.core import audit, outbox, versions
from app.customers import models as customer_models
from app.issues import models as issue_models
from app.org import models as org_models
from app.scheduler import models as scheduler_models

__all__ = [
    "audit",
    "auth_models",
    "customer_models",
    "issue_models",
    "org_models",
    "outbox",
    "scheduler_models",
    "versions",
]
