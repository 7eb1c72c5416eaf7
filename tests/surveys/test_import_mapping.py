"""Third-party import with the agency's own column names mapped to ours."""

from __future__ import annotations

import io
import json

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.surveys import campaigns, services
from app.surveys.models import ThirdPartyAnswer
from tests.surveys.helpers import design

AGENCY = (
    "受访者编号,公司,交付质量,响应速度,推荐意愿,了解渠道,备注\n"
    "a1,,5,4,9,展会,好\n"
    "a2,竞品丙,2,3,4,朋友,\n"
)
MAPPING = {
    "受访者编号": "external_id",
    "公司": "company",
    "交付质量": "quality",
    "响应速度": "speed",
    "推荐意愿": "nps",
    "了解渠道": "channel",
    "备注": "comment",
}


@pytest.fixture
def third(world):
    survey = services.create_survey(actor=world.qa, data=design(kind="third_party"))
    services.activate_survey(actor=world.qa, survey_id=survey.id)
    campaign = campaigns.create_campaign(actor=world.qa, survey_id=survey.id, name="代理公司数据")
    db.session.commit()
    return campaign


def _post(client, world, campaign_id, mapping):
    data = {"file": (io.BytesIO(AGENCY.encode()), "agency.csv")}
    if mapping is not None:
        data["mapping"] = mapping if isinstance(mapping, str) else json.dumps(mapping)
    return client.post(
        f"/api/v1/campaigns/{campaign_id}/import",
        data=data,
        headers=world.h["qa"],
        content_type="multipart/form-data",
    )


def test_agency_columns_are_mapped_to_question_keys(client, world, third):
    body = _post(client, world, third.id, MAPPING).get_json()
    assert body == {"created": 2, "duplicates": 0, "rejected": []}
    rows = db.session.execute(
        sa.select(ThirdPartyAnswer.row_key, ThirdPartyAnswer.company, ThirdPartyAnswer.value)
        .where(ThirdPartyAnswer.question_type == "nps")
        .order_by(ThirdPartyAnswer.row_key)
    ).all()
    assert [tuple(r) for r in rows] == [("a1", None, 9), ("a2", "竞品丙", 4)]
    again = _post(client, world, third.id, MAPPING).get_json()
    assert again["created"] == 0 and again["duplicates"] == 2


def test_without_a_mapping_the_agency_file_is_rejected_row_by_row(client, world, third):
    body = _post(client, world, third.id, None).get_json()
    assert body["created"] == 0 and len(body["rejected"]) == 2


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ({"交付质量": "nonsense"}, "not a question key"),
        ({"交付质量": "quality", "响应速度": "quality"}, "two columns"),
        ({"不存在的列": "quality"}, "not in the file"),
        ("[1, 2]", "JSON"),
        ("{not json", "JSON"),
    ],
)
def test_bad_mappings_are_refused_and_nothing_is_written(client, world, third, mapping, message):
    response = _post(client, world, third.id, mapping)
    assert response.status_code == 422
    assert message in response.get_json()["error"]["fields"]["mapping"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ThirdPartyAnswer)) == 0


def test_the_page_form_takes_mapping_lines(client, world, third, login_as, post_form):
    login_as(world.qa)
    lines = "\n".join(f"{k} = {v}" for k, v in MAPPING.items())
    response = post_form(
        f"/surveys/campaigns/{third.id}",
        {"file": (io.BytesIO(AGENCY.encode()), "agency.csv"), "mapping": lines},
        action=f"/surveys/campaigns/{third.id}/import",
        content_type="multipart/form-data",
    )
    assert response.status_code in (302, 303)
    assert db.session.scalar(sa.select(sa.func.count(sa.distinct(ThirdPartyAnswer.row_key)))) == 2
