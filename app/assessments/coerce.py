"""Turning a raw value (from JSON, a CSV cell or an XLSX cell) into a typed indicator value.

Shared by ``PUT /assessments/{id}/values`` and the bulk import, so that both accept the same
spellings and reject the same mistakes with the same codes.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from app.core.text import fold
from app.models.assessments import Judgement

_TRUE = {"true", "1", "yes", "y", "co", "x", "dat"}
_FALSE = {"false", "0", "no", "n", "khong", "chua dat", "khong dat"}
_JUDGEMENTS = {
    "met": Judgement.MET,
    "dat": Judgement.MET,
    "basically_met": Judgement.BASICALLY_MET,
    "basically met": Judgement.BASICALLY_MET,
    "co ban dat": Judgement.BASICALLY_MET,
    "not_met": Judgement.NOT_MET,
    "not met": Judgement.NOT_MET,
    "chua dat": Judgement.NOT_MET,
    "khong dat": Judgement.NOT_MET,
}


@dataclass(frozen=True, slots=True)
class Typed:
    number: float | None = None
    boolean: bool | None = None
    judgement: str | None = None


class ValueProblem(Exception):
    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True, slots=True)
class Rules:
    """What an indicator (or a condition) accepts."""

    kind: str
    unit: str | None = None
    value_min: float | None = None
    value_max: float | None = None

    @property
    def is_share(self) -> bool:
        return (self.unit or "").strip() == "%"

    def bounds(self) -> tuple[float | None, float | None]:
        low, high = self.value_min, self.value_max
        # A share is a percentage: never negative, never over 100 % (whatever the set says).
        if self.is_share:
            low = 0.0 if low is None else max(low, 0.0)
            high = 100.0 if high is None else min(high, 100.0)
        return low, high


def _number(raw: Any, rules: Rules) -> float:
    if isinstance(raw, bool):
        raise ValueProblem("value_kind_mismatch", "expected a number, got a yes/no value")
    if isinstance(raw, int | float):
        number = float(raw)
    elif isinstance(raw, str):
        text = raw.strip().replace("\u00a0", "").replace(" ", "")
        if rules.is_share and text.endswith("%"):
            text = text[:-1]
        try:
            if "_" in text:
                raise ValueError(text)  # float() reads "1_000"; a spreadsheet never means that
            number = float(text)
        except ValueError:
            raise ValueProblem(
                "value_kind_mismatch",
                "expected a number (use '.' as the decimal separator, no thousands separator)",
            ) from None
    else:
        raise ValueProblem("value_kind_mismatch", "expected a number")
    if math.isnan(number) or math.isinf(number):
        raise ValueProblem("value_kind_mismatch", "expected a finite number")
    low, high = rules.bounds()
    if low is not None and number < low:
        what = "a share cannot be negative" if rules.is_share and low == 0 else f"below {low:g}"
        raise ValueProblem("value_out_of_range", what)
    if high is not None and number > high:
        what = (
            "a share cannot exceed 100 %" if rules.is_share and high == 100 else f"above {high:g}"
        )
        raise ValueProblem("value_out_of_range", what)
    return number


def _boolean(raw: Any) -> bool:
    if isinstance(raw, bool):
        return raw
    if isinstance(raw, int | float) and raw in (0, 1):
        return bool(raw)
    if isinstance(raw, str):
        text = fold(raw)
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise ValueProblem("value_kind_mismatch", "expected yes/no (true/false, 1/0, có/không)")


def _judgement(raw: Any) -> str:
    if isinstance(raw, str):
        found = _JUDGEMENTS.get(fold(raw).replace("-", " "))
        if found is None:
            found = _JUDGEMENTS.get(fold(raw))
        if found is not None:
            return found.value
    raise ValueProblem(
        "value_kind_mismatch", "expected a judgement: met, basically_met or not_met (đạt, …)"
    )


def coerce(raw: Any, rules: Rules) -> Typed:
    """The typed value, or :class:`ValueProblem` with a stable code."""
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        raise ValueProblem("missing_value", "no value given")
    if rules.kind == "boolean":
        return Typed(boolean=_boolean(raw))
    if rules.kind == "judgement":
        return Typed(judgement=_judgement(raw))
    return Typed(number=_number(raw, rules))


Parsed = tuple[float | None, bool | None, str | None]
_BOOL_FAST = {
    "true": True,
    "false": False,
    "1": True,
    "0": False,
    "yes": True,
    "no": False,
    "có": True,
    "không": False,
}
_INF = float("inf")


def compile_parser(rules: Rules) -> Any:
    """A fast ``raw → (number, boolean, judgement)`` for the bulk import; the common spellings
    take a short path and anything else falls back to :func:`coerce` (same answers, same
    errors)."""

    def slow(raw: Any) -> Parsed:
        typed = coerce(raw, rules)
        return typed.number, typed.boolean, typed.judgement

    if rules.kind == "boolean":

        def parse_boolean(raw: Any) -> Parsed:
            if raw.__class__ is str:
                found = _BOOL_FAST.get(raw.strip().lower())
                if found is not None:
                    return None, found, None
            elif raw.__class__ is bool:
                return None, raw, None
            return slow(raw)

        return parse_boolean
    if rules.kind == "judgement":
        return slow
    low, high = rules.bounds()
    low_bound = -_INF if low is None else low
    high_bound = _INF if high is None else high

    def parse_number(raw: Any) -> Parsed:
        kind = raw.__class__
        if kind is str:
            if "_" in raw:
                return slow(raw)
            try:
                number = float(raw)
            except ValueError:
                return slow(raw)
        elif kind is int or kind is float:
            number = float(raw)
        else:
            return slow(raw)
        if low_bound <= number <= high_bound and number not in (_INF, -_INF):
            return number, None, None
        return slow(raw)  # out of range, NaN or infinite: the slow path says which

    return parse_number
