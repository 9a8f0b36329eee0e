"""Which unit level holds which title, and the ladders titles climb (DOMAIN.md §3).

Pure data and rules, below every layer that uses them.
"""

from __future__ import annotations

from collections.abc import Iterable

from app.models.enums import Title, UnitLevel

TITLE_LEVEL: dict[Title, UnitLevel] = {
    Title.NTM_COMMUNE: UnitLevel.COMMUNE,
    Title.ADVANCED_NTM_COMMUNE: UnitLevel.COMMUNE,
    Title.MODEL_NTM_COMMUNE: UnitLevel.COMMUNE,
    Title.MODERN_NTM_COMMUNE: UnitLevel.COMMUNE,
    # District level: districts, and towns / provincial cities completing the task (320/QĐ-TTg).
    Title.NTM_DISTRICT: UnitLevel.DISTRICT,
    Title.ADVANCED_NTM_DISTRICT: UnitLevel.DISTRICT,
    Title.COMPLETED_NTM_TOWN: UnitLevel.DISTRICT,
    Title.COMPLETED_NTM_PROVINCE: UnitLevel.PROVINCE,
    Title.NTM_VILLAGE: UnitLevel.VILLAGE,
    Title.MODEL_VILLAGE: UnitLevel.VILLAGE,
    Title.SMART_VILLAGE: UnitLevel.VILLAGE,
}

# Each title on a ladder requires the one below it: advanced needs NTM, model needs advanced
# (318/QĐ-TTg, 319/QĐ-TTg); an advanced NTM district needs NTM (320/QĐ-TTg). The pilot modern
# NTM commune of 51/2025/QĐ-TTg and the village titles (provincial sets) are on no ladder: no
# shared text orders them.
LADDERS: tuple[tuple[Title, ...], ...] = (
    (Title.NTM_COMMUNE, Title.ADVANCED_NTM_COMMUNE, Title.MODEL_NTM_COMMUNE),
    (Title.NTM_DISTRICT, Title.ADVANCED_NTM_DISTRICT),
)


def ladder_of(title: Title) -> tuple[Title, ...] | None:
    for ladder in LADDERS:
        if title in ladder:
            return ladder
    return None


def ladder_at(level: UnitLevel | str) -> tuple[Title, ...] | None:
    """The ladder of the level's titles (communes, districts), None for other levels."""
    for ladder in LADDERS:
        if TITLE_LEVEL[ladder[0]] == level:
            return ladder
    return None


def implied(held: Iterable[Title]) -> frozenset[Title]:
    """The titles held and those below them on their ladder: a commune recognised advanced
    has met NTM, whether or not its NTM decision is in the register."""
    found = set(held)
    for title in list(found):
        ladder = ladder_of(title)
        if ladder is not None:
            found.update(ladder[: ladder.index(title)])
    return frozenset(found)


def highest(held: Iterable[Title], ladder: tuple[Title, ...]) -> Title | None:
    """The highest title of ``ladder`` among ``held`` (None when it holds none of them)."""
    ranks = [ladder.index(title) for title in held if title in ladder]
    return ladder[max(ranks)] if ranks else None
