"""Sign in, switch language, find a customer by phone as you type, open the page."""

from __future__ import annotations

from app.customers.services import create_customer
from app.extensions import db
from tests.conftest import DEFAULT_PASSWORD


def test_login_language_and_customer_search(page, make_region, make_office, make_user):
    office = make_office("SH", name="上海代表处", region=make_region("EAST"))
    agent = make_user("agent", office=office, email="agent@example.com", name="王坐席")
    create_customer(
        actor=agent, name="张伟", office_code=None, company="上海电气", phones=["138 0013 8000"]
    )
    create_customer(actor=agent, name="李娜", office_code=None, phones=["139 0000 0000"])
    db.session.commit()

    page.goto("/")
    assert "登录" in page.title()
    page.fill("#email", "agent@example.com")
    page.fill("#password", DEFAULT_PASSWORD)
    page.press("#password", "Enter")
    page.wait_for_url("**/customers/")
    assert page.locator("h1").inner_text() == "客户"

    page.click("#lang-switch")
    page.wait_for_url("**/customers/")
    assert page.locator("h1").inner_text() == "Customers"
    assert page.locator("html").get_attribute("lang") == "en"

    page.fill("#q", "１３８００")  # full-width digits, as a Chinese IME types them
    suggestion = page.locator("#suggestions li").first
    suggestion.wait_for()
    assert "张伟" in suggestion.inner_text()
    assert page.locator("#suggestions li").count() == 1
    page.keyboard.press("ArrowDown")
    page.keyboard.press("Enter")
    page.wait_for_url("**/customers/*")
    assert page.locator("h1").inner_text().startswith("张伟")
    assert "138 0013 8000" in page.content()
