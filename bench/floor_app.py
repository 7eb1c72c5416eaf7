"""The floor: a bare Flask + SQLAlchemy endpoint that inserts one row and answers JSON.
Whatever the real intake costs above this is ours."""

from __future__ import annotations

import contextlib
import os

import sqlalchemy as sa
from flask import Flask, jsonify, request

engine = sa.create_engine(os.environ["FLOOR_DATABASE_URL"])
metadata = sa.MetaData()
rows = sa.Table(
    "floor_rows",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    sa.Column("title", sa.String(200)),
)
# gunicorn imports this in both workers at once: the other one may create the table first
with contextlib.suppress(sa.exc.DBAPIError):
    metadata.create_all(engine)
if engine.dialect.name == "sqlite":
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA journal_mode=WAL")

    # the app's durability on SQLite (app/__init__.py): WAL synced at checkpoints, not at each
    # commit; a floor that synced every commit would wait on the disk and flatter the app
    @sa.event.listens_for(engine, "connect")
    def _pragmas(dbapi_connection: object, _record: object) -> None:
        cursor = dbapi_connection.cursor()  # type: ignore[attr-defined]
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()


app = Flask(__name__)


@app.post("/floor")
def floor() -> object:
    body = request.get_json()
    with engine.begin() as conn:
        new_id = conn.execute(sa.insert(rows).values(title=body["title"])).inserted_primary_key[0]
    return jsonify({"id": new_id}), 201
