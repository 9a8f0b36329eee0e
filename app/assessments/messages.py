"""The wording of the evaluation, in Vietnamese (the default) and English.

The engine says what it found as :class:`~app.assessments.engine.Message` (a key and
parameters); this module turns one into a sentence in the caller's language, at the edge
(``app.assessments.present``). Text that is data (a reviewer's reasons) passes through.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from functools import lru_cache
from typing import Any, Final

from app.assessments.engine import Message, Msg, Text
from app.core.http import Language
from app.models.enums import ConditionStatus

# key → (vi, en); ``{name}`` are the message's parameters, rendered first when they are messages.
WORDING: Final[dict[Msg, tuple[str, str]]] = {
    Msg.HEADLINE: ("đạt {met}/{total} tiêu chí", "{met}/{total} criteria met"),
    Msg.NO_VALUE: ("Chưa nhập giá trị.", "No value recorded."),
    Msg.NO_JUDGEMENT: ("Chưa có kết luận đánh giá.", "No judgement recorded."),
    Msg.NO_THRESHOLD: (
        "Không có ngưỡng áp dụng cho đơn vị trong năm này (bộ tiêu chí chưa quy định).",
        "No threshold applies to this unit and year (the set leaves it unspecified).",
    ),
    Msg.YES_NO_THRESHOLD: (
        "chỉ tiêu có/không: đạt khi câu trả lời là có",
        "yes/no indicator: met when the answer is yes",
    ),
    Msg.THRESHOLD_MISSING: ("Không có ngưỡng áp dụng: {why}.", "No threshold applies: {why}."),
    Msg.MISSING_LEFT_TO_PROVINCE: (
        "do tỉnh quy định, chưa có giá trị cho đơn vị này",
        "left to the province: no value has been set for this unit",
    ),
    Msg.MISSING_REGION_UNKNOWN: (
        "chưa ghi nhận vùng của đơn vị tại ngày đó, trong khi giá trị phụ thuộc vào vùng",
        "the unit's NTM region is not recorded at that date, and the values depend on it",
    ),
    Msg.MISSING_COMMUNE_GROUP_UNKNOWN: (
        "chưa ghi nhận nhóm xã của đơn vị tại ngày đó, trong khi giá trị phụ thuộc vào nhóm xã",
        "the unit's commune group is not recorded at that date, and the values depend on it",
    ),
    Msg.MISSING_NOT_FOUND: (
        "không tìm thấy giá trị cho vùng, năm hoặc nhóm của đơn vị",
        "no value was found for this unit's region, year or group",
    ),
    Msg.THRESHOLD_DEFAULT: (
        "Giá trị của bộ tiêu chí cho mọi đơn vị.",
        "The set's value for every unit.",
    ),
    Msg.THRESHOLD_MATCHED: ("Giá trị của bộ tiêu chí cho {where}.", "The set's value for {where}."),
    Msg.THRESHOLD_PROVINCE: (
        "Do tỉnh quy định ({number}) cho {where}.",
        "Set by the province ({number}) for {where}.",
    ),
    Msg.ITS_DECISION: ("quyết định của tỉnh", "its decision"),
    Msg.RULE_ALL: ("cả {total} chỉ tiêu", "all {total} indicators"),
    Msg.RULE_ANY: ("ít nhất một chỉ tiêu", "any indicator"),
    Msg.RULE_AT_LEAST: ("ít nhất {need}/{total} chỉ tiêu", "at least {need} of {total} indicators"),
    Msg.RULE_MET: (
        "Đạt {met}/{total} chỉ tiêu (yêu cầu {rule}).",
        "{met}/{total} indicators met ({rule} required).",
    ),
    Msg.RULE_NOT_MET: (
        "Đạt {met}/{total} chỉ tiêu (yêu cầu {rule}).",
        "{met}/{total} indicators met ({rule} required).",
    ),
    Msg.RULE_BASICALLY_MET: (
        "Đạt {met}/{total} chỉ tiêu và {basically} chỉ tiêu cơ bản đạt theo kết luận đánh giá "
        "(yêu cầu {rule}).",
        "{met}/{total} met and {basically} basically met by recorded judgements ({rule} required).",
    ),
    Msg.RULE_UNDETERMINED: (
        "Đạt {met}/{total} chỉ tiêu; {unknown} chỉ tiêu chưa xác định được vì thiếu ngưỡng "
        "(yêu cầu {rule}).",
        "{met}/{total} met; {unknown} cannot be decided without a threshold ({rule} required).",
    ),
    Msg.CRITERION_BY_JUDGEMENT: (
        "Bộ tiêu chí để tiêu chí này cho người thẩm định kết luận.",
        "The set leaves this criterion to a reviewer's judgement.",
    ),
    Msg.CRITERION_WITHOUT_INDICATORS: (
        "Bộ tiêu chí không quy định chỉ tiêu cho tiêu chí này: người thẩm định phải kết luận.",
        "The set defines no indicators for this criterion: a reviewer must judge it.",
    ),
    Msg.CONDITION_LEFT_TO_PROVINCE: (
        "Tỷ lệ yêu cầu chưa được cấu hình cho bộ tiêu chí này (do tỉnh quy định).",
        "The required rate is not configured for this set (left to the province).",
    ),
    Msg.CONDITION_NO_THRESHOLD: (
        "Bộ tiêu chí không nêu ngưỡng cho điều kiện này.",
        "The set states no threshold for this condition.",
    ),
    Msg.CONDITION_BLOCKING: ("Điều kiện {code}: {status}.", "Condition {code}: {status}."),
    Msg.PREREQUISITE_TITLE: (
        "Chưa thể kiểm tra danh hiệu đã đạt cho đến khi các quyết định công nhận được ghi nhận "
        "trên hệ thống.",
        "Titles held cannot be checked until recognitions are recorded on the platform.",
    ),
    Msg.PREREQUISITE_INCOME_RATIO: (
        "Cần ngưỡng thu nhập của danh hiệu kia áp dụng cùng thời điểm; người thẩm định kiểm tra "
        "cho đến khi các quyết định công nhận và bộ tiêu chí đó được liên kết.",
        "Needs the income threshold of the other title that applies at the same time; "
        "checked by the reviewer until recognitions and that set are linked.",
    ),
    Msg.PREREQUISITE_BY_REVIEWER: (
        "Do tỉnh quy định; người thẩm định kiểm tra.",
        "Specified by the province; checked by the reviewer.",
    ),
    Msg.PREREQUISITE_TITLE_HELD: (
        "Theo sổ đăng ký danh hiệu, đơn vị giữ danh hiệu {title} vào ngày {on}.",
        "The register of titles shows the unit holding {title} on {on}.",
    ),
    Msg.PREREQUISITE_TITLE_NOT_HELD: (
        "Theo sổ đăng ký danh hiệu, đơn vị không giữ danh hiệu {title} vào ngày {on}.",
        "The register of titles shows the unit not holding {title} on {on}.",
    ),
    Msg.PREREQUISITE_SUBUNITS: (
        "{holding}/{total} đơn vị cấp {level} trực thuộc giữ danh hiệu {title} vào ngày {on} "
        "(yêu cầu tỷ lệ {share}).",
        "{holding}/{total} units of level {level} below hold {title} on {on} "
        "(share required: {share}).",
    ),
    Msg.PREREQUISITE_BLOCKING: (
        "Điều kiện tiên quyết {kind}: chưa đạt.",
        "Prerequisite {kind}: not met.",
    ),
    Msg.NEEDS_TITLE: ("đã đạt danh hiệu {title}", "holds the title {title}"),
    Msg.NEEDS_INCOME_RATIO: (
        "chỉ tiêu thu nhập {indicator} đạt ít nhất {ratio} lần ngưỡng của {of_title} áp dụng "
        "cùng thời điểm",
        "income indicator {indicator} at least {ratio} × the threshold of {of_title} that "
        "applies at the same time",
    ),
    Msg.NEEDS_SMART_VILLAGES: (
        "có ít nhất {min_count} thôn thông minh",
        "at least {min_count} smart village(s)",
    ),
    Msg.NEEDS_OTHER: ("{kind}", "{kind}"),
    Msg.WITH_NOTE: ("{text} — {note}", "{text} — {note}"),
    Msg.REVOCATION_NEEDS_RECOGNITIONS: (
        "Chỉ áp dụng nếu đơn vị đang giữ danh hiệu; các quyết định công nhận chưa được ghi nhận.",
        "Applies only if the unit holds the title; recognitions are not recorded yet.",
    ),
    Msg.REVOCATION_HOLDS_TITLE: (
        "Đơn vị đang giữ danh hiệu vào ngày {on} (theo sổ đăng ký danh hiệu).",
        "The unit holds the title on {on} (register of titles).",
    ),
    Msg.REVOCATION_TITLE_NOT_HELD: (
        "Đơn vị không giữ danh hiệu vào ngày {on}: không có gì để thu hồi.",
        "The unit does not hold the title on {on}: there is nothing to revoke.",
    ),
    Msg.REVOCATION_NO_BANDS: (
        "Bộ tiêu chí không quy định mức thu hồi danh hiệu.",
        "The set defines no revocation bands.",
    ),
    Msg.SET_WITHOUT_CRITERIA: ("Bộ tiêu chí không có tiêu chí nào.", "The set has no criteria."),
    Msg.CRITERIA_NOT_MET: (
        "{count}/{total} tiêu chí chưa đạt.",
        "{count} of {total} criteria not met.",
    ),
    Msg.CRITERIA_UNDETERMINED: (
        "{count}/{total} tiêu chí chưa xác định được (thiếu ngưỡng hoặc chờ kết luận).",
        "{count} of {total} criteria cannot be decided yet (a threshold or a judgement is "
        "missing).",
    ),
    Msg.CRITERIA_BASICALLY_MET: (
        "{count}/{total} tiêu chí mới cơ bản đạt.",
        "{count} of {total} criteria only basically met.",
    ),
    Msg.WHERE: ("", ""),  # rendered by _where
}

# Words that appear as parameters: statuses and the dimensions of a threshold.
WORDS: Final[dict[str, tuple[str, str]]] = {
    ConditionStatus.MET: ("đạt", "met"),
    ConditionStatus.NOT_MET: ("chưa đạt", "not met"),
    ConditionStatus.MISSING: ("chưa có giá trị", "no value"),
    ConditionStatus.UNVERIFIED: ("chưa kiểm tra được", "unverified"),
    "region": ("vùng", "region"),
    "year": ("năm", "year"),
    "commune_group": ("nhóm xã", "commune group"),
    "classification": ("phân loại", "classification"),
    "any_unit": ("mọi đơn vị", "any unit"),
}


def word(key: str, language: Language) -> str:
    pair = WORDS.get(key)
    if pair is None:
        return key
    return pair[1] if language == "en" else pair[0]


def _where(params: Iterable[tuple[str, Any]], language: Language) -> str:
    parts = [f"{word(key, language)} {_param(value, language)}" for key, value in params]
    return ", ".join(parts) or word("any_unit", language)


def _param(value: Any, language: Language) -> Any:
    if isinstance(value, Message):
        return render(value, language)
    if isinstance(value, StrEnum):
        return word(value.value, language)
    return value


def render(text: Text, language: Language) -> str:
    """A message in ``language``; data text as it is."""
    if isinstance(text, str):
        return text
    return _render(text, language)


@lru_cache(maxsize=8192)
def _render(message: Message, language: Language) -> str:
    params: Any = message.params
    if message.key is Msg.WHERE:
        return _where(params, language)
    vi, en = WORDING[message.key]
    template = en if language == "en" else vi
    if not params:
        return template
    return template.format_map({k: _param(v, language) for k, v in params})


def render_optional(text: Text | None, language: Language) -> str | None:
    return None if text is None else render(text, language)
