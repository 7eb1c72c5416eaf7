"""The customer detail API lists the customer's open issues and last ratings."""

from __future__ import annotations


def test_customer_detail_lists_open_issues_and_ratings(client, world, new_issue):
    open_one = new_issue(title="仍在处理")
    rated = new_issue(title="已评价")
    url = f"/api/v1/issues/{rated['id']}"
    client.post(
        f"{url}/resolve",
        json={"resolution": "好了", "root_cause": "process", "responsible": "服务部"},
        headers=world.h["handler"],
    )
    client.post(f"{url}/close", json={"rating": 5}, headers=world.h["agent"])
    detail = client.get(
        f"/api/v1/customers/{world.customer.id}", headers=world.h["agent"]
    ).get_json()
    assert [i["id"] for i in detail["open_issues"]] == [open_one["id"]]
    assert [r["rating"] for r in detail["ratings"]] == [5]
