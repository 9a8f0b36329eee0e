"""Every sentence of the evaluation exists in both languages and renders without a gap."""

from __future__ import annotations

import re
import string

import pytest

from app.assessments.engine import Message, Msg, Param
from app.assessments.messages import WORDING, render

NESTED = {"rule", "why", "where", "text", "number"}


@pytest.mark.parametrize("key", list(Msg))
def test_every_message_has_both_wordings_with_the_same_parameters(key: Msg) -> None:
    vi, en = WORDING[key]
    fields = [{f for _, f, _, _ in string.Formatter().parse(text) if f} for text in (vi, en)]
    assert fields[0] == fields[1]
    if key is not Msg.WHERE:
        assert vi
        assert en
        assert vi != en or key in (Msg.NEEDS_OTHER, Msg.WITH_NOTE, Msg.CONDITION_BLOCKING)
    params: dict[str, Param | Message] = dict.fromkeys(fields[0] - NESTED, 3)
    params.update(dict.fromkeys(fields[0] & NESTED, Message(Msg.NO_VALUE)))
    for language in ("vi", "en"):
        rendered = render(Message(key, params), language)
        assert not re.search(r"[{}]", rendered), rendered


def test_where_names_the_dimensions_in_the_language() -> None:
    where = Message(Msg.WHERE, {"region": "TDMNPB", "year": 2024})
    assert render(where, "vi") == "vùng TDMNPB, năm 2024"
    assert render(where, "en") == "region TDMNPB, year 2024"
    assert render(Message(Msg.WHERE), "vi") == "mọi đơn vị"


def test_data_text_passes_through() -> None:
    assert render("Còn 2 km đường chưa cứng hóa", "en") == "Còn 2 km đường chưa cứng hóa"
