"""Third-party results: CSV/XLSX import into a campaign of a third-party survey, with
competitors, rejected rows named, re-import a no-op, results per company."""

from __future__ import annotations

import io

import pytest
import sqlalchemy as sa
from openpyxl import Workbook

from app.extensions import db
from app.surveys import campaigns, services
from app.surveys.models import ThirdPartyAnswer
from tests.surveys.helpers import design

CSV = (
    "external_id,company,quality,speed,nps,channel,comment\n"
    "r1,,5,4,9,展会,好\n"
    "r2,,4,4,10,朋友,\n"
    "r3,竞争对手A,2,3,3,展会,=cmd()\n"
    "r4,,9,4,9,展会,坏的评分\n"
    "r5,,5,,9,展会,缺少必答\n"
)


@pytest.fixture
def third(world):
    survey = services.create_survey(actor=world.qa, data=design(kind="third_party"))
    services.activate_survey(actor=world.qa, survey_id=survey.id)
    campaign = campaigns.create_campaign(actor=world.qa, survey_id=survey.id, name="2026 第三方")
    db.session.commit()
    return campaign


def _post(client, world, campaign_id, data, name="results.csv", who="qa"):
    return client.post(
        f"/api/v1/campaigns/{campaign_id}/import",
        data={"file": (io.BytesIO(data), name)},
        headers=world.h[who],
        content_type="multipart/form-data",
    )


def test_csv_import_with_competitors_and_rejections(client, world, third):
    response = _post(client, world, third.id, CSV.encode())
    body = response.get_json()
    assert response.status_code == 200, body
    assert body["created"] == 3 and body["duplicates"] == 0
    assert [r["row"] for r in body["rejected"]] == [5, 6]
    assert body["rejected"][0]["errors"] == {"quality": "1 to 5"}
    again = _post(client, world, third.id, CSV.encode()).get_json()
    assert again["created"] == 0 and again["duplicates"] == 3
    got = client.get(f"/api/v1/campaigns/{third.id}", headers=world.h["qa"]).get_json()
    ours, rival = got["companies"][""], got["companies"]["竞争对手A"]
    assert ours["nps"]["value"] == 100.0 and ours["nps"]["n"] == 2
    assert rival["nps"]["value"] == -100.0 and rival["csat"]["n"] == 2
    assert got["invited"] == 0  # nothing was sent for a third-party campaign
    text = db.session.scalar(
        sa.select(ThirdPartyAnswer.text).where(
            ThirdPartyAnswer.company == "竞争对手A", ThirdPartyAnswer.question_type == "text"
        )
    )
    assert text == "=cmd()"  # kept as given; exports neutralise formulas, storage does not


def test_xlsx_import(client, world, third):
    book = Workbook()
    sheet = book.active
    sheet.append(["external_id", "quality", "speed", "nps", "channel"])
    sheet.append(["x1", 5, 5, 10, "朋友"])
    buf = io.BytesIO()
    book.save(buf)
    body = _post(client, world, third.id, buf.getvalue(), name="r.xlsx").get_json()
    assert body["created"] == 1 and body["rejected"] == []


@pytest.mark.parametrize(
    ("data", "name", "status"),
    [
        (b"\xff\xfe\x00bad", "r.csv", 422),
        (b"not a workbook", "r.xlsx", 422),
        (b"a,b\n1,2\n", "r.txt", 422),
    ],
)
def test_bad_files_are_refused(client, world, third, data, name, status):
    assert _post(client, world, third.id, data, name=name).status_code == status
    assert db.session.scalar(sa.select(sa.func.count()).select_from(ThirdPartyAnswer)) == 0


def test_an_oversized_upload_is_413(client, world, third):
    response = client.post(
        f"/api/v1/campaigns/{third.id}/import",
        data=b"x" * (2 * 1024 * 1024),
        headers=world.h["qa"],
        content_type="multipart/form-data; boundary=zzz",
    )
    assert response.status_code == 413
    assert response.get_json()["error"]["code"] == "payload_too_large"


def test_only_third_party_campaigns_and_designers_import(client, world, third):
    assert _post(client, world, third.id, CSV.encode(), who="om").status_code == 403
    project = services.create_survey(actor=world.qa, data=design())
    services.activate_survey(actor=world.qa, survey_id=project.id)
    other = campaigns.create_campaign(actor=world.qa, survey_id=project.id, name="项目")
    db.session.commit()
    assert _post(client, world, other.id, CSV.encode()).status_code == 422
    missing = client.post(f"/api/v1/campaigns/{third.id}/import", headers=world.h["qa"])
    assert missing.status_code == 422


def test_import_page_and_comparison_table(client, world, third, login_as):
    login_as(world.qa)
    page = client.get(f"/surveys/campaigns/{third.id}").get_data(as_text=True)
    assert "尚未导入结果" in page and 'enctype="multipart/form-data"' in page
    from tests.conftest import csrf_from

    response = client.post(
        f"/surveys/campaigns/{third.id}/import",
        data={"csrf_token": csrf_from(page), "file": (io.BytesIO(CSV.encode()), "r.csv")},
        content_type="multipart/form-data",
        follow_redirects=True,
    )
    html = response.get_data(as_text=True)
    assert "导入 3 行" in html and "第 5 行" in html
    assert "竞争对手A" in html and "我方客户" in html
    login_as(world.om)
    assert "multipart" not in client.get(f"/surveys/campaigns/{third.id}").get_data(as_text=True)
