"""A valid questionnaire, for tests to build on."""

from __future__ import annotations

import copy
from typing import Any

DESIGN: dict[str, Any] = {
    "title": "项目交付满意度调查",
    "kind": "project",
    "questions": [
        {
            "key": "quality",
            "type": "rating5",
            "text": "您对交付质量满意吗？",
            "text_en": "How satisfied are you with the delivery quality?",
            "indicator": "quality",
            "weight": 60,
        },
        {
            "key": "speed",
            "type": "rating5",
            "text": {"zh": "您对响应速度满意吗？", "en": "How satisfied are you with our speed?"},
            "indicator": "speed",
            "weight": 40,
        },
        {"key": "nps", "type": "nps", "text": "您向同事推荐我们的可能性有多大？"},
        {
            "key": "channel",
            "type": "choice",
            "text": "您从哪里了解我们？",
            "options": ["展会", "朋友"],
        },
        {"key": "comment", "type": "text", "text": "其他意见", "required": False},
    ],
}


def design(**changes: Any) -> dict[str, Any]:
    data = copy.deepcopy(DESIGN)
    data.update(changes)
    return data
