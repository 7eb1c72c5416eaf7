"""Survey design pages: list, design form with rows, preview, activate; roles and CSRF."""

from __future__ import annotations

import sqlalchemy as sa

from app.extensions import db
from app.surveys import services
from app.surveys.models import Survey
from tests.conftest import csrf_from
from tests.surveys.helpers import design


def _form(**over):
    data = {
        "title": "交付调查",
        "kind": "project",
        "i-0-key": "quality",
        "i-0-name_zh": "质量",
        "i-0-name_en": "Quality",
        "i-0-weight": "100",
        "q-0-key": "q1",
        "q-0-type": "rating5",
        "q-0-text_zh": "质量满意吗？",
        "q-0-text_en": "Quality?",
        "q-0-indicator": "quality",
        "q-0-required": "y",
        "q-1-key": "q2",
        "q-1-type": "choice",
        "q-1-text_zh": "渠道",
        "q-1-options": "展会\n朋友\n",
        # a blank row left over, and a removed one: both ignored
        "q-2-key": "",
        "q-2-type": "rating5",
        "q-3-key": "gone",
        "q-3-type": "text",
        "q-3-text_zh": "删掉",
        "q-3-remove": "y",
    }
    data.update(over)
    return data


def test_quality_admin_designs_a_survey_from_rows(client, world, login_as, post_form):
    login_as(world.qa)
    response = post_form("/surveys/new", _form())
    assert response.status_code == 302, response.get_data(as_text=True)
    survey = db.session.scalars(sa.select(Survey)).one()
    assert [q.key for q in survey.questions] == ["q1", "q2"]
    assert survey.questions[1].options == ["展会", "朋友"] and survey.weights() == {"quality": 100}
    html = client.get(f"/surveys/{survey.id}").get_data(as_text=True)
    assert "交付调查" in html and "启用" in html


def test_weights_not_100_on_the_page(client, world, login_as, post_form):
    login_as(world.qa)
    response = post_form("/surveys/new", _form(**{"i-0-weight": "90"}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "指标权重之和必须为 100 %" in html
    assert 'value="交付调查"' in html and "质量满意吗？" in html  # input kept
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Survey)) == 0


def test_row_errors_point_at_the_row(client, world, login_as, post_form):
    login_as(world.qa)
    response = post_form("/surveys/new", _form(**{"q-1-options": "只有一个"}))
    html = response.get_data(as_text=True)
    assert response.status_code == 422 and "a choice needs 2 to 20 options" in html


def test_editing_an_active_survey_on_the_page_makes_version_2(client, world, login_as, post_form):
    survey = services.create_survey(actor=world.qa, data=design())
    services.activate_survey(actor=world.qa, survey_id=survey.id)
    db.session.commit()
    login_as(world.qa)
    page = client.get(f"/surveys/{survey.id}/edit").get_data(as_text=True)
    assert "保存将创建新的草稿版本" in page and 'value="quality"' in page
    response = post_form(f"/surveys/{survey.id}/edit", _form(title="第二版"))
    assert response.status_code == 302
    titles = {s.version: (s.title, s.status) for s in db.session.scalars(sa.select(Survey))}
    assert titles == {1: ("项目交付满意度调查", "active"), 2: ("第二版", "draft")}


def test_preview_shows_the_customer_view_escaped(client, world, login_as):
    data = design()
    data["questions"][0]["text"] = "<script>alert(1)</script>质量"
    survey = services.create_survey(actor=world.qa, data=data)
    db.session.commit()
    login_as(world.om)
    html = client.get(f"/surveys/{survey.id}/preview").get_data(as_text=True)
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)&lt;/script&gt;质量" in html
    assert "非常满意" in html and 'name="nps" value="10"' in html and "展会" in html
    en = client.get(f"/surveys/{survey.id}/preview?lang=en").get_data(as_text=True)
    assert "How satisfied are you with our speed?" in en
    assert "http://" not in en.replace("http://localhost", "") and "https://" not in en


def test_managers_read_only_agents_forbidden(client, world, login_as, post_form):
    survey = services.create_survey(actor=world.qa, data=design())
    db.session.commit()
    login_as(world.om)
    listing = client.get("/surveys/").get_data(as_text=True)
    assert "项目交付满意度调查" in listing and "新建调查" not in listing
    assert client.get("/surveys/new").status_code == 403
    assert client.get(f"/surveys/{survey.id}/edit").status_code == 403
    page = client.get(f"/surveys/{survey.id}").get_data(as_text=True)
    assert (
        client.post(
            f"/surveys/{survey.id}/activate", data={"csrf_token": csrf_from(page)}
        ).status_code
        == 403
    )
    login_as(world.agent)
    assert client.get("/surveys/").status_code == 403


def test_activate_needs_csrf(client, world, login_as):
    survey = services.create_survey(actor=world.qa, data=design())
    db.session.commit()
    login_as(world.qa)
    assert client.post(f"/surveys/{survey.id}/activate").status_code == 400
    page = client.get(f"/surveys/{survey.id}").get_data(as_text=True)
    response = client.post(f"/surveys/{survey.id}/activate", data={"csrf_token": csrf_from(page)})
    assert response.status_code == 302
    assert db.session.get(Survey, survey.id).status == "active"
