"""Jobs registered for a test only, removed from the one registry afterwards."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

import pytest

from app.scheduler import registry


@pytest.fixture
def temp_job() -> Iterator[Callable[..., Callable[[datetime], dict[str, Any]]]]:
    added: list[str] = []

    def add(
        name: str,
        func: Callable[[datetime], dict[str, Any]],
        period: registry.PeriodFunc = registry.weekly,
    ) -> Callable[[datetime], dict[str, Any]]:
        added.append(name)
        return registry.register_job(
            name, cron={"minute": "0"}, period=period, description=f"test job {name}"
        )(func)

    yield add
    for name in added:
        registry.JOBS.pop(name, None)
