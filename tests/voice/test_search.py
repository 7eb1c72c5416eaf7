"""Inbox search: a window of the newest rows first, the trigram index when that is not enough;
the answer is the same either way, page after page."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from app.core.errors import DomainError
from app.core.scoping import Scope
from app.extensions import db
from app.voice import queries, services


@pytest.fixture
def voices(world):
    base = datetime(2026, 11, 1, tzinfo=UTC)
    texts = [
        "很久以前：齿轮箱异响",  # oldest, beyond any small window
        *[f"设备无法开机，第{i}次" for i in range(6)],
        *[f"发票问题{i}" for i in range(6)],
    ]
    for i, text in enumerate(texts):
        services.record_voice(
            actor=world.agent,
            channel="hotline",
            text=text,
            customer_id=world.customer.id,
            occurred_at=base + timedelta(hours=i),
        )
    db.session.commit()
    return texts


def search(world, q, limit=4):
    texts, cursor = [], None
    while True:
        page = queries.list_voices(
            Scope.for_user(world.agent), queries.VoiceFilters(q=q), limit=limit, cursor=cursor
        )
        texts += [v.text for v in page.items]
        cursor = page.next_cursor
        if cursor is None:
            return texts


@pytest.mark.parametrize("window", [3, 5, 2000])
def test_the_answer_does_not_depend_on_the_scan_window(world, voices, monkeypatch, window):
    monkeypatch.setattr(queries, "SCAN_WINDOW", window)
    assert search(world, "无法开机") == [f"设备无法开机，第{i}次" for i in range(5, -1, -1)]
    assert search(world, "齿轮箱异响") == ["很久以前：齿轮箱异响"]  # only the index finds it
    assert search(world, "发票") == [f"发票问题{i}" for i in range(5, -1, -1)]  # 2 characters
    assert search(world, "没有这句话") == []


def test_a_bad_cursor_is_refused(world, voices):
    with pytest.raises(DomainError) as err:
        queries.list_voices(
            Scope.for_user(world.agent), queries.VoiceFilters(), limit=5, cursor="WyJ4IiwxXQ"
        )
    assert err.value.status == 400


def test_the_trigram_index_follows_edits_and_deletes(world, voices, monkeypatch):
    from app.voice.models import Voice

    monkeypatch.setattr(queries, "SCAN_WINDOW", 1)  # answered by the index, not the window

    voice = db.session.query(Voice).filter(Voice.text == "很久以前：齿轮箱异响").one()
    voice.text = "很久以前：主轴异响"
    db.session.commit()
    assert search(world, "齿轮箱异响") == []
    assert search(world, "主轴异响") == ["很久以前：主轴异响"]
    db.session.delete(voice)
    db.session.commit()
    assert search(world, "主轴异响") == []
