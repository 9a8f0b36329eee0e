"""The message catalogue covers every problem code, in Vietnamese and English (issue 11 item 4)."""

from __future__ import annotations

import ast
import re
import warnings

import pytest

from app.core import messages
from app.core.errors import problem_body
from app.core.messages import MESSAGES, TITLES, MissingMessageWarning, placeholders
from tests.core.problem_codes import APP_DIR, collect, problem_codes

# Vietnamese text carries letters English never has; a template copied across shows up here.
VIETNAMESE = re.compile(r"[àáảãạăằắẳẵặâầấẩẫậđèéẻẽẹêềếểễệìíỉĩịòóỏõọôồốổỗộơờớởỡợùúủũụưừứửữựỳýỷỹỵ]")


def test_every_code_in_the_source_has_both_languages() -> None:
    missing = sorted(problem_codes() - MESSAGES.keys())
    assert not missing, f"add these codes to app/core/messages.py: {missing}"


def test_the_collector_finds_codes_of_every_kind() -> None:
    """A guard on the guard: each way a code is written in app/ is still recognised."""
    codes, entities, lifecycles = collect()
    assert {"criteria_set_published", "unit_level_mismatch", "invalid_grant"} <= codes
    assert {"cycle_detected", "duplicate_indicator_code", "scope_not_a_province"} <= codes
    assert "indicator_without_threshold" in codes  # a field error spelled as a dict
    assert {"user", "client", "unit"} <= entities
    assert {"criteria_set", "assessment"} <= lifecycles
    assert {"user_not_found", "assessment_transition_not_allowed"} <= problem_codes()


def test_no_entry_is_dead() -> None:
    assert not sorted(MESSAGES.keys() - problem_codes())


@pytest.mark.parametrize("code", sorted(MESSAGES))
def test_entry_is_translated_and_consistent(code: str) -> None:
    message = MESSAGES[code]
    texts = [message.generic, *([message.specific] if message.specific else [])]
    texts += message.variants.values()
    for text in texts:
        assert text.vi.strip()
        assert text.en.strip()
        assert VIETNAMESE.search(text.vi), f"{code}: the Vietnamese text is not Vietnamese"
        assert not VIETNAMESE.search(text.en), f"{code}: the English text is not English"
        assert placeholders(text.vi) == placeholders(text.en)
    assert not placeholders(message.generic.vi), f"{code}: the generic sentence needs no values"


def test_every_status_has_a_vietnamese_title() -> None:
    for status in (400, 401, 403, 404, 405, 406, 409, 412, 413, 415, 422, 429, 500, 503):
        assert VIETNAMESE.search(TITLES[status].vi)


def _raise_sites() -> list[tuple[str, str, set[str] | None]]:
    """(path:line, code, the keys of a literal ``params={…}`` or None) of ``code="…"`` calls."""
    found = []
    for path in APP_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            kwargs = {k.arg: k.value for k in node.keywords if k.arg}
            code = kwargs.get("code")
            if not (isinstance(code, ast.Constant) and isinstance(code.value, str)):
                continue
            params = kwargs.get("params")
            keys = None
            if isinstance(params, ast.Dict):
                keys = {k.value for k in params.keys if isinstance(k, ast.Constant)}
            found.append((f"{path.relative_to(APP_DIR)}:{node.lineno}", code.value, keys))
    return found


def test_params_at_raise_sites_fill_their_templates() -> None:
    """A raise site passing ``params`` gives every value its code's sentence names."""
    wrong = []
    for site, code, keys in _raise_sites():
        message = MESSAGES[code]
        if keys is None or ("variant" in keys and message.variants):
            continue
        if message.specific is None or not placeholders(message.specific.vi) <= keys:
            wrong.append((site, code, keys))
    assert not wrong


def test_rendering_rules() -> None:
    fallback = "There is no user 42."
    assert messages.detail("user_not_found", "vi", fallback) == (
        "Không tìm thấy người dùng (hoặc bạn không có quyền xem)."
    )
    assert messages.detail("user_not_found", "en", fallback) == fallback
    assert messages.detail("user_not_found", "vi", fallback, {"id": 42}) == (
        "Không có người dùng 42 (hoặc bạn không có quyền xem)."
    )
    assert messages.detail("user_not_found", "en", fallback, {"id": 42}) == fallback
    body = problem_body(404, "user_not_found", fallback, language="en")
    assert (body["title"], body["code"]) == ("Not Found", "user_not_found")
    assert problem_body(404, "user_not_found", fallback)["title"] == "Không tìm thấy"


def test_variants_tell_causes_apart() -> None:
    expired = "The access token has expired."
    assert messages.detail("invalid_token", "vi", expired, {"variant": "expired"}) == (
        "Mã truy cập đã hết hạn."
    )
    assert messages.detail("invalid_token", "en", expired, {"variant": "expired"}) == expired
    revoked = messages.detail("invalid_token", "vi", "…", {"variant": "revoked"})
    assert revoked == "Mã truy cập đã bị thu hồi."


def test_a_code_without_an_entry_is_reported() -> None:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert messages.detail("no_such_code_anywhere", "vi", "English.") == "English."
        assert messages.detail("user_not_found", "vi", "English.", {"other": 1})
    assert [w.category for w in caught] == [MissingMessageWarning, MissingMessageWarning]
