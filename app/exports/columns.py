"""What an export holds: named, typed, described columns (the contract a reporting tool reads).

Column names are stable ``snake_case``; a table adds columns at the end and never renames or
retypes one (a Power BI query refers to them by name). Every table about units starts with
:data:`UNIT_COLUMNS`, the unit as it stood on the export's date with the codes and names of the
units above it, which ``app.units.query.placement_select`` gives under the same names.
"""

from __future__ import annotations

from dataclasses import dataclass

from app.models.enums import ColumnType


@dataclass(frozen=True, slots=True)
class Column:
    name: str
    type: ColumnType
    description: str


@dataclass(frozen=True, slots=True)
class Table:
    """One flat table: its name (file and sheet name), a title and its columns in order."""

    name: str
    title: str
    columns: tuple[Column, ...]

    @property
    def names(self) -> tuple[str, ...]:
        return tuple(column.name for column in self.columns)


def text(name: str, description: str) -> Column:
    return Column(name, ColumnType.TEXT, description)


def integer(name: str, description: str) -> Column:
    return Column(name, ColumnType.INTEGER, description)


def number(name: str, description: str) -> Column:
    return Column(name, ColumnType.NUMBER, description)


def boolean(name: str, description: str) -> Column:
    return Column(name, ColumnType.BOOLEAN, description)


def day(name: str, description: str) -> Column:
    return Column(name, ColumnType.DATE, description)


def instant(name: str, description: str) -> Column:
    return Column(name, ColumnType.DATETIME, description)


def identifier(name: str, description: str) -> Column:
    return Column(name, ColumnType.UUID, description)


def unit_columns(prefix: str = "", about: str = "the unit") -> tuple[Column, ...]:
    """The unit and its parents on the export's date; ``prefix`` names a second unit of a row
    (``new_`` in the 2025 crosswalk)."""
    return (
        identifier(f"{prefix}unit_id", f"Id of {about}."),
        text(
            f"{prefix}unit_code",
            f"Official code of {about} on the date (a code means "
            "nothing without its date: codes are reused).",
        ),
        text(f"{prefix}unit_name", f"Name of {about} on the date."),
        text(f"{prefix}unit_type", f"Type of {about} (xa, phuong, thi_tran, huyen, …)."),
        text(f"{prefix}unit_level", f"Level of {about}: province, district, commune, village."),
        text(f"{prefix}province_code", f"Code of the province of {about} on the date."),
        text(f"{prefix}province_name", f"Name of the province of {about} on the date."),
        text(
            f"{prefix}district_code",
            f"Code of the district of {about} on the date (empty "
            "from 2025-07-01, when districts were abolished).",
        ),
        text(f"{prefix}district_name", f"Name of the district of {about} on the date."),
        text(f"{prefix}commune_code", f"Code of the commune of {about} (villages) on the date."),
        text(f"{prefix}commune_name", f"Name of the commune of {about} (villages) on the date."),
    )


UNIT_COLUMNS = unit_columns()
