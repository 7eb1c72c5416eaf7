"""Customer search: scoped, phone prefixes as ranges, names and companies, keyset pages."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from app.core.errors import NotFound
from app.core.pagination import BadCursor, encode_cursor
from app.core.scoping import Scope
from app.customers.queries import get_customer, search_customers
from app.customers.services import create_customer
from app.extensions import db


@pytest.fixture
def world(make_region, make_office, make_user):
    sh = make_office("SH", region=make_region("EAST"))
    gz = make_office("GZ", region=make_region("SOUTH"))
    agent_sh = make_user("agent", office=sh)
    agent_gz = make_user("agent", office=gz)

    def add(actor, name, phones=(), company=None):
        customer = create_customer(
            actor=actor, name=name, office_code=None, phones=list(phones), company=company
        )
        db.session.commit()
        return customer

    return agent_sh, agent_gz, add


def names(page):
    return [c.name for c in page.items]


def search(user, q, limit=50, cursor=None):
    return search_customers(Scope.for_user(user), q, limit=limit, cursor=cursor)


def test_phone_prefix_in_any_notation_finds_the_customer(world):
    agent, _, add = world
    add(agent, "张伟", ["13800138000"])
    add(agent, "李娜", ["13900000000", "021-6888 8888"])
    for q in ("１３８ ００１３ ８０００", "+86 138-0013-8000", "0086 1380", "138", "13800138000"):
        assert names(search(agent, q)) == ["张伟"], q
    assert names(search(agent, "+86 21 6888")) == ["李娜"]
    assert names(search(agent, "021")) == ["李娜"]
    assert names(search(agent, "13")) == []  # two digits are a name search, not a phone one
    assert names(search(agent, "1380013800099")) == []


def test_a_customer_with_two_matching_numbers_appears_once(world):
    agent, _, add = world
    add(agent, "张伟", ["13800138000", "13800138001"])
    assert names(search(agent, "138001380")) == ["张伟"]


def test_name_and_company_prefix_or_contains(world):
    agent, _, add = world
    add(agent, "李娜", company="杭州钢铁")
    add(agent, "王芳", company="南京化工")
    add(agent, "Li Na", company="Acme 100% Ltd")
    assert names(search(agent, "李")) == ["李娜"]
    assert names(search(agent, "化工")) == ["王芳"]
    assert names(search(agent, "Li")) == ["Li Na"]
    assert names(search(agent, "100%")) == ["Li Na"]


def test_like_wildcards_are_literal(world):
    agent, _, add = world
    add(agent, "a_b")
    add(agent, "axb")
    add(agent, "50%")
    assert names(search(agent, "a_b")) == ["a_b"]
    assert names(search(agent, "%")) == ["50%"]
    assert names(search(agent, "\\")) == []


def test_search_and_get_respect_scope(world, make_user):
    agent_sh, agent_gz, add = world
    theirs = add(agent_gz, "广州客户", ["13700000000"])
    add(agent_sh, "上海客户", ["13700000001"])
    assert names(search(agent_sh, None)) == ["上海客户"]
    assert names(search(agent_sh, "137")) == ["上海客户"]
    assert names(search(agent_sh, "广州")) == []
    with pytest.raises(NotFound):
        get_customer(Scope.for_user(agent_sh), theirs.id)
    assert get_customer(Scope.for_user(agent_gz), theirs.id).name == "广州客户"
    admin = make_user("admin")
    assert sorted(names(search(admin, "137"))) == ["上海客户", "广州客户"]
    placeless = make_user("agent")  # an office role with no office sees nothing
    assert names(search(placeless, None)) == []


def test_pages_walk_every_row_once_newest_first(world):
    agent, _, add = world
    ids = [add(agent, f"客户{i}", [f"1380000{i:04d}"]).id for i in range(11)]
    seen, cursor, pages = [], None, 0
    while True:
        page = search(agent, "1380000", limit=4, cursor=cursor)
        seen += [c.id for c in page.items]
        pages += 1
        cursor = page.next_cursor
        if cursor is None:
            break
    assert seen == sorted(ids, reverse=True) and pages == 3


def test_a_page_costs_two_statements_whatever_its_size(world):
    agent, _, add = world
    for i in range(6):
        add(agent, f"客户{i}", [f"1390000{i:04d}", f"1370000{i:04d}"])
    scope = Scope.for_user(agent)
    db.session.expire_all()
    statements = []

    def count(conn, cursor, statement, *args):
        statements.append(statement)

    sa.event.listen(db.engine, "before_cursor_execute", count)
    try:
        page = search_customers(scope, "139", limit=5, cursor=None)
        numbers = [p.number for c in page.items for p in c.phones]
    finally:
        sa.event.remove(db.engine, "before_cursor_execute", count)
    assert len(numbers) == 10
    # one for the customers, one (selectin) for all their phones
    assert len([s for s in statements if s.lstrip().upper().startswith("SELECT")]) == 2


@pytest.mark.parametrize(
    "cursor", ["%%%", encode_cursor(["x"]), encode_cursor([1, 2]), encode_cursor([2**70])]
)
def test_bad_cursor_is_refused(world, cursor):
    agent, _, _ = world
    with pytest.raises(BadCursor):
        search(agent, None, limit=5, cursor=cursor)
