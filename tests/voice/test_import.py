"""Bulk import of voices: files as people send them, row rules, dedup, resume."""

from __future__ import annotations

import io
import pickle
import re
import zipfile
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa

from app.core.audit import AuditEvent
from app.core.errors import Conflict, Forbidden, ValidationFailed
from app.extensions import db
from app.voice.importers import FileTooLarge, Formula, Limits, UnreadableFile, cell_text
from app.voice.imports import prepare_import, prepare_resume, run_import
from app.voice.models import Voice, VoiceImport
from tests.voice.import_helpers import csv_bytes, do_import, rewrite_xlsx, xlsx_bytes

MAP = {"text": "内容", "occurred_at": "日期", "customer_phone": "电话", "batch": "批次"}
HEADER = "内容,日期,电话,批次"


def voices():
    return db.session.scalars(sa.select(Voice).order_by(Voice.import_row)).all()


def test_a_csv_is_imported_with_customers_matched_and_details_kept(world):
    data = csv_bytes(
        [
            HEADER,
            "电源模块开机无反应,2026-11-23 14:05,138 0013 8000,B2026-11",
            "外壳有划痕,2026/11/22,186 1234 5678,B2026-10",
            "包装破损,2026年11月21日,,",
        ]
    )
    summary = do_import(world.om, data, MAP)
    assert (summary.created, summary.duplicates, summary.rejected) == (3, 0, [])
    assert summary.status == "done" and summary.total_rows == 3
    first, second, third = voices()
    assert first.customer_id == world.customer.id  # matched by the normalised phone
    assert first.occurred_at == datetime(2026, 11, 23, 6, 5, tzinfo=UTC)  # Shanghai time
    assert first.details == {"batch": "B2026-11"}
    assert first.kind == "passive" and first.office_id == world.sh.id
    assert first.import_row == 2 and first.created_by_id == world.om.id
    # an unknown phone is no error: no customer, the phone kept as contact
    assert second.customer_id is None and second.contact_phone == "186 1234 5678"
    assert third.occurred_at == datetime(2026, 11, 20, 16, 0, tzinfo=UTC)


def test_one_audit_row_per_import_with_its_counts(world):
    data = csv_bytes([HEADER] + [f"第{i}条反馈,2026-11-2{i % 9},," for i in range(30)])
    summary = do_import(world.om, data, MAP, batch_size=7)
    events = db.session.scalars(
        sa.select(AuditEvent).where(AuditEvent.entity_type.in_(["voice", "voice_import"]))
    ).all()
    assert [(e.entity_type, e.entity_id, e.action) for e in events] == [
        ("voice_import", summary.import_id, "import")
    ]
    assert events[0].changes["created"] == 30 and events[0].changes["rejected"] == 0


def test_customer_matched_by_exact_name_when_no_phone(world):
    data = csv_bytes(["内容,客户", "希望增加夜间服务,张伟", "希望增加夜间服务,李娜"])
    do_import(world.om, data, {"text": "内容", "customer_name": "客户"})
    zhang, li = voices()
    assert zhang.customer_id == world.customer.id
    # 李娜 is a customer of another office: not matched, kept as the contact's name
    assert li.customer_id is None and li.contact_name == "李娜"


def test_a_phone_of_another_offices_customer_matches_nobody(world):
    """Rows are matched to customers of the import's office only: a GZ customer's phone in an
    SH import stays contact details, the row is not filed about the GZ customer."""
    data = csv_bytes(["内容,电话", "发票开错了,139 0013 9000", "发票开错了两次,13800138000"])
    summary = do_import(world.qa, data, {"text": "内容", "customer_phone": "电话"})
    assert (summary.created, summary.rejected) == (2, [])
    gz_phone, sh_phone = voices()
    assert gz_phone.customer_id is None and gz_phone.contact_phone == "139 0013 9000"
    assert sh_phone.customer_id == world.customer.id and sh_phone.office_id == world.sh.id


def test_rows_with_control_characters_are_rejected_and_the_rest_imported(world):
    """A NUL (which PostgreSQL text cannot hold) or another control character in any stored or
    looked-up cell: that row is reported, as the API would refuse the same text; the file's
    other rows are imported, on either engine."""
    mapping = {**MAP, "customer_name": "客户"}
    data = csv_bytes(
        [
            HEADER + ",客户",
            "正常的一行,2026-11-23,,,",
            "电源\x00模块,2026-11-23,,,",
            "包装破损,2026-11-23,,B\x1b1,",
            "外壳划痕,2026-11-23,,,张\x00伟",
            "第二行正常\t带制表符,2026-11-23,,,",
        ]
    )
    summary = do_import(world.om, data, mapping)
    assert summary.status == "done" and summary.created == 2
    found = "must not contain control characters (found %s)"
    assert summary.rejected == [
        {
            "row": 3,
            "errors": {"text": found % "U+0000"},
            "codes": {"text": {"code": "control_character", "params": {"char": "U+0000"}}},
        },
        {
            "row": 4,
            "errors": {"batch": found % "U+001B"},
            "codes": {"batch": {"code": "control_character", "params": {"char": "U+001B"}}},
        },
        {
            "row": 5,
            "errors": {"customer_name": found % "U+0000"},
            "codes": {"customer_name": {"code": "control_character", "params": {"char": "U+0000"}}},
        },
    ]
    assert [v.text for v in voices()] == ["正常的一行", "第二行正常\t带制表符"]


def test_xlsx_cannot_carry_control_characters_into_a_voice(world):
    """XML 1.0 forbids them: a character reference to one makes the workbook unreadable (422,
    nothing stored), and the `_x0000_` escape some writers use stays the text it is."""
    base = xlsx_bytes([["内容"], ["PLACEHOLDER"], ["正常"]])
    sheet = zipfile.ZipFile(io.BytesIO(base)).read("xl/worksheets/sheet1.xml")
    for reference in (b"&#0;", b"&#11;"):
        data = rewrite_xlsx(
            base, {"xl/worksheets/sheet1.xml": sheet.replace(b"PLACEHOLDER", b"a" + reference)}
        )
        with pytest.raises(UnreadableFile):
            do_import(world.om, data, {"text": "内容"}, filename="v.xlsx")
        db.session.rollback()
    data = rewrite_xlsx(
        base, {"xl/worksheets/sheet1.xml": sheet.replace(b"PLACEHOLDER", b"bad_x0000_cell")}
    )
    summary = do_import(world.om, data, {"text": "内容"}, filename="v.xlsx")
    assert summary.created == 2 and voices()[0].text == "bad_x0000_cell"


def test_an_upload_name_with_control_characters_is_kept_without_them(world):
    data = csv_bytes(["内容", "正常"])
    summary = do_import(world.om, data, {"text": "内容"}, filename="ret\x00urns\x1b.csv")
    assert db.session.get(VoiceImport, summary.import_id).filename == "returns.csv"


def test_last_record_cut_mid_quote_is_a_rejected_row_not_an_error(world):
    data = csv_bytes([HEADER, "正常一行,2026-11-23,,", '"被截断的一行,2026-11-23'])[:-2]
    summary = do_import(world.om, data, MAP)
    assert summary.created == 1
    assert summary.rejected == [
        {
            "row": 3,
            "errors": {
                "record": "the record ends inside a quoted field (the file may be cut short)"
            },
            "codes": {"record": {"code": "record_cut_off", "params": {}}},
        }
    ]


@pytest.mark.parametrize("encoding", ["gbk", "gb18030"])
def test_gbk_file_is_detected(world, encoding):
    data = csv_bytes([HEADER, "电源模块退货，开机无反应,2026-11-23,,B1"], encoding=encoding)
    with pytest.raises(UnicodeDecodeError):
        data.decode("utf-8")
    do_import(world.om, data, MAP)
    assert voices()[0].text == "电源模块退货，开机无反应"


def test_bom_at_the_start_and_inside_a_field_is_stripped(world):
    data = csv_bytes([HEADER, "\ufeff屏幕\ufeff闪烁,2026-11-23,,\ufeffB7"], bom=True)
    summary = do_import(world.om, data, MAP)  # the header "内容" is found despite the BOM
    assert summary.created == 1
    voice = voices()[0]
    assert voice.text == "屏幕闪烁" and voice.details == {"batch": "B7"}


@pytest.mark.parametrize(("delimiter", "name"), [("\t", "tab"), (";", "semicolon")])
def test_delimiter_is_sniffed(world, delimiter, name):
    lines = [
        HEADER.replace(",", delimiter),
        delimiter.join(["含逗号, 的文本", "2026-11-23", "", "B1"]),
    ]
    summary = do_import(world.om, csv_bytes(lines), MAP)
    assert summary.created == 1, name
    assert voices()[0].text == "含逗号, 的文本"


def test_row_rules_are_record_voices_rules(world):
    long_ok, too_long = "长" * 20_000, "长" * 20_001
    data = csv_bytes(
        [
            "内容,日期,维度,情感,类别",
            f"{long_ok},2026-11-23,产品,负面,product_quality",
            f"{too_long},2026-11-23,,,",
            "   ,2026-11-23,,,",
            "有效,明天下午,价格,愤怒,nope",
            "有效,2099-01-01,,,",
            "按中文类别,2026-11-23,,正面,产品质量",
        ]
    )
    mapping = {
        "text": "内容",
        "occurred_at": "日期",
        "dimension": "维度",
        "sentiment": "情感",
        "category": "类别",
    }
    summary = do_import(world.om, data, mapping)
    assert summary.created == 2 and summary.rejected_count == 4
    by_row = {r["row"]: r["errors"] for r in summary.rejected}
    assert by_row[3] == {"text": "at most 20000 characters"}
    assert by_row[4] == {"text": "required"}
    assert set(by_row[5]) == {"occurred_at", "dimension", "sentiment", "category"}
    assert by_row[5]["dimension"] == "one of product, service, brand"
    assert by_row[6] == {"occurred_at": "cannot be in the future"}
    stored = voices()
    assert len(stored[0].text) == 20_000 and stored[0].dimension == "product"
    assert stored[0].sentiment == "negative" and stored[0].classified_by == "staff"
    assert stored[1].category.code == "product_quality" and stored[1].sentiment == "positive"


FORMULAS = ['=HYPERLINK("http://x","y")', "+cmd|' /C calc'!A0", "@SUM(1)", "-1+1"]


def test_formula_looking_cells_are_kept_exactly_as_text(world):
    lines = ["内容"] + ['"' + f.replace('"', '""') + '"' for f in FORMULAS]
    do_import(world.om, csv_bytes(lines), {"text": "内容"})
    assert [v.text for v in voices()] == FORMULAS


def test_formula_looking_strings_in_xlsx_are_kept_as_text(world):
    """openpyxl writes a string starting with = as a true formula cell (with no value computed
    for it): it is kept as the formula typed, like the text cells after it."""
    naive = [datetime(2026, 11, 23, 9, i) for i in range(4)]  # noqa: DTZ001 (Excel cells)
    data = xlsx_bytes([["内容", "日期"]] + [[f, naive[i]] for i, f in enumerate(FORMULAS)])
    summary = do_import(world.om, data, {"text": "内容", "occurred_at": "日期"}, filename="v.xlsx")
    assert summary.created == 4
    assert [v.text for v in voices()] == FORMULAS
    # an Excel date cell is a naive time in the office's zone
    assert voices()[0].occurred_at == datetime(2026, 11, 23, 1, 0, tzinfo=UTC)


def with_cached_values(data: bytes, cells: dict[str, bytes]) -> bytes:
    """The workbook with some cells turned into formulas carrying the value Excel computed at
    its last save (`<f>` and `<v>`), as a file saved by Excel has them; openpyxl writes none."""
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    for ref, xml in cells.items():
        sheet, n = re.subn(rb'<c r="' + ref.encode() + rb'"[^>]*?(/>|>.*?</c>)', xml, sheet)
        assert n == 1, ref
    return rewrite_xlsx(data, {"xl/worksheets/sheet1.xml": sheet})


@pytest.mark.parametrize("workers", [1, 2], ids=["in-process", "pool"])
def test_a_formula_keeps_its_text_in_the_voice_and_its_computed_value_elsewhere(world, workers):
    """Excel saves a formula with the value it showed: the voice's text keeps the formula the
    sender typed (a cached "y" would hide the link), the other columns the value the sender saw
    (a date, an amount)."""
    when = datetime(2026, 11, 23, 9, 30)  # noqa: DTZ001 (an Excel date cell)
    base = xlsx_bytes([["内容", "日期", "金额"], ["placeholder", when, 150]])
    data = with_cached_values(
        base,
        {
            "A2": b'<c r="A2" t="str"><f>HYPERLINK("http://x","y")</f><v>y</v></c>',
            "C2": b'<c r="C2"><f>A9*2</f><v>300</v></c>',
        },
    )
    # the date cell keeps its style (a date), now computed by a formula
    sheet = zipfile.ZipFile(io.BytesIO(data)).read("xl/worksheets/sheet1.xml")
    date_cell = re.search(rb'<c r="B2"([^>]*)><v>([^<]*)</v></c>', sheet)
    data = with_cached_values(
        data,
        {
            "B2": b'<c r="B2"'
            + date_cell.group(1)
            + b"><f>TODAY()</f><v>"
            + date_cell.group(2)
            + b"</v></c>"
        },
    )
    mapping = {"text": "内容", "occurred_at": "日期", "amount": "金额"}
    summary = do_import(
        world.om, data, mapping, channel="sales_report", filename="s.xlsx", workers=workers
    )
    assert (summary.created, summary.rejected) == (1, [])
    [voice] = voices()
    assert voice.text == '=HYPERLINK("http://x","y")'
    assert voice.occurred_at == datetime(2026, 11, 23, 1, 30, tzinfo=UTC)
    assert voice.details == {"amount": "300"}


def test_a_formula_without_a_computed_value_is_its_text_everywhere(world):
    data = xlsx_bytes([["内容", "金额"], ["退货", "=A9*2"]])
    summary = do_import(world.om, data, {"text": "内容", "amount": "金额"}, filename="s.xlsx")
    assert summary.created == 1 and voices()[0].details == {"amount": "=A9*2"}


def test_formula_cells_travel_to_the_row_building_processes():
    cell = Formula("=A1*2", 300)
    again = pickle.loads(pickle.dumps(cell))  # noqa: S301 (our own bytes, as the pool sends them)
    assert (type(again), again, again.computed) == (Formula, "=A1*2", 300)
    assert cell_text(cell) == "=A1*2" and type(cell_text(cell)) is str


def test_xlsx_with_excel_dates_numbers_and_details(world):
    data = xlsx_bytes(
        [
            ["反馈内容", "时间", "电话", "批次", "型号"],
            ["无法充电", datetime(2026, 11, 20, 14, 5, 9), 13800138000, "B-1", 3000],  # noqa: DTZ001
            [None, None, None, None, None],
            ["噪音大", "2026.11.21", None, "B-2", "X1"],
        ]
    )
    mapping = {
        "text": "反馈内容",
        "occurred_at": "时间",
        "customer_phone": "电话",
        "batch": "批次",
        "model": "型号",
    }
    summary = do_import(world.om, data, mapping, filename="returns.xlsx")
    assert (summary.created, summary.rejected) == (2, [])  # the blank row is skipped
    first, second = voices()
    assert first.customer_id == world.customer.id
    assert first.details == {"batch": "B-1", "model": "3000"}
    assert second.import_row == 4


def huge_sheet(rows: int) -> bytes:
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>'
    return (
        b'<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">'
        b"<sheetData>" + row * rows + b"</sheetData></worksheet>"
    )


def test_xlsx_zip_bomb_is_refused_before_parsing(world):
    base = xlsx_bytes([["内容"], ["正常"]])
    bomb = rewrite_xlsx(base, {"xl/worksheets/sheet1.xml": huge_sheet(1_500_000)})
    assert len(bomb) < 1024 * 1024  # ~75 MB of XML in a few hundred KB
    with pytest.raises(UnreadableFile) as err:
        do_import(world.om, bomb, {"text": "内容"}, filename="bomb.xlsx")
    assert "zip bomb" in err.value.fields["file"]
    small_limit = Limits(max_uncompressed=1024)
    with pytest.raises(UnreadableFile) as err2:
        do_import(world.om, base, {"text": "内容"}, filename="v.xlsx", limits=small_limit)
    assert "unpacks to more" in err2.value.fields["file"]
    assert db.session.scalar(sa.select(sa.func.count()).select_from(VoiceImport)) == 0


def test_xlsx_external_entity_is_not_resolved(world, tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP-SECRET-CONTENT")
    base = xlsx_bytes([["内容"], ["placeholder"]])
    import io
    import zipfile

    sheet = zipfile.ZipFile(io.BytesIO(base)).read("xl/worksheets/sheet1.xml").decode()
    hostile = (
        f'<?xml version="1.0"?><!DOCTYPE worksheet [<!ENTITY xxe SYSTEM "file://{secret}">]>'
        + sheet.replace("placeholder", "&xxe;")
    )
    data = rewrite_xlsx(base, {"xl/worksheets/sheet1.xml": hostile.encode()})
    with pytest.raises(UnreadableFile):
        do_import(world.om, data, {"text": "内容"}, filename="x.xlsx")
    texts = db.session.scalars(sa.select(Voice.text)).all()
    assert not any("TOP-SECRET" in t for t in texts)


def test_limits_on_size_rows_and_columns(world):
    data = csv_bytes([HEADER] + ["文本,2026-11-23,,"] * 5)
    with pytest.raises(FileTooLarge):
        do_import(world.om, data, MAP, limits=Limits(max_bytes=50))
    with pytest.raises(UnreadableFile, match="more than 4 rows"):
        do_import(world.om, data, MAP, limits=Limits(max_rows=4))
    with pytest.raises(UnreadableFile, match="more than 3 columns"):
        do_import(world.om, data, MAP, limits=Limits(max_columns=3))
    with pytest.raises(UnreadableFile, match="neither UTF-8 nor GBK"):
        do_import(world.om, b"\xff\xfe\x00\x00\x81", MAP)


def test_same_file_twice_creates_nothing_the_second_time(world):
    data = csv_bytes([HEADER] + [f"第{i}条,2026-11-23 10:{i:02d},,B" for i in range(12)])
    first = do_import(world.om, data, MAP, batch_size=5)
    second = do_import(world.om, data, MAP, batch_size=5)
    assert (first.created, first.duplicates) == (12, 0)
    assert (second.created, second.duplicates) == (0, 12)
    assert len(voices()) == 12


def test_overlapping_rows_and_repeated_rows_in_one_file(world):
    rows = [f"第{i}条,2026-11-23 10:{i:02d},," for i in range(10)]
    do_import(world.om, csv_bytes([HEADER, *rows[:6]]), MAP)
    summary = do_import(world.om, csv_bytes([HEADER, *rows[4:], rows[9]]), MAP)
    assert (summary.created, summary.duplicates) == (4, 3)
    assert len(voices()) == 10


def test_external_id_decides_duplicates_when_mapped(world):
    mapping = {"text": "内容", "external_id": "编号"}
    do_import(world.om, csv_bytes(["编号,内容", "A1,第一次", "A2,第二次"]), mapping)
    summary = do_import(
        world.om, csv_bytes(["编号,内容", "A1,第一次（更正）", "A3,第三次"]), mapping
    )
    assert (summary.created, summary.duplicates) == (1, 1)
    assert sorted(v.external_id for v in voices()) == ["A1", "A2", "A3"]


def test_mapping_errors_name_the_field_or_header(world):
    data = csv_bytes([HEADER, "文本,2026-11-23,,"])
    with pytest.raises(ValidationFailed) as err:
        do_import(world.om, data, {"text": "正文", "colour": "颜色", "batch": "批次"})
    assert err.value.fields == {
        "mapping.text": "the file has no column named '正文'",
        "mapping.colour": pytest.approx(err.value.fields["mapping.colour"]),
    }
    assert err.value.fields["mapping.colour"].startswith("unknown field")
    with pytest.raises(ValidationFailed) as err:
        do_import(world.om, data, {"batch": "批次"})
    assert err.value.fields == {"mapping.text": "required: the column holding the voice's text"}
    with pytest.raises(ValidationFailed) as err:
        do_import(world.om, data, ["text"])
    assert "mapping" in err.value.fields


def test_office_channel_and_role_are_checked(world):
    data = csv_bytes([HEADER, "文本,2026-11-23,,"])
    with pytest.raises(ValidationFailed) as err:
        do_import(world.om, data, MAP, office="GZ")  # another office: unknown
    assert err.value.fields == {"office": "unknown office"}
    with pytest.raises(ValidationFailed) as err:
        do_import(world.rm, data, MAP, channel="fax")
    assert set(err.value.fields) == {"channel"}
    with pytest.raises(Forbidden):
        do_import(world.agent, data, MAP)
    summary = do_import(world.rm, data, MAP)  # a regional manager, an office of the region
    assert summary.created == 1


class Crash(Exception):
    pass


def test_resume_after_a_crash_creates_every_row_exactly_once(world):
    data = csv_bytes([HEADER] + [f"第{i}条,2026-11-23 10:{i:02d},,B" for i in range(23)])
    imp, table = prepare_import(
        actor=world.om,
        office_code="SH",
        channel="return",
        filename="v.csv",
        data=data,
        mapping=MAP,
        limits=Limits(),
    )

    def crash_after_first_batch(done, total):
        raise Crash()

    with pytest.raises(Crash):
        run_import(imp, table, actor=world.om, batch_size=10, on_progress=crash_after_first_batch)
    stored = db.session.get(VoiceImport, imp.id)
    assert (stored.status, stored.next_row, stored.created) == ("failed", 10, 10)
    assert len(voices()) == 10  # whole batches only

    with pytest.raises(ValidationFailed):  # another file cannot resume it
        prepare_resume(
            actor=world.om,
            import_id=imp.id,
            filename="v.csv",
            data=data + b"x,,,\r\n",
            limits=Limits(),
        )
    imp2, table2 = prepare_resume(
        actor=world.om, import_id=imp.id, filename="v.csv", data=data, limits=Limits()
    )
    summary = run_import(imp2, table2, actor=world.om, batch_size=10)
    assert (summary.status, summary.created, summary.duplicates) == ("done", 23, 0)
    assert sorted(v.import_row for v in voices()) == list(range(2, 25))
    with pytest.raises(Conflict):
        prepare_resume(
            actor=world.om, import_id=imp.id, filename="v.csv", data=data, limits=Limits()
        )
    actions = db.session.scalars(
        sa.select(AuditEvent.action)
        .where(AuditEvent.entity_type == "voice_import")
        .order_by(AuditEvent.id)
    ).all()
    assert actions == ["fail", "resume"]


def test_another_office_cannot_resume_or_see_an_import(world, make_user):
    data = csv_bytes([HEADER, "文本,2026-11-23,,"])
    summary = do_import(world.om, data, MAP)
    gz_manager = make_user("office_manager", office=world.gz)
    from app.core.errors import NotFound

    with pytest.raises(NotFound):
        prepare_resume(
            actor=gz_manager,
            import_id=summary.import_id,
            filename="v.csv",
            data=data,
            limits=Limits(),
        )


def test_stale_progress_of_a_second_runner_rolls_its_batch_back(world):
    data = csv_bytes([HEADER] + [f"第{i}条,2026-11-23 10:{i:02d},," for i in range(4)])
    imp, table = prepare_import(
        actor=world.om,
        office_code="SH",
        channel="return",
        filename="v.csv",
        data=data,
        mapping=MAP,
        limits=Limits(),
    )
    db.session.commit()
    # another run moved the import on meanwhile
    db.session.execute(sa.update(VoiceImport).where(VoiceImport.id == imp.id).values(next_row=2))
    db.session.commit()
    from sqlalchemy.orm.attributes import set_committed_value

    imp = db.session.get(VoiceImport, imp.id)
    set_committed_value(imp, "next_row", 0)  # what this run still believes
    with pytest.raises(Conflict):
        run_import(imp, table, actor=world.om, batch_size=2)
    assert voices() == []


def test_a_reference_collision_is_retried_not_counted_as_duplicate(world, monkeypatch):
    from app.voice import import_rows

    do_import(world.om, csv_bytes(["内容", "第一条"]), {"text": "内容"})
    taken = voices()[0].reference
    real = import_rows.new_references
    monkeypatch.setattr(import_rows, "new_references", lambda n: [taken, *real(n - 1)])
    summary = do_import(world.om, csv_bytes(["内容", "第二条", "第三条"]), {"text": "内容"})
    assert (summary.created, summary.duplicates) == (2, 0)
    assert len({v.reference for v in voices()}) == 3


def test_imported_times_are_stored_as_the_orm_stores_them(world):
    """The import writes through the driver's cursor: its times must be the very values the ORM
    writes (on SQLite the same text), or sorting and comparing with other voices breaks."""
    from app.voice.services import record_voice

    data = csv_bytes(["内容,日期", "开机无反应,2026-11-23 14:05:09"])
    summary = do_import(world.om, data, {"text": "内容", "occurred_at": "日期"})
    imported = db.session.scalars(sa.select(Voice).where(Voice.import_id.is_not(None))).one()
    when = imported.occurred_at
    assert when == datetime(2026, 11, 23, 6, 5, 9, tzinfo=UTC)  # the office's zone, to UTC
    typed = record_voice(
        actor=world.om, channel="return", text="开机无反应", office_code="SH", occurred_at=when
    )
    db.session.commit()
    rows = db.session.execute(
        sa.text("SELECT occurred_at, created_at, details FROM voices ORDER BY import_id")
    ).all()
    raw = {r.occurred_at for r in rows}
    assert len(raw) == 1, raw  # byte for byte the same stored value
    assert summary.created == 1 and typed.occurred_at == imported.occurred_at
    assert db.session.get(Voice, imported.id, populate_existing=True).details == {}
