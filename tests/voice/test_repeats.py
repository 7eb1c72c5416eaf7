"""Repeat detection: candidates found, ranked, linked, dismissed; counts for reports."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa

from app.core.audit import history
from app.core.errors import Conflict, NotFound, ValidationFailed
from app.core.scoping import Scope
from app.extensions import db
from app.issues.models import Category
from app.voice import repeats, services
from app.voice.models import VoiceRepeatDismissal
from app.voice.repeats import bigrams, similarity


def voice(world, text, *, customer=None, who=None, category=None, days_ago=0, **kw):
    v = services.record_voice(
        actor=who or world.agent,
        channel=kw.pop("channel", "hotline"),
        text=text,
        customer_id=(customer or world.customer).id if customer is not False else None,
        office_code=kw.pop("office_code", None if customer is not False else "SH"),
        category=category,
        occurred_at=datetime.now(UTC) - timedelta(days=days_ago),
        **kw,
    )
    db.session.commit()
    return v


def find(world, text, **kw):
    return repeats.find_candidates(Scope.for_user(world.agent), text=text, **kw)


@pytest.mark.parametrize(
    ("a", "b", "related"),
    [
        ("打印机卡纸，第三次了", "打印机又卡纸了，上周报过", True),
        ("上周报修的空调还是不制冷", "空调不制冷，已经报修过一次", True),
        ("交货延迟两周，要求赔偿", "客户投诉交货延迟", True),
        ("The invoice amount is wrong", "invoice amount was wrong again", True),
        ("发票开错了需要重开", "打印机又卡纸了，上周报过", False),
        ("客户要求开具增值税专用发票", "客户投诉安装人员态度差", False),
        ("客户反映设备经常死机", "客户要求上门培训", False),
    ],
)
def test_bigram_similarity_separates_repeats_from_strangers(a, b, related):
    score = similarity(bigrams(a), bigrams(b))
    assert (score >= repeats.THRESHOLD) is related, score


def test_candidates_of_the_same_customer_are_found_and_ranked(world):
    close = voice(world, "打印机卡纸，第三次了")
    looser = voice(world, "打印机有点问题，偶尔卡纸", days_ago=3)
    voice(world, "发票抬头开错了")  # same customer, unrelated: not offered
    voice(world, "打印机卡纸，第三次了", customer=world.customer_gz, who=world.agent_gz)
    found = find(world, "打印机又卡纸了，第三次", customer_id=world.customer.id)
    assert [c.id for c in found] == [close.id, looser.id]
    assert found[0].score > found[1].score
    assert found[0].same_customer and found[0].label == close.reference


def test_candidates_by_office_and_category_and_open_issues(world, new_issue):
    cat = db.session.scalar(sa.select(Category.id).where(Category.code == "product_quality"))
    other = voice(world, "设备无法开机，客户很着急", customer=False, category="product_quality")
    issue = new_issue(title="设备无法开机", description="通电后无反应")
    found = find(world, "设备无法开机", office_id=world.sh.id, category_id=cat)
    assert {(c.kind, c.id) for c in found} == {("voice", other.id), ("issue", issue["id"])}
    assert find(world, "设备无法开机") == []  # nothing to narrow by: nothing offered


def test_older_than_30_days_is_not_offered(world):
    voice(world, "打印机卡纸，第三次了", days_ago=31)
    assert find(world, "打印机卡纸，第三次了", customer_id=world.customer.id) == []


def test_linking_to_a_voice_joins_its_group_and_is_audited(world):
    first = voice(world, "打印机卡纸")
    second = voice(world, "打印机又卡纸")
    third = voice(world, "打印机还是卡纸")
    services.link_repeat_of_voice(actor=world.agent, voice_id=second.id, other_id=first.id)
    services.link_repeat_of_voice(actor=world.agent, voice_id=third.id, other_id=second.id)
    db.session.commit()
    assert third.repeat_of_id == first.id  # the group's first voice, one level deep
    assert [e.action for e in history("voice", third.id)] == ["create", "link_repeat"]
    with pytest.raises(Conflict):
        services.link_repeat_of_voice(actor=world.agent, voice_id=third.id, other_id=first.id)
    with pytest.raises(ValidationFailed):
        services.link_repeat_of_voice(actor=world.agent, voice_id=first.id, other_id=third.id)
    # the group is no longer offered to its members
    found = find(
        world,
        "打印机卡纸",
        customer_id=world.customer.id,
        exclude=repeats.exclusions_for(third),
    )
    assert found == []
    counts = repeats.repeat_counts(Scope.for_user(world.agent))
    assert counts.voices == {first.id: 2}


def test_a_group_root_marked_as_repeat_brings_its_repeats(world):
    a, b, c = voice(world, "卡纸一"), voice(world, "卡纸二"), voice(world, "卡纸三")
    services.link_repeat_of_voice(actor=world.agent, voice_id=b.id, other_id=a.id)
    services.link_repeat_of_voice(actor=world.agent, voice_id=a.id, other_id=c.id)
    db.session.commit()
    assert (a.repeat_of_id, b.repeat_of_id) == (c.id, c.id)
    services.unlink_repeat(actor=world.agent, voice_id=a.id)
    db.session.commit()
    assert a.repeat_of_id is None


def test_linking_to_an_issue_counts_for_the_issue(world, new_issue):
    issue = new_issue(title="打印机卡纸")
    raised_from = voice(world, "打印机卡纸，很着急")
    other = voice(world, "打印机又卡纸了")
    services.link_repeat_of_issue(actor=world.agent, voice_id=other.id, issue_id=issue["id"])
    db.session.commit()
    with pytest.raises(Conflict):
        services.link_repeat_of_issue(actor=world.agent, voice_id=other.id, issue_id=issue["id"])
    issue2 = services.raise_issue(
        actor=world.agent, voice_id=raised_from.id, title="卡纸", category="product_quality"
    )
    third = voice(world, "打印机卡纸又来了")
    services.link_repeat_of_voice(actor=world.agent, voice_id=third.id, other_id=raised_from.id)
    db.session.commit()
    counts = repeats.repeat_counts(Scope.for_user(world.agent))
    assert counts.issues == {issue["id"]: 1, issue2.id: 1}
    assert repeats.repeat_counts(Scope.for_user(world.agent_gz)).issues == {}
    later = repeats.repeat_counts(
        Scope.for_user(world.agent), since=datetime.now(UTC) + timedelta(hours=1)
    )
    assert later.issues == {} and later.voices == {}
    only = repeats.repeat_counts(Scope.for_user(world.agent), issue_ids=[issue2.id])
    assert only.issues == {issue2.id: 1}


def test_dismissed_candidates_are_not_offered_again_for_that_voice(world, new_issue):
    old = voice(world, "打印机卡纸，第三次了")
    issue = new_issue(title="打印机卡纸", description="")
    new = voice(world, "打印机又卡纸了，第三次")
    scope = Scope.for_user(world.agent)
    assert {(c.kind, c.id) for c in repeats.candidates_for_voice(scope, new)} == {
        ("voice", old.id),
        ("issue", issue["id"]),
    }
    assert services.dismiss_repeat(
        actor=world.agent, voice_id=new.id, target_kind="voice", target_id=old.id
    )
    assert not services.dismiss_repeat(
        actor=world.agent, voice_id=new.id, target_kind="voice", target_id=old.id
    )
    services.dismiss_repeat(
        actor=world.agent, voice_id=new.id, target_kind="issue", target_id=issue["id"]
    )
    db.session.commit()
    assert repeats.candidates_for_voice(scope, new) == []
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VoiceRepeatDismissal)) == 2
    # still offered for another voice
    another = voice(world, "打印机卡纸第三次了")
    assert old.id in [c.id for c in repeats.candidates_for_voice(scope, another)]
    assert [e.action for e in history("voice", new.id)][-2:] == ["dismiss_repeat"] * 2


def test_links_and_dismissals_respect_scope(world):
    mine = voice(world, "打印机卡纸")
    theirs = voice(world, "打印机卡纸", customer=world.customer_gz, who=world.agent_gz)
    with pytest.raises(ValidationFailed):
        services.link_repeat_of_voice(actor=world.agent, voice_id=mine.id, other_id=theirs.id)
    with pytest.raises(NotFound):
        services.link_repeat_of_voice(actor=world.agent, voice_id=theirs.id, other_id=mine.id)
    with pytest.raises(ValidationFailed):
        services.dismiss_repeat(
            actor=world.agent, voice_id=mine.id, target_kind="voice", target_id=theirs.id
        )
    with pytest.raises(ValidationFailed):
        services.dismiss_repeat(
            actor=world.agent, voice_id=mine.id, target_kind="customer", target_id=1
        )
