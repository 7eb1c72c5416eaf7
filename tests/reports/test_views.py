"""Report pages, exports, the API and plotly.js: scope, escaping, formula neutralisation."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, datetime, timedelta

import plotly
from openpyxl import load_workbook

from app.extensions import db
from app.issues.models import Category
from tests.reports.conftest import W47_START

WEEK = {"week": "2026-W47"}
EVIL_ZH = '<script>alert("x")</script>'
EVIL_EN = '=HYPERLINK("http://evil","click")'


def _evil_category():
    category = Category(
        code="evil", name_zh=EVIL_ZH, name_en=EVIL_EN, dimension="service", position=99
    )
    db.session.add(category)
    db.session.flush()
    return category


def test_page_shows_figures_charts_and_tables(world, client, login_as, make_issue):
    _evil_category()
    make_issue(received_at=W47_START + timedelta(days=1), category="evil", title="-2+3")
    db.session.commit()
    login_as(world.om)
    html = client.get("/reports/weekly", query_string=WEEK).get_data(as_text=True)
    assert "2026-W47" in html and "2026-W46" in html
    assert 'id="report-mode"' in html  # live or snapshot is said
    assert f"/reports/plotly-{plotly.__version__}.min.js" in html
    assert "cdn" not in html.lower()
    # every chart has its figure (JSON) and a table view
    assert html.count('class="chart"') == html.count('class="table-view"') >= 9
    # the category name is escaped in the table and in the embedded figure JSON
    assert EVIL_ZH not in html
    assert "&lt;script&gt;alert" in html
    assert "\\u003cscript\\u003e" in html


def test_page_figure_json_is_plotly_and_carries_the_numbers(world, client, login_as, make_issue):
    make_issue(received_at=W47_START + timedelta(days=1))
    db.session.commit()
    login_as(world.om)
    html = client.get("/reports/weekly", query_string=WEEK).get_data(as_text=True)
    start = html.index('<script type="application/json" id="fig-headline">') + len(
        '<script type="application/json" id="fig-headline">'
    )
    figure = json.loads(html[start : html.index("</script>", start)])
    assert [t["type"] for t in figure["data"]] == ["bar", "bar"]
    assert figure["data"][1]["y"][0] == 1  # new this week


def test_regional_manager_drills_into_an_office(world, client, login_as):
    login_as(world.rm)
    html = client.get("/reports/weekly", query_string=WEEK).get_data(as_text=True)
    assert 'id="scope-rows"' in html
    assert "/reports/weekly?week=2026-W47&amp;office=SH" in html
    assert client.get("/reports/weekly?week=2026-W47&office=SH").status_code == 200


def test_xlsx_export_one_sheet_per_section_neutralised(world, client, login_as, make_issue):
    _evil_category()
    make_issue(
        received_at=W47_START - timedelta(days=10),
        category="evil",
        title="=1+2",
        resolve_due_at=W47_START,
    )
    db.session.commit()
    login_as(world.om)
    response = client.get("/reports/weekly", query_string={**WEEK, "format": "xlsx", "lang": "en"})
    assert response.status_code == 200
    assert response.mimetype.endswith("spreadsheetml.sheet")
    assert "attachment" in response.headers["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.data))
    assert len(book.sheetnames) >= 10
    cells = [c.value for ws in book for row in ws.iter_rows() for c in row if c.value is not None]
    texts = [c for c in cells if isinstance(c, str)]
    assert not [t for t in texts if t[0] in "=+-@\t\r"]
    assert "'" + EVIL_EN in texts and "'=1+2" in texts
    figures = book[book.sheetnames[0]]
    assert [c.value for c in figures[1]][:3] == ["Figure", "2026-W47", "2026-W46"]


def test_csv_export_has_headers_and_is_neutralised(world, client, login_as, make_issue):
    _evil_category()
    make_issue(received_at=W47_START + timedelta(days=1), category="evil")
    db.session.commit()
    login_as(world.om)
    response = client.get("/reports/weekly", query_string={**WEEK, "format": "csv", "lang": "en"})
    assert response.status_code == 200 and response.mimetype == "text/csv"
    rows = list(csv.reader(io.StringIO(response.data.decode("utf-8-sig"))))
    assert rows[0] == ["Figures"] and rows[1][:2] == ["Figure", "2026-W47"]
    flat = [cell for row in rows for cell in row]
    assert "'" + EVIL_EN in flat
    assert not [c for c in flat if c and c[0] in "=+@\t\r"]


def test_unknown_format_is_400(world, client, login_as):
    login_as(world.om)
    assert client.get("/reports/weekly?format=pdf").status_code == 400


def test_api_weekly_figures(world, client, make_issue):
    make_issue(received_at=W47_START + timedelta(days=1))
    db.session.commit()
    response = client.get("/api/v1/reports/weekly", query_string=WEEK, headers=world.h["om"])
    assert response.status_code == 200
    body = response.get_json()
    assert body["scope"] == {"kind": "office", "code": "SH", "name": world.sh.name}
    assert body["period"] == "2026-W47" and body["source"] == "live"
    for name in (
        "new",
        "closed",
        "open",
        "overdue",
        "escalated",
        "reopened",
        "sla_response_rate",
        "sla_resolution_rate",
        "csat",
        "voices",
    ):
        assert {"value", "previous"} <= set(body["figures"][name]), name
    assert body["figures"]["new"] == {
        "value": 1,
        "previous": 0,
        "change": 1,
        "n": None,
        "n_previous": None,
    }
    assert set(body["breakdowns"]) >= {"categories", "voices_by_channel", "ageing"}


def test_api_region_and_company(world, client):
    body = client.get("/api/v1/reports/weekly?region=EAST", headers=world.h["rm"]).get_json()
    assert body["scope"]["kind"] == "region" and [r["code"] for r in body["rows"]] == ["SH"]
    body = client.get("/api/v1/reports/weekly", headers=world.h["qa"]).get_json()
    assert body["scope"]["kind"] == "company"
    assert [r["code"] for r in body["rows"]] == ["EAST", "SOUTH"]


def test_plotly_js_is_served_from_the_package_with_caching(client):
    response = client.get(f"/reports/plotly-{plotly.__version__}.min.js")
    assert response.status_code == 200
    assert response.mimetype == "text/javascript"
    assert "immutable" in response.headers["Cache-Control"]
    assert b"plotly" in response.data[:2000].lower()
    response.close()
    assert client.get("/reports/plotly-0.0.1.min.js").status_code == 404


def test_reports_index_links_the_weekly_report(world, client, login_as):
    login_as(world.rm)
    html = client.get("/reports/").get_data(as_text=True)
    assert "/reports/weekly?week=" in html and "region=EAST" in html


def test_discussion_due_times_are_in_each_offices_time_zone(world, client, login_as, make_issue):
    """2026-11-10 16:00 UTC is 2026-11-11 00:00 in Shanghai and 2026-11-10 17:00 in Paris."""
    world.gz.timezone = "Europe/Paris"
    db.session.commit()
    due = datetime(2026, 11, 10, 16, 0, tzinfo=UTC)
    make_issue(received_at=due - timedelta(days=3), resolve_due_at=due)
    make_issue(world.gz, received_at=due - timedelta(days=3), resolve_due_at=due)
    db.session.commit()
    login_as(world.qa)
    html = client.get("/reports/weekly", query_string=WEEK).get_data(as_text=True)
    assert "2026-11-11 00:00 (Asia/Shanghai)" in html
    assert "2026-11-10 17:00 (Europe/Paris)" in html
    assert "2026-11-10 16:00" not in html
    data = client.get("/reports/weekly", query_string={**WEEK, "format": "csv"}).get_data(
        as_text=True
    )
    assert "2026-11-11 00:00 (Asia/Shanghai)" in data
