"""The campaign results page draws its charts with the plotly.js served by the app itself."""

from __future__ import annotations

from app.db import utcnow
from app.extensions import db
from app.surveys.answers import link_for_token, record_response
from tests.browser.test_issues import sign_in
from tests.surveys.conftest import GOOD, sent  # noqa: F401  (fixture)


def test_results_page_draws_charts_from_the_local_plotly(page, live_url, sent, tmp_path):  # noqa: F811
    for name, nps in (("王", "9"), ("Amy", "4")):
        link = link_for_token(sent["tokens"][name], utcnow())
        record_response(link, {**GOOD, "nps": nps}, language="zh", now=utcnow())
        db.session.commit()
    requested: list[str] = []
    page.on("request", lambda r: requested.append(r.url))
    sign_in(page, "om@sh.example.com")
    page.goto(f"/surveys/campaigns/{sent['campaign'].id}")
    page.locator("#chart-indicators .main-svg").first.wait_for()
    page.locator("#chart-nps .main-svg").first.wait_for()
    assert "样本较小" in page.content()
    page.screenshot(path=str(tmp_path / "results.png"), full_page=True)
    assert all(u.startswith(live_url) for u in requested), requested
