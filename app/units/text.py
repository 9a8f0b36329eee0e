"""Unit names, codes and type labels as users spell them.

``fold`` (``app.core.text``) is what the ``name_folded`` column holds and what ``q=`` is compared
with.
"""

from __future__ import annotations

import re
import unicodedata

from app.core.text import fold as fold
from app.models.enums import UnitLevel, UnitType

_SPACES = re.compile(r"\s+")


def normalise_name(name: str) -> str:
    return _SPACES.sub(" ", unicodedata.normalize("NFC", name)).strip()


# Official code widths (statistics office): province 2 digits, district 3, commune 5.
CODE_WIDTH = {UnitLevel.PROVINCE: 2, UnitLevel.DISTRICT: 3, UnitLevel.COMMUNE: 5}
_WIDTH_OF_LEVEL: dict[str, int] = {level.value: width for level, width in CODE_WIDTH.items()}


def code_candidates(code: str) -> list[tuple[UnitLevel | None, str]]:
    """The stored forms a code given by a user can have: ``7444`` is commune ``07444``.

    Official codes are stored zero-padded; their width tells the level, so a number given without
    its leading zeros is matched at each official level it fits, and as given (village codes).
    """
    code = code.strip()
    forms: list[tuple[UnitLevel | None, str]] = [(None, code)]
    if code.isdigit():
        for level, width in CODE_WIDTH.items():
            if len(code) <= width:
                padded = code.zfill(width)
                if padded != code:
                    forms.append((level, padded))
    return forms


def padded(code: str, level: str) -> str:
    """A numeric code given without its leading zeros, as stored at ``level`` (``7444`` is
    commune ``07444``); other codes as given."""
    code = code.strip()
    width = _WIDTH_OF_LEVEL.get(level)
    if width and code.isdigit() and len(code) < width:
        return code.zfill(width)
    return code


def code_spellings(code: str) -> set[str]:
    """Every stored form a numeric code can have at any level (a district's ``218`` is
    ``00218`` padded as a commune code): to tell "no such code" from "a code of another level"."""
    if not code.isdigit():
        return {code}
    bare = code.lstrip("0") or "0"
    return {code, bare, *(bare.zfill(width) for width in CODE_WIDTH.values())}


TYPE_LABELS: dict[UnitType, str] = {
    UnitType.TINH: "Tỉnh",
    UnitType.THANH_PHO_TW: "Thành phố trực thuộc trung ương",
    UnitType.HUYEN: "Huyện",
    UnitType.QUAN: "Quận",
    UnitType.THI_XA: "Thị xã",
    UnitType.THANH_PHO: "Thành phố thuộc tỉnh",
    UnitType.XA: "Xã",
    UnitType.PHUONG: "Phường",
    UnitType.THI_TRAN: "Thị trấn",
    UnitType.DAC_KHU: "Đặc khu",
    UnitType.THON: "Thôn",
    UnitType.BAN: "Bản",
    UnitType.AP: "Ấp",
    UnitType.TO_DAN_PHO: "Tổ dân phố",
    UnitType.LANG: "Làng",
    UnitType.KHOM: "Khóm",
    UnitType.BUON: "Buôn",
    UnitType.PHUM: "Phum",
    UnitType.SOC: "Sóc",
}

_TYPE_BY_FOLDED = {fold(label): t for t, label in TYPE_LABELS.items()} | {
    fold(t.value.replace("_", " ")): t for t in UnitType
}


def parse_type(text: str) -> UnitType | None:
    """``to_dan_pho``, ``Tổ dân phố`` and ``TO DAN PHO`` are all the same type."""
    return _TYPE_BY_FOLDED.get(fold(text.replace("_", " ")))
