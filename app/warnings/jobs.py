"""`early-warning`: every day at 07:00 (TIMEZONE), before the office opens, the watch list is
brought up to date and office managers hear of new warnings. Claimed per day by the runner, so
two schedulers or a manual re-run do not send the digest twice; the digest's outbox key is per
day as well."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from app.scheduler.registry import daily, register_job
from app.warnings import services


@register_job(
    "early-warning",
    cron={"hour": "7", "minute": "0"},
    period=daily,
    description="Customers at risk: refresh the watch list and tell office managers.",
)
def early_warning(now: datetime) -> dict[str, Any]:
    return services.refresh(now).summary()
