"""Comparing Vietnamese text as people type it.

``fold`` is what the units' ``name_folded`` column holds and what ``q=`` is compared with, and how
spelled values of an import (``Đạt``, ``chưa đạt``, ``có``) are recognised: lower case, diacritics
removed, ``đ`` → ``d`` (it is a letter of its own, not a d with a mark, so Unicode decomposition
leaves it alone), runs of spaces collapsed. Changing it changes stored ``name_folded`` values.
"""

from __future__ import annotations

import re
import unicodedata

_SPACES = re.compile(r"\s+")
_D = str.maketrans({"đ": "d", "Đ": "d"})


def fold(text: str) -> str:
    decomposed = unicodedata.normalize("NFD", text.translate(_D))
    stripped = "".join(ch for ch in decomposed if not unicodedata.combining(ch))
    return _SPACES.sub(" ", stripped.casefold()).strip()
