"""What one request of the public answer page costs in statements (bench/survey_answer.py
measures the time): the rate counter is one upsert, the page reads the link with its campaign
in one round trip, the answers go in with an executemany."""

from __future__ import annotations

import pytest

from tests.surveys.conftest import GOOD

pytestmark = pytest.mark.committing


def test_open_page_and_submit_cost_few_statements(client, sent, count_queries):
    token = sent["tokens"]["王"]
    client.get("/s/warm-up")  # the client's counter rows exist from here on
    with count_queries() as opening:
        assert client.get(f"/s/{token}").status_code == 303
    with count_queries() as page:
        assert client.get("/s/").status_code == 200
    with count_queries() as submit:
        assert client.post(f"/s/{token}", json={"answers": GOOD}).status_code == 200
    answers = [s for s in submit if "INSERT INTO survey_answers" in s]
    # one executemany per shape of row (numbers; text or choice), not one per answer
    assert len(answers) <= 3
    counters = [s for s in opening + page + submit if "survey_rate_counters" in s]
    assert len(counters) == 6  # per request: the "bad" check and one upsert
    assert len(opening) <= 7 and len(page) <= 9 and len(submit) <= 17
