"""The error answers of app.core.web for input that reaches the database."""

from __future__ import annotations

from app.extensions import db


def test_a_nul_in_a_search_or_a_code_is_bad_input_never_a_500(client, world):
    """The fields people write answer 422 naming the field (app.core.fields); a NUL anywhere
    else reaches the database, which PostgreSQL refuses for text: a 400 there, and on SQLite
    (which stores NUL) the lookup merely finds nothing."""
    postgresql = db.engine.dialect.name == "postgresql"
    headers = world.h["agent"]
    for url in ("/api/v1/voices?q=a%00b", "/api/v1/customers?q=a%00b", "/api/v1/issues?q=a%00b"):
        r = client.get(url, headers=headers)
        assert r.status_code == (400 if postgresql else 200), url
        if postgresql:
            assert r.get_json()["error"]["code"] == "bad_request"
            assert "NUL" in r.get_json()["error"]["message"]
    body = {"channel": "web", "office": "S\x00H", "text": "网站打不开"}
    r = client.post("/api/v1/voices", json=body, headers=headers)
    assert r.status_code == (400 if postgresql else 422)
