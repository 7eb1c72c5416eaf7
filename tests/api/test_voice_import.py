"""POST /api/v1/voices/import: multipart file, channel, office, mapping → the summary."""

from __future__ import annotations

import io
import json

import sqlalchemy as sa

from app.extensions import db
from app.voice.models import Voice, VoiceImport
from tests.voice.import_helpers import csv_bytes, xlsx_bytes

URL = "/api/v1/voices/import"
MAPPING = {"text": "反馈内容", "occurred_at": "日期", "customer_phone": "手机", "batch": "批次"}
ROWS = [
    "反馈内容,日期,手机,批次",
    "电源模块退货,2026-11-23 14:05,13800138000,B1",
    ",2026-11-23,,B2",
    '"=HYPERLINK(""http://x"",""y"")",2026-11-22,,B3',
]


def post(client, headers, data=None, *, filename="returns.csv", mapping=None, **form):
    body = {
        "channel": "return",
        "office": "SH",
        "mapping": json.dumps(MAPPING if mapping is None else mapping),
        **form,
    }
    if data is not None:
        body["file"] = (io.BytesIO(data), filename)
    return client.post(URL, data=body, headers=headers, content_type="multipart/form-data")


def test_import_answers_the_summary_and_stores_the_rows(client, world):
    response = post(client, world.h["om"], csv_bytes(ROWS))
    assert response.status_code == 201, response.get_data(as_text=True)
    body = response.get_json()
    assert body["created"] == 2 and body["duplicates"] == 0 and body["status"] == "done"
    assert body["rejected"] == [
        {
            "row": 3,
            "errors": {"text": "required"},
            "codes": {"text": {"code": "required", "params": {}}},
        }
    ]
    texts = db.session.scalars(sa.select(Voice.text).order_by(Voice.import_row)).all()
    assert texts == ["电源模块退货", '=HYPERLINK("http://x","y")']
    again = post(client, world.h["om"], csv_bytes(ROWS)).get_json()
    assert (again["created"], again["duplicates"]) == (0, 2)


def test_xlsx_upload(client, world):
    data = xlsx_bytes([["反馈内容", "批次"], ["噪音大", "B9"]])
    response = post(
        client,
        world.h["qa"],
        data,
        filename="r.xlsx",
        mapping={"text": "反馈内容", "batch": "批次"},
    )
    assert response.status_code == 201
    assert response.get_json()["created"] == 1


def test_roles_that_may_not_import_get_403(client, world):
    for who in ("agent", "handler"):
        response = post(client, world.h[who], csv_bytes(ROWS))
        assert response.status_code == 403
        assert response.get_json()["error"]["code"] == "forbidden"
    assert db.session.scalar(sa.select(sa.func.count()).select_from(Voice)) == 0


def test_another_office_is_unknown(client, world):
    response = post(client, world.h["om"], csv_bytes(ROWS), office="GZ")
    assert response.status_code == 422
    assert response.get_json()["error"]["fields"] == {"office": "unknown office"}
    response = post(client, world.h["rm"], csv_bytes(ROWS), office="GZ")  # another region
    assert response.status_code == 422


def test_bad_mapping_channel_and_file_are_422_naming_the_field(client, world):
    h = world.h["om"]
    r = post(client, h, csv_bytes(ROWS), mapping={"text": "正文", "colour": "颜色"})
    assert r.status_code == 422
    assert set(r.get_json()["error"]["fields"]) == {"mapping.text", "mapping.colour"}
    r = post(client, h, csv_bytes(ROWS), mapping="[1]")
    assert r.status_code == 422
    r = client.post(
        URL,
        data={
            "channel": "return",
            "office": "SH",
            "mapping": "{nope",
            "file": (io.BytesIO(csv_bytes(ROWS)), "a.csv"),
        },
        headers=h,
    )
    assert r.status_code == 422 and "mapping" in r.get_json()["error"]["fields"]
    r = post(client, h, csv_bytes(ROWS), channel="fax")
    assert r.status_code == 422 and "channel" in r.get_json()["error"]["fields"]
    r = post(client, h, b"PK\x03\x04 not really a zip", filename="x.xlsx")
    assert r.status_code == 422 and "file" in r.get_json()["error"]["fields"]
    r = post(client, h, None)
    assert r.status_code == 422 and "file" in r.get_json()["error"]["fields"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VoiceImport)) == 0


def test_over_the_size_limit_is_413(app, client, world):
    old = app.config["VOICE_IMPORT_MAX_BYTES"]
    app.config["VOICE_IMPORT_MAX_BYTES"] = 2000
    try:
        data = csv_bytes(["反馈内容"] + ["很长的一行反馈" * 10] * 30)
        response = post(client, world.h["om"], data, mapping={"text": "反馈内容"})
        assert response.status_code == 413
        assert response.get_json()["error"]["code"] == "payload_too_large"
        # a body past the limit is refused from its length, before it is read
        from werkzeug.datastructures import FileStorage, MultiDict
        from werkzeug.test import encode_multipart

        big = FileStorage(io.BytesIO(b"x" * (2000 + 1024 * 1024 + 10)), "big.csv")
        boundary, body = encode_multipart(
            MultiDict({"channel": "return", "office": "SH", "mapping": "{}", "file": big})
        )
        response = client.post(
            URL,
            data=body,
            headers=world.h["om"],
            content_type=f"multipart/form-data; boundary={boundary}",
        )
        assert response.status_code == 413
        assert response.get_json()["error"]["code"] == "payload_too_large"
    finally:
        app.config["VOICE_IMPORT_MAX_BYTES"] = old


def test_needs_a_token(client, world):
    assert post(client, {}, csv_bytes(ROWS)).status_code == 401


def test_documented_in_openapi(client):
    spec = client.get("/api/v1/openapi.json").get_json()
    operation = spec["paths"]["/api/v1/voices/import"]["post"]
    assert {"201", "403", "413", "422"} <= set(operation["responses"])
