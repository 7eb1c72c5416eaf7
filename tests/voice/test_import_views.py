"""Import pages: upload → preview with the mapping pre-filled → run → report; past imports,
resume, roles, CSRF, escaping."""

from __future__ import annotations

import io
import re

import pytest
import sqlalchemy as sa

from app.extensions import db
from app.voice.models import Voice, VoiceImport
from tests.conftest import csrf_from
from tests.voice.import_helpers import csv_bytes, xlsx_bytes

ROWS = [
    "反馈内容,日期,手机,批次",
    "电源模块退货,2026-11-23 14:05,13800138000,B1",
    ",2026-11-23,,B2",
    "<script>alert(1)</script>,2026-11-22,,B3",
]


@pytest.fixture(autouse=True)
def upload_dir(app, tmp_path, monkeypatch):
    monkeypatch.setitem(app.config, "VOICE_IMPORT_UPLOAD_DIR", str(tmp_path / "uploads"))
    return tmp_path / "uploads"


def upload(client, data, filename="returns.csv", channel="return", office="SH"):
    token = csrf_from(client.get("/voices/import/").get_data(as_text=True))
    return client.post(
        "/voices/import/",
        data={
            "csrf_token": token,
            "channel": channel,
            "office": office,
            "file": (io.BytesIO(data), filename),
        },
        content_type="multipart/form-data",
    )


def test_upload_preview_run_and_report(client, login_as, world, upload_dir):
    login_as(world.om)
    response = upload(client, csv_bytes(ROWS))
    assert response.status_code == 302
    preview_url = response.headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    assert "电源模块退货" in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "<script>alert(1)" not in page
    # pre-filled from the headers: 反馈内容 → text, 日期 → occurred_at, 手机 → phone, 批次 → batch
    for field, header in [
        ("text", "反馈内容"),
        ("occurred_at", "日期"),
        ("customer_phone", "手机"),
        ("batch", "批次"),
    ]:
        assert re.search(
            rf'<select[^>]*name="map_{field}".*?<option selected value="{header}">', page, re.S
        ), field
    form = {
        "csrf_token": csrf_from(page),
        "map_text": "反馈内容",
        "map_occurred_at": "日期",
        "map_customer_phone": "手机",
        "map_batch": "批次",
    }
    done = client.post(preview_url, data=form)
    assert done.status_code == 302
    report = client.get(done.headers["Location"]).get_data(as_text=True)
    assert 'id="created">2<' in report and 'id="rejected-count">1<' in report
    assert "<td>必填</td>" in report  # the row's problem in the page's language
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voice)) == 2
    # the uploaded file is gone, and the preview with it
    assert list(upload_dir.glob("*.upload")) == []
    assert client.get(preview_url).status_code == 404
    index = client.get("/voices/import/").get_data(as_text=True)
    assert "returns.csv" in index


def test_mapping_errors_show_on_the_preview(client, login_as, world):
    login_as(world.om)
    preview_url = upload(client, csv_bytes(ROWS)).headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    response = client.post(preview_url, data={"csrf_token": csrf_from(page), "map_text": ""})
    assert response.status_code == 422
    assert "mapping.text" in response.get_data(as_text=True)
    response = client.post(
        preview_url, data={"csrf_token": csrf_from(page), "map_text": "不存在的列"}
    )
    assert response.status_code == 422  # not one of the choices
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VoiceImport)) == 0


def test_unreadable_and_too_large_files_are_form_errors(client, login_as, world, app):
    login_as(world.om)
    response = upload(client, b"PK\x03\x04broken", filename="x.xlsx")
    assert response.status_code == 422
    assert "not a valid XLSX" in response.get_data(as_text=True)
    old = app.config["VOICE_IMPORT_MAX_BYTES"]
    app.config["VOICE_IMPORT_MAX_BYTES"] = 100
    try:
        response = upload(client, csv_bytes(ROWS * 5))
        assert response.status_code == 413
    finally:
        app.config["VOICE_IMPORT_MAX_BYTES"] = old


def test_csrf_is_required(client, login_as, world):
    login_as(world.om)
    response = client.post(
        "/voices/import/",
        data={"channel": "return", "office": "SH", "file": (io.BytesIO(csv_bytes(ROWS)), "a.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code in (400, 422)
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VoiceImport)) == 0


def test_roles_and_scope(client, login_as, world, make_user):
    login_as(world.agent)
    assert client.get("/voices/import/").status_code == 403
    login_as(world.om)
    assert upload(client, csv_bytes(ROWS), office="GZ").status_code == 422  # not a choice
    preview_url = upload(client, csv_bytes(ROWS)).headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    done = client.post(preview_url, data={"csrf_token": csrf_from(page), "map_text": "反馈内容"})
    report_url = done.headers["Location"]
    gz_manager = make_user("office_manager", office=world.gz)
    other = client.application.test_client()
    login_as(gz_manager, on=other)
    assert other.get(report_url).status_code == 404
    assert other.get(preview_url).status_code == 404  # another session's upload
    assert "returns.csv" not in other.get("/voices/import/").get_data(as_text=True)


def test_resume_an_interrupted_import_from_its_report(client, login_as, world):
    from tests.voice.import_helpers import do_import

    data = xlsx_bytes([["反馈内容"]] + [[f"第{i}条"] for i in range(12)])
    login_as(world.om)
    summary = do_import(world.om, data, {"text": "反馈内容"}, filename="r.xlsx")
    # pretend it stopped after 5 rows
    db.session.execute(sa.delete(Voice).where(Voice.import_row > 6))
    db.session.execute(sa.update(VoiceImport).values(status="running", next_row=5, created=5))
    db.session.commit()
    report_url = f"/voices/import/{summary.import_id}"
    page = client.get(report_url).get_data(as_text=True)
    assert 'id="resume"' in page
    response = client.post(
        f"{report_url}/resume",
        data={"csrf_token": csrf_from(page), "file": (io.BytesIO(b"other"), "r.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 422 and "not the same file" in response.get_data(as_text=True)
    response = client.post(
        f"{report_url}/resume",
        data={"csrf_token": csrf_from(page), "file": (io.BytesIO(data), "r.xlsx")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302
    page = client.get(report_url).get_data(as_text=True)
    assert 'id="created">12<' in page and 'id="resume"' not in page
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voice)) == 12


def test_uploading_a_file_again_says_it_was_imported(client, login_as, world):
    login_as(world.om)
    preview_url = upload(client, csv_bytes(ROWS)).headers["Location"]
    page = client.get(preview_url).get_data(as_text=True)
    client.post(preview_url, data={"csrf_token": csrf_from(page), "map_text": "反馈内容"})
    again = upload(client, csv_bytes(ROWS))
    page = client.get(again.headers["Location"]).get_data(as_text=True)
    assert "此文件以前导入过" in page
    db.session.execute(sa.update(VoiceImport).values(status="failed"))
    db.session.commit()
    third = upload(client, csv_bytes(ROWS))
    page = client.get(third.headers["Location"]).get_data(as_text=True)
    imp_id = db.session.scalars(sa.select(VoiceImport.id)).first()
    assert f"此文件有一次未完成的导入（第 {imp_id} 号）" in page


def test_row_problems_are_shown_in_the_page_language(client, login_as, world):
    from tests.voice.import_helpers import do_import

    data = csv_bytes(
        [
            "反馈内容,日期,类别,批次",
            "电源坏了,2026-13-45,,",
            "外壳划痕,昨天下午,,",
            "包装破损,2026-11-20,没有这个类别,",
            ",2026-11-20,,",
            "配件缺失,2026-11-20,," + "B" * 300,
            '"没有结束的引号,2026-11-20',
        ]
    )[:-2]
    mapping = {"text": "反馈内容", "occurred_at": "日期", "category": "类别", "batch": "批次"}
    summary = do_import(world.om, data, mapping)
    assert summary.rejected_count == 6
    login_as(world.om)
    url = f"/voices/import/{summary.import_id}"
    zh = client.get(url).get_data(as_text=True)
    for text in (
        "日期或时间不存在",
        "不是日期；请写成如 2026-11-23 14:05",
        "未知类别",
        "<td>必填</td>",
        "最多 200 个字符",
        "这一行在引号内结束（文件可能被截断）",
        "<td>整行</td>",
    ):
        assert text in zh, text
    assert "not a date" not in zh and "unknown category" not in zh
    en = client.get(url + "?lang=en").get_data(as_text=True)
    for text in (
        "not a real date or time",
        "not a date; write e.g. 2026-11-23 14:05",
        "unknown category",
        "<td>required</td>",
        "at most 200 characters",
        "the record ends inside a quoted field",
        "<td>Whole record</td>",
    ):
        assert text in en, text


def test_problems_stored_without_codes_are_shown_as_stored(client, login_as, world):
    from tests.voice.import_helpers import do_import

    summary = do_import(world.om, csv_bytes(["反馈内容", "好", ""]), {"text": "反馈内容"})
    imp = db.session.get(VoiceImport, summary.import_id)
    imp.rejected = [
        {"row": 7, "errors": {"text": "an older message"}},
        {"row": 8, "errors": {"text": "required"}, "codes": {"text": {"code": "nonsense"}}},
        {"row": 9, "errors": {"text": "x"}, "codes": {"text": {"code": "too_long", "params": 3}}},
    ]
    imp.rejected_count = 3
    db.session.commit()
    login_as(world.om)
    page = client.get(f"/voices/import/{summary.import_id}").get_data(as_text=True)
    assert "<td>an older message</td>" in page
    assert "<td>required</td>" in page  # an unknown code: the English as stored
    assert "<td>x</td>" in page  # parameters that do not fit: the same
