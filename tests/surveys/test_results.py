"""Campaign results: figures from SQL, charts from the installed plotly, n, margins, small
sample marks, escaped comments."""

from __future__ import annotations

import plotly
import pytest
import sqlalchemy as sa

from app.extensions import db
from app.surveys import charts, scoring
from app.surveys.answers import link_for_token, record_response
from app.surveys.results import campaign_figures
from tests.surveys.conftest import GOOD

pytestmark = pytest.mark.committing


def _answer(sent, name, **answers):
    from app.db import utcnow

    link = link_for_token(sent["tokens"][name], utcnow())
    record_response(link, {**GOOD, **answers}, language="zh", now=utcnow())
    db.session.commit()


def test_figures_are_aggregated_and_scored(sent):
    _answer(sent, "王", quality="5", speed="3", nps="10")
    _answer(sent, "Amy", quality="4", speed="2", nps="6", comment="<b>慢</b>")
    f = campaign_figures(sent["campaign"])
    assert (f.invited, f.responded, f.response_rate) == (2, 2, 100.0)
    assert f.nps.value == 0.0 and f.nps.n == 2 and f.nps.small_sample
    assert f.csat.n == 4 and f.csat.value == 50.0  # 5, 4 of 5, 3, 2
    # quality mean 4.5 → 87.5, speed mean 2.5 → 37.5, weighted 60/40 → 67.5
    assert round(f.index.value, 1) == 67.5
    assert f.nps_counts == {10: 1, 6: 1} and f.rating_counts == {5: 1, 4: 1, 3: 1, 2: 1}
    body = f.as_dict()
    assert body["index"] == 67.5 and body["measures"]["index"]["small_sample"] is True


def test_charts_are_plain_figure_dicts():
    score = scoring.IndicatorScore("quality", 60, 1.0, 4.5, scoring.Estimate(87.5, 2, 9.8))
    fig = charts.indicator_chart([score], {"quality": "质量"}, "得分")
    assert fig["data"][0]["x"] == ["质量"] and fig["data"][0]["y"] == [87.5]
    assert fig["data"][0]["error_y"]["array"] == [9.8]
    nps = charts.nps_chart({0: 1, 8: 2, 10: 3}, "NPS")
    assert nps["data"][0]["y"] == [1, 0, 0, 0, 0, 0, 0, 0, 2, 0, 3]
    assert nps["data"][0]["marker"]["color"][0] == charts.DETRACTOR


def test_results_page_shows_charts_margins_and_escaped_comments(client, sent, world, login_as):
    _answer(sent, "王", nps="9", comment='<script>alert("x")</script>')
    login_as(world.om)
    html = client.get(f"/surveys/campaigns/{sent['campaign'].id}").get_data(as_text=True)
    assert f"/surveys/assets/plotly-{plotly.__version__}.min.js" in html
    assert "cdn" not in html.lower()
    assert 'id="figure-indicators"' in html and 'id="figure-nps"' in html
    assert "样本较小" in html and "(n = 1)" in html and "95 %" in html
    assert '<script>alert("x")' not in html and "&lt;script&gt;alert" in html
    js = client.get(f"/surveys/assets/plotly-{plotly.__version__}.min.js")
    assert js.status_code == 200 and b"plotly" in js.get_data()[:2000].lower()
    assert "immutable" in js.headers["Cache-Control"]
    js.close()
    assert client.get("/surveys/assets/plotly-0.0.0.min.js").status_code == 404


def test_no_charts_before_answers(client, sent, world, login_as):
    login_as(world.qa)
    html = client.get(f"/surveys/campaigns/{sent['campaign'].id}").get_data(as_text=True)
    assert "plotly" not in html and "尚无答卷" in html
    assert db.session.scalar(sa.select(sa.func.count()).select_from(sa.text("survey_answers"))) == 0
