"""Exports of filtered issue and voice lists: scope, filters, neutralised cells, size limit."""

from __future__ import annotations

import csv
import io
from datetime import timedelta

from openpyxl import load_workbook

from app.extensions import db
from tests.reports.conftest import W47_START


def rows_of(response):
    return list(csv.reader(io.StringIO(response.get_data(as_text=True).lstrip("\ufeff"))))


def test_issue_list_export_is_scoped_filtered_and_neutralised(world, client, login_as, make_issue):
    mine = make_issue(title="=1+2", rating=None)
    make_issue(title="已解决", resolved_at=W47_START + timedelta(days=2))
    make_issue(world.gz, title="广州的问题")
    db.session.commit()
    login_as(world.om)
    response = client.get("/reports/export/issues?format=csv")
    assert response.status_code == 200 and "attachment" in response.headers["Content-Disposition"]
    rows = rows_of(response)
    assert rows[0][:3] == ["number", "title", "office"]
    titles = [r[1] for r in rows[1:]]
    assert sorted(titles) == ["'=1+2", "已解决"]
    handling = rows_of(client.get("/reports/export/issues?format=csv&status=handling"))
    assert [r[0] for r in handling[1:]] == [mine.number]
    assert client.get("/reports/export/issues?office=GZ").status_code == 404
    assert client.get("/reports/export/issues?status=bogus").status_code == 422
    assert client.get("/reports/export/issues?created_from=23/11").status_code == 422
    assert client.get("/reports/export/issues?format=pdf").status_code == 400


def test_issue_list_xlsx_and_region_scope(world, client, login_as, make_issue):
    make_issue(title="@SUM(A1)")
    make_issue(world.gz, title="广州")
    db.session.commit()
    login_as(world.qa)
    response = client.get("/reports/export/issues?format=xlsx&region=SOUTH")
    sheet = load_workbook(io.BytesIO(response.data)).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert values[0][0] == "number" and [v[1] for v in values[1:]] == ["广州"]
    everything = load_workbook(io.BytesIO(client.get("/reports/export/issues?format=xlsx").data))
    texts = [c.value for row in everything.active.iter_rows() for c in row]
    assert "'@SUM(A1)" in texts


def test_voice_list_export(world, client, login_as, make_voice):
    first = make_voice(channel="web", sentiment="negative", text="+cmd")
    make_voice(channel="web", sentiment="negative", repeat_of=first)
    make_voice(channel="hotline")
    make_voice(world.gz, channel="web")
    db.session.commit()
    login_as(world.rm)
    rows = rows_of(client.get("/reports/export/voices?channel=web"))
    assert rows[0][0] == "reference" and len(rows) == 3
    assert rows[1][9] == first.reference  # the newest is the repeat of the first
    assert rows[2][10].startswith("'+cmd")
    assert client.get("/reports/export/voices?sentiment=angry").status_code == 422
    assert client.get("/reports/export/voices?region=SOUTH").status_code == 404


def test_too_long_a_list_is_refused(world, client, login_as, make_issue, monkeypatch):
    from app.reports import list_exports

    make_issue()
    make_issue()
    db.session.commit()
    monkeypatch.setattr(list_exports, "MAX_ROWS", 1)
    login_as(world.om)
    assert client.get("/reports/export/issues").status_code == 413
    login_as(world.agent)
    assert client.get("/reports/export/issues").status_code == 403


def test_reports_index_links_the_list_exports(world, client, login_as):
    login_as(world.om)
    html = client.get("/reports/").get_data(as_text=True)
    assert "/reports/export/issues?format=csv&amp;status=handling&amp;office=SH" in html
    assert "/reports/export/voices?format=xlsx" in html
