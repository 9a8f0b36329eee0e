"""The evaluation engine: pure functions from a criteria snapshot and stored values to statuses.

No database here. The service loads, in a few queries, the set's structure, the thresholds that
apply to the unit that year (through the criteria feature) and the assessment's values, judgements
and condition values, then calls :func:`evaluate`. Rules (DOMAIN.md §2–4):

- an indicator is met when its value satisfies the comparator against the threshold that applies;
  a missing value is never met; a number without an applicable threshold cannot be decided;
- a criterion combines its indicators by its rule (all, any, at least k, or a reviewer's
  judgement); *cơ bản đạt* (basically met) only ever comes from a recorded judgement with reasons;
- a title needs every criterion met and every condition of 18/2022/QĐ-TTg art. 4 met;
  prerequisites about titles held (advanced needs NTM, model needs advanced, a district's
  communes) are answered from the register of titles as of the assessment's date
  (:class:`RegisterFacts`); the others are checked by the reviewer;
- revocation bands (18/2022/QĐ-TTg) are data of the set: a share of failing criteria, optionally
  with one of the set's key criteria among them.

Results are frozen dataclasses. The engine writes no sentence: every reason it gives is a
:class:`Message` (a key and its parameters), rendered in the caller's language at the edge
(``app.assessments.messages``); text that is data (a reviewer's reasons, a note of the set)
passes through as ``str``.
"""

from __future__ import annotations

import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum
from typing import Any

from app.models.enums import (
    Comparator,
    ConditionStatus,
    CriterionRule,
    CriterionStatus,
    IndicatorKind,
    IndicatorStatus,
    Judgement,
    PrerequisiteKind,
    PrerequisiteStatus,
)

# --- messages: what the engine says, without saying it in a language ------------------------------


class Msg(StrEnum):
    """The sentences of the evaluation; ``app.assessments.messages`` holds their wording."""

    HEADLINE = "headline"
    NO_VALUE = "no_value"
    NO_JUDGEMENT = "no_judgement"
    NO_THRESHOLD = "no_threshold"
    YES_NO_THRESHOLD = "yes_no_threshold"
    THRESHOLD_MISSING = "threshold_missing"  # why: one of the MISSING_* below
    MISSING_LEFT_TO_PROVINCE = "missing_left_to_province"
    MISSING_REGION_UNKNOWN = "missing_region_unknown"
    MISSING_COMMUNE_GROUP_UNKNOWN = "missing_commune_group_unknown"
    MISSING_NOT_FOUND = "missing_not_found"
    THRESHOLD_DEFAULT = "threshold_default"
    THRESHOLD_MATCHED = "threshold_matched"  # where
    THRESHOLD_PROVINCE = "threshold_province"  # number, where
    ITS_DECISION = "its_decision"  # a province's override whose decision is not recorded
    WHERE = "where"  # params: the dimensions that matched (region, year, …)
    RULE_ALL = "rule_all"
    RULE_ANY = "rule_any"
    RULE_AT_LEAST = "rule_at_least"
    RULE_MET = "rule_met"
    RULE_BASICALLY_MET = "rule_basically_met"
    RULE_UNDETERMINED = "rule_undetermined"
    RULE_NOT_MET = "rule_not_met"
    CRITERION_BY_JUDGEMENT = "criterion_by_judgement"
    CRITERION_WITHOUT_INDICATORS = "criterion_without_indicators"
    CONDITION_LEFT_TO_PROVINCE = "condition_left_to_province"
    CONDITION_NO_THRESHOLD = "condition_no_threshold"
    CONDITION_BLOCKING = "condition_blocking"  # code, status
    PREREQUISITE_TITLE = "prerequisite_title"
    PREREQUISITE_INCOME_RATIO = "prerequisite_income_ratio"
    PREREQUISITE_BY_REVIEWER = "prerequisite_by_reviewer"
    PREREQUISITE_TITLE_HELD = "prerequisite_title_held"  # title, on
    PREREQUISITE_TITLE_NOT_HELD = "prerequisite_title_not_held"  # title, on
    PREREQUISITE_SUBUNITS = "prerequisite_subunits"  # holding, total, level, title, share, on
    PREREQUISITE_BLOCKING = "prerequisite_blocking"  # kind
    NEEDS_TITLE = "needs_title"  # title
    NEEDS_INCOME_RATIO = "needs_income_ratio"  # indicator, ratio, of_title
    NEEDS_SMART_VILLAGES = "needs_smart_villages"  # min_count
    NEEDS_OTHER = "needs_other"  # kind
    WITH_NOTE = "with_note"  # text, note
    REVOCATION_NEEDS_RECOGNITIONS = "revocation_needs_recognitions"
    REVOCATION_NO_BANDS = "revocation_no_bands"
    REVOCATION_HOLDS_TITLE = "revocation_holds_title"  # on
    REVOCATION_TITLE_NOT_HELD = "revocation_title_not_held"  # on
    SET_WITHOUT_CRITERIA = "set_without_criteria"
    CRITERIA_NOT_MET = "criteria_not_met"  # count, total
    CRITERIA_UNDETERMINED = "criteria_undetermined"  # count, total
    CRITERIA_BASICALLY_MET = "criteria_basically_met"  # count, total


Param = str | int | float | bool | None
# Given as a mapping, kept as (name, value) pairs in order.
Params = (
    tuple[tuple[str, "Param | Message | StrEnum"], ...] | Mapping[str, "Param | Message | StrEnum"]
)


@dataclass(frozen=True, slots=True)
class Message:
    """A sentence to render: a key of :class:`Msg` and its parameters (themselves possibly
    messages, e.g. a rule's label inside the rule's outcome). Hashable, so that the edge can
    cache its renderings: the same sentence recurs across indicators and units."""

    key: Msg
    params: Params = ()

    def __post_init__(self) -> None:
        if isinstance(self.params, Mapping):
            object.__setattr__(self, "params", tuple(self.params.items()))


# A reason is either a message of the engine or text that is data (a reviewer's reasons).
Text = Message | str

NO_VALUE = Message(Msg.NO_VALUE)
NO_JUDGEMENT = Message(Msg.NO_JUDGEMENT)

# --- the criteria snapshot (what the criteria feature tells us) ---------------------------------


@dataclass(frozen=True)
class IndicatorSpec:
    id: uuid.UUID
    code: str
    criterion_id: uuid.UUID
    name: str
    kind: IndicatorKind | str
    comparator: Comparator | str | None
    unit: str | None = None
    value_min: float | None = None
    value_max: float | None = None
    left_to_province: bool = False


@dataclass(frozen=True)
class CriterionSpec:
    id: uuid.UUID
    number: int
    name: str
    rule: CriterionRule | str
    k: int | None = None
    group: str | None = None
    indicator_ids: tuple[uuid.UUID, ...] = ()


@dataclass(frozen=True)
class ConditionSpec:
    code: str
    name: str
    kind: IndicatorKind | str  # number | boolean
    comparator: Comparator | str | None
    threshold: float | bool | None
    unit: str | None = None
    left_to_province: bool = False
    note: str | None = None


@dataclass(frozen=True)
class PrerequisiteSpec:
    kind: PrerequisiteKind | str
    description: Text
    data: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class RevocationBand:
    min_failing_share: float
    max_failing_share: float | None = None
    requires_failing_criterion: tuple[int, ...] = ()


@dataclass(frozen=True)
class SetSpec:
    id: uuid.UUID
    code: str
    name: str
    title: str | None
    level: str
    start_year: int
    end_year: int
    status: str
    criteria: tuple[CriterionSpec, ...]
    indicators: tuple[IndicatorSpec, ...]
    conditions: tuple[ConditionSpec, ...] = ()
    prerequisites: tuple[PrerequisiteSpec, ...] = ()
    revocation_bands: tuple[RevocationBand, ...] = ()
    revocation_note: str | None = None

    def indicator_by_code(self) -> dict[str, IndicatorSpec]:
        return {indicator.code: indicator for indicator in self.indicators}


@dataclass(frozen=True)
class Threshold:
    """The threshold of one indicator for one unit and year, with the reason it applies."""

    value: float | bool | None
    reason: Text
    source: Mapping[str, Any] | None = None


# --- what is stored for the assessment ------------------------------------------------------------


@dataclass(frozen=True)
class StoredValue:
    indicator_id: uuid.UUID
    value_number: float | None
    value_bool: bool | None
    judgement: str | None
    judgement_reason: str | None
    note: str | None = None
    entered_at: datetime | None = None


@dataclass(frozen=True)
class StoredJudgement:
    criterion_id: uuid.UUID
    status: str
    reason: str
    judged_by_name: str | None = None
    judged_at: datetime | None = None


@dataclass(frozen=True)
class StoredCondition:
    code: str
    value_number: float | None
    value_bool: bool | None
    note: str | None = None


# --- results ------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class IndicatorResult:
    """One indicator's outcome. It keeps its spec and the threshold applied rather than copies
    of their fields: an evaluation makes one per indicator, a province's re-evaluation tens of
    thousands."""

    spec: IndicatorSpec
    value: float | bool | str | None
    applied: Threshold | None  # the threshold compared with (a yes/no one defaults to "yes")
    status: IndicatorStatus
    reason: Text | None
    distance: float | None  # how far a number that fails is from its threshold

    @property
    def indicator_id(self) -> uuid.UUID:
        return self.spec.id

    @property
    def code(self) -> str:
        return self.spec.code

    @property
    def name(self) -> str:
        return self.spec.name

    @property
    def kind(self) -> str:
        return str(self.spec.kind)

    @property
    def unit(self) -> str | None:
        return self.spec.unit

    @property
    def comparator(self) -> str | None:
        return None if self.spec.comparator is None else str(self.spec.comparator)

    @property
    def threshold(self) -> float | bool | None:
        return None if self.applied is None else self.applied.value

    @property
    def threshold_reason(self) -> Text | None:
        return None if self.applied is None else self.applied.reason

    @property
    def threshold_basis(self) -> dict[str, Any] | None:
        source = None if self.applied is None else self.applied.source
        return dict(source) if source else None


@dataclass(frozen=True, slots=True)
class JudgementResult:
    status: str
    reason: str
    judged_by: str | None
    judged_at: datetime | None


@dataclass(frozen=True, slots=True)
class CriterionResult:
    criterion_id: uuid.UUID
    number: int
    name: str
    group: str | None
    rule: str  # all | any | at_least_<k> | judgement
    computed_status: CriterionStatus
    status: CriterionStatus
    reason: Text | None
    judgement: JudgementResult | None
    indicators: tuple[IndicatorResult, ...]


@dataclass(frozen=True, slots=True)
class ConditionResult:
    code: str
    name: str
    kind: str
    comparator: str | None
    threshold: float | bool | None
    value: float | bool | None
    status: ConditionStatus
    reason: Text | None


@dataclass(frozen=True, slots=True)
class PrerequisiteResult:
    kind: str
    description: Text
    data: Mapping[str, Any]
    status: PrerequisiteStatus
    reason: Text


@dataclass(frozen=True, slots=True)
class RegisterFacts:
    """What the register of titles says about the assessed unit on the assessment's date."""

    on: date
    # Titles held by their own decisions, and the same with the titles below them on their
    # ladder (a commune recognised advanced has met NTM).
    held: frozenset[str]
    held_or_implied: frozenset[str]
    # (level, title) -> (units of the level under the unit holding the title, all of them).
    subunits: Mapping[tuple[str, str], tuple[int, int]] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class BandMatch:
    min_failing_share: float
    max_failing_share: float | None
    requires_failing_criterion: tuple[int, ...]
    key_criteria_failing: tuple[int, ...]


@dataclass(frozen=True, slots=True)
class RevocationResult:
    bands_defined: bool
    failing_criteria: tuple[int, ...]
    failing_share: float
    band: BandMatch | None
    reason: Text
    note: str | None
    # Whether the unit holds the title on the assessment's date, from the register (None when
    # the evaluation was made without it).
    unit_holds_title: bool | None = None

    @property
    def falls_under_band(self) -> bool:
        return self.band is not None


@dataclass(frozen=True, slots=True)
class SetRef:
    id: uuid.UUID
    code: str
    title: str | None
    criteria_count: int


@dataclass(frozen=True, slots=True)
class Summary:
    criteria_total: int
    criteria_met: int
    criteria_basically_met: int
    criteria_not_met: int
    criteria_undetermined: int
    indicators_total: int
    indicators_met: int
    indicators_missing: int

    @property
    def headline(self) -> Message:
        """ "đạt N/M tiêu chí": the figure communes and districts report."""
        return Message(Msg.HEADLINE, {"met": self.criteria_met, "total": self.criteria_total})


@dataclass(frozen=True, slots=True)
class TitleOutlook:
    title: str | None
    # False when something checkable fails; None when all that can be checked is met but a
    # condition or prerequisite cannot be verified yet.
    attainable: bool | None
    blocking: tuple[Message, ...]
    unverified: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Evaluation:
    criteria_set: SetRef
    summary: Summary
    title: TitleOutlook
    criteria: tuple[CriterionResult, ...]
    conditions: tuple[ConditionResult, ...]
    prerequisites: tuple[PrerequisiteResult, ...]
    revocation: RevocationResult


@dataclass(frozen=True, slots=True)
class Gap:
    """A criterion that is not met, with the indicators that are not."""

    criterion_id: uuid.UUID
    number: int
    name: str
    status: CriterionStatus
    reason: Text | None
    indicators: tuple[IndicatorResult, ...]


# --- rules --------------------------------------------------------------------------------------


def value_of(stored: StoredValue | None) -> float | bool | str | None:
    if stored is None:
        return None
    if stored.value_number is not None:
        return stored.value_number
    if stored.value_bool is not None:
        return stored.value_bool
    return stored.judgement


# Enum members read once: this module's loops run per indicator, and reading a member from
# its class costs more than a module global.
_GE, _LE, _EQ = Comparator.GE, Comparator.LE, Comparator.EQ
_NUMBER, _BOOLEAN, _JUDGEMENT = IndicatorKind.NUMBER, IndicatorKind.BOOLEAN, IndicatorKind.JUDGEMENT
_MET, _NOT_MET = IndicatorStatus.MET, IndicatorStatus.NOT_MET
_BASICALLY_MET, _MISSING = IndicatorStatus.BASICALLY_MET, IndicatorStatus.MISSING
_UNDETERMINED = IndicatorStatus.UNDETERMINED


def _compare(comparator: str | None, value: float | bool, threshold: float | bool) -> bool:
    if comparator == _LE:
        return float(value) <= float(threshold)
    if comparator == _EQ:
        return value == threshold
    return float(value) >= float(threshold)


def _distance(comparator: str | None, value: float, threshold: float) -> float:
    if comparator == _LE:
        return round(value - threshold, 10)
    if comparator == _EQ:
        return round(abs(value - threshold), 10)
    return round(threshold - value, 10)


_JUDGED = {
    Judgement.MET: IndicatorStatus.MET,
    Judgement.BASICALLY_MET: IndicatorStatus.BASICALLY_MET,
}
_NO_THRESHOLD = Message(Msg.NO_THRESHOLD)
_YES = Threshold(True, Message(Msg.YES_NO_THRESHOLD))


def evaluate_indicator(
    spec: IndicatorSpec, stored: StoredValue | None, threshold: Threshold | None
) -> IndicatorResult:
    kind = spec.kind
    if kind == _JUDGEMENT:
        if stored is None or stored.judgement is None:
            return IndicatorResult(spec, None, threshold, _MISSING, NO_JUDGEMENT, None)
        status = _JUDGED.get(Judgement(stored.judgement), _NOT_MET)
        return IndicatorResult(
            spec, value_of(stored), threshold, status, stored.judgement_reason, None
        )
    if kind == _BOOLEAN:
        if stored is None or stored.value_bool is None:
            return IndicatorResult(spec, value_of(stored), threshold, _MISSING, NO_VALUE, None)
        # A yes/no fact is met by "yes" unless the set states another expected answer.
        if threshold is None or threshold.value is None:
            threshold = _YES
        met = stored.value_bool == bool(threshold.value)
        return IndicatorResult(
            spec, value_of(stored), threshold, _MET if met else _NOT_MET, None, None
        )
    if stored is None or stored.value_number is None:
        return IndicatorResult(spec, value_of(stored), threshold, _MISSING, NO_VALUE, None)
    number = stored.value_number
    limit = None if threshold is None else threshold.value
    if threshold is None or limit is None or isinstance(limit, bool):
        reason = threshold.reason if threshold is not None else _NO_THRESHOLD
        return IndicatorResult(spec, number, threshold, _UNDETERMINED, reason, None)
    if _compare(spec.comparator, number, limit):
        return IndicatorResult(spec, number, threshold, _MET, None, None)
    distance = _distance(spec.comparator, number, float(limit))
    return IndicatorResult(spec, number, threshold, _NOT_MET, None, distance)


def _rule_status(
    rule: str, k: int | None, statuses: Sequence[str]
) -> tuple[CriterionStatus, Message]:
    total = len(statuses)
    met = statuses.count(_MET)
    basically = statuses.count(_BASICALLY_MET)
    unknown = statuses.count(_UNDETERMINED)
    if rule == CriterionRule.ANY:
        need, label = 1, Message(Msg.RULE_ANY)
    elif rule == CriterionRule.AT_LEAST:
        need = k if k is not None else total
        label = Message(Msg.RULE_AT_LEAST, {"need": need, "total": total})
    else:
        need, label = total, Message(Msg.RULE_ALL, {"total": total})
    params: dict[str, Param | Message] = {
        "met": met,
        "total": total,
        "basically": basically,
        "unknown": unknown,
        "rule": label,
    }
    if met >= need:
        return CriterionStatus.MET, Message(Msg.RULE_MET, params)
    if met + basically >= need:
        return CriterionStatus.BASICALLY_MET, Message(Msg.RULE_BASICALLY_MET, params)
    if met + basically + unknown >= need:
        return CriterionStatus.UNDETERMINED, Message(Msg.RULE_UNDETERMINED, params)
    return CriterionStatus.NOT_MET, Message(Msg.RULE_NOT_MET, params)


def evaluate_criterion(
    spec: CriterionSpec,
    indicators: Sequence[IndicatorResult],
    judgement: StoredJudgement | None,
) -> CriterionResult:
    computed: CriterionStatus
    reason: Text
    if spec.rule == CriterionRule.JUDGEMENT:
        computed, reason = CriterionStatus.UNDETERMINED, Message(Msg.CRITERION_BY_JUDGEMENT)
    elif not indicators:
        computed = CriterionStatus.UNDETERMINED
        reason = Message(Msg.CRITERION_WITHOUT_INDICATORS)
    else:
        computed, reason = _rule_status(spec.rule, spec.k, [i.status for i in indicators])
    status = computed
    judged: JudgementResult | None = None
    if judgement is not None:
        status = CriterionStatus(judgement.status)
        reason = judgement.reason
        judged = JudgementResult(
            status=judgement.status,
            reason=judgement.reason,
            judged_by=judgement.judged_by_name,
            judged_at=judgement.judged_at,
        )
    return CriterionResult(
        criterion_id=spec.id,
        number=spec.number,
        name=spec.name,
        group=spec.group,
        rule=str(spec.rule) if spec.rule != CriterionRule.AT_LEAST else f"at_least_{spec.k}",
        computed_status=computed,
        status=status,
        reason=reason,
        judgement=judged,
        indicators=tuple(indicators),
    )


def evaluate_condition(spec: ConditionSpec, stored: StoredCondition | None) -> ConditionResult:
    def result(
        status: ConditionStatus, reason: Text | None, value: float | bool | None
    ) -> ConditionResult:
        return ConditionResult(
            code=spec.code,
            name=spec.name,
            kind=str(spec.kind),
            comparator=str(spec.comparator) if spec.comparator is not None else None,
            threshold=spec.threshold,
            value=value,
            status=status,
            reason=reason,
        )

    if stored is None or (stored.value_number is None and stored.value_bool is None):
        return result(ConditionStatus.MISSING, NO_VALUE, None)
    value: float | bool = (
        stored.value_bool if stored.value_bool is not None else float(stored.value_number or 0)
    )
    threshold = spec.threshold
    if threshold is None and spec.kind == IndicatorKind.BOOLEAN:
        threshold = True
    if threshold is None:
        why = (
            Msg.CONDITION_LEFT_TO_PROVINCE if spec.left_to_province else Msg.CONDITION_NO_THRESHOLD
        )
        return result(ConditionStatus.UNVERIFIED, Message(why), value)
    if spec.kind == IndicatorKind.BOOLEAN or isinstance(threshold, bool):
        met = bool(value) == bool(threshold)
    else:
        met = _compare(spec.comparator, float(value), float(threshold))
    return result(ConditionStatus.MET if met else ConditionStatus.NOT_MET, spec.note, value)


_PREREQUISITE_REASONS: dict[str, Message] = {
    PrerequisiteKind.TITLE: Message(Msg.PREREQUISITE_TITLE),
    PrerequisiteKind.INCOME_RATIO: Message(Msg.PREREQUISITE_INCOME_RATIO),
}
_BY_REVIEWER = Message(Msg.PREREQUISITE_BY_REVIEWER)


def evaluate_prerequisite(
    spec: PrerequisiteSpec, register: RegisterFacts | None = None
) -> PrerequisiteResult:
    def result(status: PrerequisiteStatus, reason: Text) -> PrerequisiteResult:
        return PrerequisiteResult(
            kind=str(spec.kind),
            description=spec.description,
            data=dict(spec.data),
            status=status,
            reason=reason,
        )

    unverified = result(
        PrerequisiteStatus.UNVERIFIED, _PREREQUISITE_REASONS.get(str(spec.kind), _BY_REVIEWER)
    )
    if register is None:
        return unverified
    on = register.on.isoformat()
    title = spec.data.get("title")
    if spec.kind == PrerequisiteKind.TITLE and isinstance(title, str):
        # Advanced needs NTM held, model needs advanced (318/QĐ-TTg, 319/QĐ-TTg), at the date.
        if title in register.held_or_implied:
            return result(
                PrerequisiteStatus.MET,
                Message(Msg.PREREQUISITE_TITLE_HELD, {"title": title, "on": on}),
            )
        return result(
            PrerequisiteStatus.NOT_MET,
            Message(Msg.PREREQUISITE_TITLE_NOT_HELD, {"title": title, "on": on}),
        )
    level = spec.data.get("level")
    share = spec.data.get("share")
    if (
        spec.kind == PrerequisiteKind.SUBUNITS_WITH_TITLE
        and isinstance(title, str)
        and isinstance(level, str)
        and isinstance(share, int | float)
    ):
        holding, total = register.subunits.get((level, title), (0, 0))
        if total == 0:
            return unverified
        reason = Message(
            Msg.PREREQUISITE_SUBUNITS,
            {
                "holding": holding,
                "total": total,
                "level": level,
                "title": title,
                "share": share,
                "on": on,
            },
        )
        met = holding / total >= float(share)
        return result(PrerequisiteStatus.MET if met else PrerequisiteStatus.NOT_MET, reason)
    return unverified


def evaluate_revocation(
    bands: Sequence[RevocationBand],
    criteria: Sequence[CriterionResult],
    note: str | None,
    title: str | None = None,
    register: RegisterFacts | None = None,
) -> RevocationResult:
    total = len(criteria)
    failing = tuple(c.number for c in criteria if c.status == CriterionStatus.NOT_MET)
    share = round(len(failing) / total, 4) if total else 0.0
    matched: BandMatch | None = None
    for band in bands:
        if share < band.min_failing_share:
            continue
        if band.max_failing_share is not None and share >= band.max_failing_share:
            continue
        key = tuple(n for n in failing if n in band.requires_failing_criterion)
        if band.requires_failing_criterion and not key:
            continue
        matched = BandMatch(
            min_failing_share=band.min_failing_share,
            max_failing_share=band.max_failing_share,
            requires_failing_criterion=band.requires_failing_criterion,
            key_criteria_failing=key,
        )
        break
    holds: bool | None = None
    reason = Message(Msg.REVOCATION_NEEDS_RECOGNITIONS if bands else Msg.REVOCATION_NO_BANDS)
    if register is not None and title is not None:
        # Only a title held by its own decision can be revoked.
        holds = title in register.held
        if bands:
            said = Msg.REVOCATION_HOLDS_TITLE if holds else Msg.REVOCATION_TITLE_NOT_HELD
            reason = Message(said, {"on": register.on.isoformat()})
    return RevocationResult(
        bands_defined=bool(bands),
        failing_criteria=failing,
        failing_share=share,
        band=matched,
        reason=reason,
        note=note,
        unit_holds_title=holds,
    )


def _blocking(
    total: int, counts: Mapping[CriterionStatus, int], conditions: Sequence[ConditionResult]
) -> list[Message]:
    """What keeps the title out of reach. A title needs every criterion met (18/2022/QĐ-TTg
    art. 4); not met, undetermined and only basically met are counted apart, so that the
    sentence says which of them it is."""
    if total == 0:
        return [Message(Msg.SET_WITHOUT_CRITERIA)]
    out = [
        Message(key, {"count": counts[status], "total": total})
        for status, key in (
            (CriterionStatus.NOT_MET, Msg.CRITERIA_NOT_MET),
            (CriterionStatus.UNDETERMINED, Msg.CRITERIA_UNDETERMINED),
            (CriterionStatus.BASICALLY_MET, Msg.CRITERIA_BASICALLY_MET),
        )
        if counts[status]
    ]
    out.extend(
        Message(Msg.CONDITION_BLOCKING, {"code": c.code, "status": c.status})
        for c in conditions
        if c.status in (ConditionStatus.NOT_MET, ConditionStatus.MISSING)
    )
    return out


def evaluate(
    spec: SetSpec,
    thresholds: Mapping[uuid.UUID, Threshold],
    values: Mapping[uuid.UUID, StoredValue],
    judgements: Mapping[uuid.UUID, StoredJudgement],
    conditions: Mapping[str, StoredCondition],
    register: RegisterFacts | None = None,
) -> Evaluation:
    indicator_results = {
        ind.id: evaluate_indicator(ind, values.get(ind.id), thresholds.get(ind.id))
        for ind in spec.indicators
    }
    criteria = tuple(
        evaluate_criterion(c, [indicator_results[i] for i in c.indicator_ids], judgements.get(c.id))
        for c in spec.criteria
    )
    counts = dict.fromkeys(CriterionStatus, 0)
    for criterion in criteria:
        counts[criterion.status] += 1
    total = len(criteria)
    condition_results = tuple(
        evaluate_condition(c, conditions.get(c.code)) for c in spec.conditions
    )
    prerequisite_results = tuple(evaluate_prerequisite(p, register) for p in spec.prerequisites)
    blocking = _blocking(total, counts, condition_results)
    blocking.extend(
        Message(Msg.PREREQUISITE_BLOCKING, {"kind": p.kind})
        for p in prerequisite_results
        if p.status == PrerequisiteStatus.NOT_MET
    )
    unverified = [c.code for c in condition_results if c.status == ConditionStatus.UNVERIFIED]
    unverified += [
        p.kind for p in prerequisite_results if p.status == PrerequisiteStatus.UNVERIFIED
    ]
    attainable: bool | None
    if blocking:
        attainable = False
    elif unverified:
        attainable = None
    else:
        attainable = True
    return Evaluation(
        criteria_set=SetRef(id=spec.id, code=spec.code, title=spec.title, criteria_count=total),
        summary=Summary(
            criteria_total=total,
            criteria_met=counts[CriterionStatus.MET],
            criteria_basically_met=counts[CriterionStatus.BASICALLY_MET],
            criteria_not_met=counts[CriterionStatus.NOT_MET],
            criteria_undetermined=counts[CriterionStatus.UNDETERMINED],
            indicators_total=len(spec.indicators),
            indicators_met=sum(1 for r in indicator_results.values() if r.status is _MET),
            indicators_missing=sum(1 for r in indicator_results.values() if r.status is _MISSING),
        ),
        title=TitleOutlook(
            title=spec.title,
            attainable=attainable,
            blocking=tuple(blocking),
            unverified=tuple(unverified),
        ),
        criteria=criteria,
        conditions=condition_results,
        prerequisites=prerequisite_results,
        revocation=evaluate_revocation(
            spec.revocation_bands, criteria, spec.revocation_note, spec.title, register
        ),
    )


def gaps(evaluation: Evaluation) -> tuple[Gap, ...]:
    """What stands between the unit and the title, ordered by criterion number."""
    out = [
        Gap(
            criterion_id=criterion.criterion_id,
            number=criterion.number,
            name=criterion.name,
            status=criterion.status,
            reason=criterion.reason,
            indicators=tuple(i for i in criterion.indicators if i.status != IndicatorStatus.MET),
        )
        for criterion in evaluation.criteria
        if criterion.status != CriterionStatus.MET
    ]
    out.sort(key=lambda item: item.number)
    return tuple(out)
