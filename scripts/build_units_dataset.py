#!/usr/bin/env python3
"""Build the project's administrative-unit dataset from ``vietnam-provinces`` 2026.9.0.

Rebuild (from the repository root; no Makefile needed, nothing is installed into .venv):

    ~/.pyenv/versions/3.12.1/bin/python -m venv /tmp/vp312 && /tmp/vp312/bin/pip install vietnam-provinces==2026.9.0 && /tmp/vp312/bin/python scripts/build_units_dataset.py --out app/units/data --docs docs/units-dataset.md

Why a throwaway venv: the package is GPL-3.0-or-later and must never be imported by the
runtime; it is used only here, pinned, to derive the project's own dataset (the facts are the
statistics office's public code lists). Every 2026.x release requires Python >= 3.12; on 3.11
pip silently resolves 2025.10.1, which has no legacy data and no lineage -- this script refuses
to run on anything but 2026.9.0.

Outputs (deterministic: sorted rows, gzip with mtime=0, no build date, so reruns are
byte-identical):

* ``<out>/units.csv.gz``        one row per unit VERSION (key, level, code, name, type,
                                parent_key, valid_from, valid_to)
* ``<out>/lineage_2025.csv.gz`` lineage of 2025-07-01 (date, level, from_key, to_key, partly)
* ``<out>/corrections.md``      every correction applied, with the full per-unit lists
* ``--docs PATH`` (optional)    rewrites the block between the BEGIN/END GENERATED markers of
                                docs/units-dataset.md (counts + corrections table)

Both CSV files start with provenance lines beginning with ``# ``; skip them before the header.
See docs/units-dataset.md for the column formats.
"""

from __future__ import annotations

import argparse
import csv
import gzip
import hashlib
import io
import itertools
import re
import sys
import unicodedata
from collections import Counter, defaultdict
from pathlib import Path

PACKAGE = "vietnam-provinces"
PACKAGE_VERSION = "2026.9.0"
PRE_DATE = "2025-01-04"  # the package's legacy (pre-reform) map is as of this date
FIRST_KNOWN_DATE = (
    "2004-08-31"  # first dated list (dvhcvn-historical-data); nothing earlier claimed
)
REFORM_DATE = "2025-07-01"  # post-reform map valid from; pre-reform rows end here (exclusive)
ERA_PRE, ERA_POST = "pre2025", "2025"
LEVEL_RANK = {"province": 0, "district": 1, "commune": 2}
CODE_WIDTH = {"province": 2, "district": 3, "commune": 5}

UNIT_COLUMNS = [
    "key",
    "level",
    "code",
    "name",
    "type",
    "parent_key",
    "valid_from",
    "valid_to",
    "event_key",
    "flags",
]
LINEAGE_COLUMNS = [
    "date",
    "level",
    "from_key",
    "to_key",
    "partly",
    "confidence",
    "rule",
    "event_key",
]
EVENT_COLUMNS = [
    "event_key",
    "date",
    "kind",
    "subject_key",
    "legal_basis_number",
    "legal_basis_date",
    "legal_basis_title",
    "date_basis",
    "basis_source",
    "source",
    "note",
]

# ---------------------------------------------------------------------------------------------
# CORRECTIONS -- every deviation from what the package says. Mirrored (with counts and the full
# per-unit lists) in <out>/corrections.md and in docs/units-dataset.md. The constants below the
# table drive the code and are ASSERTED against the package data, so a different package build
# fails loudly instead of silently producing a different dataset.
# ---------------------------------------------------------------------------------------------
CORRECTIONS = [
    # (id, what the source says, what we use, why)
    (
        "C1 ward 27691 province tag",
        "`_ward_conversion_2025`: old ward 27691 (Phường 4, district 794 TP Tân An) tagged province 82 "
        "(Tiền Giang); hence `Province(80).get_legacy_sources()` lists 82 and `OLD_TO_NEW[82]` lists 80.",
        "Province 80 (Long An), from the legacy tree (district 794 belongs to 80). Province lineage "
        "82 Tiền Giang → 80 Tây Ninh dropped.",
        "Tagging error: the legacy hierarchy places 794 in Long An; every other Tiền Giang commune went "
        "to new 82 Đồng Tháp.",
    ),
    (
        "C2 ward 30781 province tag",
        "Old ward 30781 (Xã Tiên Hải, district 900 TP Hà Tiên) tagged province 89 (An Giang).",
        "Province 91 (Kiên Giang), from the legacy tree.",
        "Tagging error; no effect on province lineage (89 and 91 both went to new 91).",
    ),
    (
        "C3 legacy communes without lineage",
        "NO_LINEAGE_LEGACY (28 codes) are in the legacy list but in no lineage entry.",
        "Kept as pre2025 rows ending 2025-07-01, with NO successor and no lineage row. FLAGGED.",
        "Unknown fate. 7693/7732/7744 (TP Bắc Giang) look already absorbed on 2025-01-01; the rest "
        "cluster in the same districts as C4 (Sơn La; HCMC Bình Thạnh, Phú Nhuận, Q.11, Q.6): the "
        "legacy snapshot and the conversion table reflect different states of the 2023–2025 "
        "rearrangements. Their real end date may be earlier than 2025-07-01.",
    ),
    (
        "C4 lineage sources missing from legacy data",
        "MISSING_LEGACY_SOURCES (10 codes) are lineage sources but not in the legacy list.",
        "Lineage rows from them skipped (no pre2025 unit to point at); their destinations keep their "
        "other sources. `Ward.get_legacy_sources()` silently drops them too.",
        "We cannot invent a name/parent for a unit the pre-reform list does not have.",
    ),
    (
        "C5 partly merged, one destination",
        "132 old communes flagged `is_partly_merged` map to a single new commune (131 after C10). "
        "In each of the 131 the new commune has that commune as its ONLY source, with the same code.",
        "`partly=0`; the commune CONTINUES (same key, second version from 2025-07-01, name/type "
        "from the new list). No lineage row (continuing units have none).",
        "Parser artefact: the package sets partly = 'toàn bộ' not in the table's note, and these "
        "rows' note is \"Giữ nguyên\" (kept unchanged) -- seen in the package's seed CSV for 00859 "
        "Ngọc Long, 00919 Minh Tân, 00922 Thuận Hòa. A partial merge into a unit formed from "
        "nothing else is impossible, so the structural test is used for all 131.",
    ),
    (
        "C6 split communes with per-row flag 0",
        "The flag is per (old, new) row; for communes split between 2+ destinations some rows say 0 "
        '(note "Nhập một phần diện tích, toàn bộ dân số" contains "toàn bộ").',
        "`partly=1` on every row of an old commune with 2+ destinations.",
        "Part of the area went elsewhere, so the merge into each destination is partial; the 0 "
        "marks the destination that took the whole population (not kept; listed in corrections.md).",
    ),
    (
        "C7 đặc khu without lineage",
        "DAC_KHU_NO_LINEAGE: 5 new đặc khu have no lineage entry.",
        "No lineage rows; they are new units (era 2025). Predecessor island districts "
        "(without communes) noted in the docs only.",
        "Their predecessors were districts without communes; districts have no lineage here.",
    ),
    (
        "C8 province type disagreement",
        'Bundled JSON says "Tỉnh" (tỉnh) for 22 Quảng Ninh, 24 Bắc Ninh, 75 Đồng Nai; the Python '
        'objects say "Thành phố …" (thành phố trung ương).',
        'The Python objects: type `thanh_pho_tw`, names "Thành phố Quảng Ninh/Bắc Ninh/Đồng Nai" '
        "from 2025-07-01. FLAGGED: legal basis and effective date unknown, no reclassification event.",
        "Project decision (prefer Python objects). If the upgrade took effect after 2025-07-01 the "
        "2025 version must be split at that date once its legal basis is known.",
    ),
    (
        "C9 names",
        'Mixed tone placement (Hoà/Hòa, Thuỷ/Thủy), lowercase prefix "xã Bắc Sơn" (6325, 2025), '
        '"Thành Phố Bắc Kạn" (058), "Thành Phố Đồng Hới" (450); curly apostrophes in the JSON.',
        "NFC; tone on the first vowel of open oa/oe/uy (not after q): Hòa, Hóa, Hòe, Thủy, Thụy, "
        'Úy; curly → straight apostrophe; prefix capitalised; "Thành Phố" → "Thành phố".',
        "One spelling per name, the style of the official lists. Full change list in corrections.md.",
    ),
    (
        "C10 wrong source code 00553 → 00556",
        "Conversion-table row 'Xã Thuận An 00562 ← Xã Đặng Xá 00553' (seed CSV); 00553 is Xã Cổ Bi. "
        "So the package makes Cổ Bi a source of Thuận An and gives Đặng Xá one destination.",
        "Edge 00553 → 00562 replaced by 00556 Đặng Xá → 00562 (partly=1; Đặng Xá is split between "
        "00541 Phù Đổng and 00562 Thuận An).",
        "Typo in the conversion table (package seed CSV): the row names Đặng Xá; Cổ Bi's other "
        "rows go to "
        "00136, 00541, 00565. Found while checking C5; the table was not audited row by row.",
    ),
    (
        "C11 type word vs type field (dated lists)",
        "A few entries of the dated lists give a name whose type word disagrees with the type "
        "field (Thị xã Cai Lậy listed as Huyện, Huyện Quảng Trạch as Thị xã, Phường 5 as Xã, ...).",
        "Two districts of a province listed with each other's type (Cai Lậy 817/820 from "
        "2013-12-27, Ba Đồn 458 / Quảng Trạch 454 from 2013-12-21): the name's type word. "
        "Otherwise the published type field, and a district's name takes its type word (817 is "
        'listed as "Thị xã Cai Lậy" typed Huyện before the town existed: Huyện Cai Lậy); '
        "communes keep their name, FLAGGED (the official counts count the type field). Type "
        "words capitalised as in the official lists (Thị Xã → Thị xã).",
        "A source error (the names are consistent with the resolutions); the full list is in "
        "docs/units-history.md.",
    ),
]

# Asserted against the package data (see CORRECTIONS).
LINEAGE_PROVINCE_TAG_FIX = {27691: (82, 80), 30781: (89, 91)}  # old ward: (source says, we use)
NO_LINEAGE_LEGACY = {
    1651,
    2482,
    3751,
    3898,
    3913,
    3988,
    3991,
    4003,
    4060,
    7693,
    7732,
    7744,
    16387,
    16411,
    18448,
    20176,
    20674,
    25102,
    25174,
    25177,
    25186,
    26935,
    26959,
    27067,
    27217,
    27223,
    27361,
    27379,
}
MISSING_LEGACY_SOURCES = {3980, 3983, 3984, 26929, 26953, 27076, 27226, 27232, 27367, 27373}
DAC_KHU_NO_LINEAGE = {11948: 318, 19742: 471, 20333: 498, 21548: 536, 26732: 755}  # -> old district
PROVINCE_TYPE_DISAGREEMENT = {22, 24, 75}
EXPECTED_PARTLY_SINGLE_DEST = 132  # before C10; 131 after, all "Giữ nguyên" (C5)
EDGE_CODE_FIX = {(553, 562): (556, 562)}  # C10: (source old, new) -> (our old, new)
EXPECTED_NAME_FIXES = {  # (level, era, code): (source, ours)
    ("commune", ERA_POST, 6325): ("xã Bắc Sơn", "Xã Bắc Sơn"),
    ("district", ERA_PRE, 58): ("Thành Phố Bắc Kạn", "Thành phố Bắc Kạn"),
    ("district", ERA_PRE, 450): ("Thành Phố Đồng Hới", "Thành phố Đồng Hới"),
}

# Expected sizes (reference note + DOMAIN.md §5). Printed and asserted.
EXPECTED = {
    "province_pre": 63,
    "district_pre": 696,
    "commune_pre": 10051,
    "province_post": 34,
    "commune_post": 3321,
}

TYPE_MAP = {
    # (level, package division_type value) -> our type
    ("province", "tỉnh"): "tinh",
    ("province", "thành phố trung ương"): "thanh_pho_tw",
    ("district", "huyện"): "huyen",
    ("district", "quận"): "quan",
    ("district", "thị xã"): "thi_xa",
    ("district", "thành phố"): "thanh_pho",
    ("commune", "xã"): "xa",
    ("commune", "phường"): "phuong",
    ("commune", "thị trấn"): "thi_tran",
    ("commune", "đặc khu"): "dac_khu",
}
TYPE_PREFIX = {
    "tinh": "Tỉnh",
    "thanh_pho_tw": "Thành phố",
    "huyen": "Huyện",
    "quan": "Quận",
    "thi_xa": "Thị xã",
    "thanh_pho": "Thành phố",
    "xa": "Xã",
    "phuong": "Phường",
    "thi_tran": "Thị trấn",
    "dac_khu": "Đặc khu",
}

# ---------------------------------------------------------------------------------------------
# Name normalisation
# ---------------------------------------------------------------------------------------------
_TONES = "\u0300\u0301\u0303\u0309\u0323"  # grave, acute, tilde, hook above, dot below
# In NFD: an open syllable ending in o+a, o+e or u+y (plain second vowel, nothing after it) whose
# tone mark sits on the second vowel. "qu" is a consonant, so quý/quỳ are left alone.
_OLD_TONE = re.compile(rf"(?:(?<=[^qQ])|^)([uU])([yY])([{_TONES}])$|([oO])([aAeE])([{_TONES}])$")
_APOSTROPHES = str.maketrans({"\u2019": "'", "\u2018": "'", "\u02bc": "'", "\u00b4": "'", "`": "'"})


def _move_tone(word: str) -> str:
    d = unicodedata.normalize("NFD", word)
    m = _OLD_TONE.search(d)
    if not m:
        return word
    if m.group(1):
        first, second, tone = m.group(1), m.group(2), m.group(3)
    else:
        first, second, tone = m.group(4), m.group(5), m.group(6)
    return unicodedata.normalize("NFC", d[: m.start()] + first + tone + second)


def normalise_name(name: str) -> tuple[str, list[str]]:
    """Return (normalised name, list of rule ids applied)."""
    rules = []
    n = unicodedata.normalize("NFC", name)
    if n != name:
        rules.append("nfc")
    m = n.translate(_APOSTROPHES)
    if m != n:
        rules.append("apostrophe")
    n = " ".join(m.split())
    if n != m:
        rules.append("whitespace")
    if n[:1].islower():
        n = n[0].upper() + n[1:]
        rules.append("prefix_case")
    if n.startswith("Thành Phố "):
        n = "Thành phố " + n[len("Thành Phố ") :]
        rules.append("prefix_case")
    toned = re.sub(r"\w+", lambda mm: _move_tone(mm.group(0)), n)
    if toned != n:
        rules.append("tone")
    return toned, rules


# ---------------------------------------------------------------------------------------------
# Output helpers
# ---------------------------------------------------------------------------------------------
def key(level: str, code: int, era: str) -> str:
    return f"{level}:{fmt_code(level, code)}:{era}"


def fmt_code(level: str, code: int) -> str:
    return f"{code:0{CODE_WIDTH[level]}d}"


def csv_bytes(provenance: list[str], columns: list[str], rows: list[dict]) -> bytes:
    buf = io.StringIO(newline="")
    for line in provenance:
        assert "\n" not in line
        buf.write(f"# {line}\n")
    w = csv.DictWriter(buf, fieldnames=columns, lineterminator="\n", quoting=csv.QUOTE_MINIMAL)
    w.writeheader()
    w.writerows(rows)
    return buf.getvalue().encode("utf-8")


def write_gz(path: Path, data: bytes) -> None:
    # mtime=0 and no file name in the header: byte-identical reruns (same zlib).
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_bytes(gzip.compress(data, compresslevel=9, mtime=0))
    tmp.replace(path)


def write_text(path: Path, text: str) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(text, encoding="utf-8", newline="\n")
    tmp.replace(path)


def fail(msg: str) -> None:
    raise SystemExit(f"SANITY CHECK FAILED: {msg}")


def check(cond: bool, msg: str) -> None:
    if not cond:
        fail(msg)


# ---------------------------------------------------------------------------------------------
# Build
# ---------------------------------------------------------------------------------------------
def load_package():
    if sys.version_info < (3, 12):
        fail(f"Python >= 3.12 required (found {sys.version.split()[0]}); see the docstring")
    import vietnam_provinces as vp
    from vietnam_provinces import Province, Ward, legacy
    from vietnam_provinces import _ward_conversion_2025 as wc

    check(
        vp.__version__ == PACKAGE_VERSION,
        f"{PACKAGE} {PACKAGE_VERSION} required, found {vp.__version__}",
    )
    check(wc.EFFECTIVE_DATE == REFORM_DATE, f"lineage effective date {wc.EFFECTIVE_DATE}")
    return vp, Province, Ward, legacy, wc


def build():
    vp, Province, Ward, legacy, wc = load_package()
    import json

    name_changes: list[tuple] = []  # (level, era, code, source, ours, rules)

    def unit_name(level, era, code, raw, typ):
        ours, rules = normalise_name(raw)
        if ours != raw:
            name_changes.append((level, era, code, raw, ours, tuple(rules)))
        prefix = TYPE_PREFIX[typ] + " "
        check(
            ours.startswith(prefix), f"{level} {code} {era}: name {ours!r} lacks prefix {prefix!r}"
        )
        check("\u00d0" not in ours and "\u00f0" not in ours, f"eth look-alike in {ours!r}")
        return ours

    # ---- source objects -------------------------------------------------------------------
    LP = {p.code.value: p for p in legacy.Province.iter_all()}
    LD = {d.code.value: d for d in legacy.District.iter_all()}
    LW = {w.code.value: w for w in legacy.Ward.iter_all()}
    NP = {p.code.value: p for p in Province.iter_all()}
    NW = {w.code.value: w for w in Ward.iter_all()}

    counts = {
        "province_pre": len(LP),
        "district_pre": len(LD),
        "commune_pre": len(LW),
        "province_post": len(NP),
        "commune_post": len(NW),
    }
    print("package counts:", counts)
    for k, v in EXPECTED.items():
        check(counts[k] == v, f"{k}: expected {v}, package has {counts[k]}")

    def lw_province(code):
        return LD[LW[code].district_code.value].province_code.value

    # ---- C8: JSON vs Python objects for provinces -----------------------------------------
    nested = json.loads(Path(vp.NESTED_DIVISIONS_JSON_PATH).read_text(encoding="utf-8"))
    disagree = set()
    json_province_names = {jp["code"]: (jp["name"], jp["division_type"]) for jp in nested}
    for jp in nested:
        po = NP[jp["code"]]
        if jp["division_type"] != po.division_type.value or jp["name"] != po.name:
            disagree.add(jp["code"])
    check(
        disagree == PROVINCE_TYPE_DISAGREEMENT,
        f"JSON/Python province disagreement {sorted(disagree)} != {sorted(PROVINCE_TYPE_DISAGREEMENT)}",
    )
    json_ward_diff = 0
    jw = {w["code"]: w for jp in nested for w in jp["wards"]}
    for c, w in NW.items():
        if jw[c]["name"] != w.name:
            check(
                jw[c]["name"].translate(_APOSTROPHES) == w.name,
                f"JSON/Python ward {c} differs beyond apostrophes",
            )
            json_ward_diff += 1

    # ---- lineage edges, with corrections ----------------------------------------------------
    # per-(old, new) flags from NEW_TO_OLD; destinations per old ward from OLD_TO_NEW
    edges: dict[tuple[int, int], bool] = {}
    for n, e in wc.NEW_TO_OLD.items():
        check(n in NW, f"lineage destination {n} not in post-reform list")
        for o in e.old_wards:
            check((o.code, n) not in edges, f"duplicate lineage edge {o.code}->{n}")
            edges[(o.code, n)] = o.is_partly_merged
    dests: dict[int, tuple[int, ...]] = {
        o: tuple(x.code for x in e.new_wards) for o, e in wc.OLD_TO_NEW.items()
    }
    check(
        {(o, n) for o, ns in dests.items() for n in ns} == set(edges),
        "OLD_TO_NEW and NEW_TO_OLD disagree on edges",
    )
    old_flag = {o: e.old_ward.is_partly_merged for o, e in wc.OLD_TO_NEW.items()}

    # C1/C2: province tags on old ward refs vs legacy tree
    tag_mismatch = {}
    for o, e in wc.OLD_TO_NEW.items():
        if o in LW:
            check(e.old_ward.district_code == LW[o].district_code.value, f"district tag of {o}")
            if e.old_ward.province_code != lw_province(o):
                tag_mismatch[o] = (e.old_ward.province_code, lw_province(o))
        for x in e.new_wards:
            check(x.province_code == NW[x.code].province_code.value, f"new province tag {o}->{x}")
    check(tag_mismatch == LINEAGE_PROVINCE_TAG_FIX, f"province tag mismatches {tag_mismatch}")

    # C4: sources missing from legacy data
    missing = {o for o in dests if o not in LW}
    check(missing == MISSING_LEGACY_SOURCES, f"missing legacy sources {sorted(missing)}")
    # C3: legacy communes without lineage
    no_lineage = {c for c in LW if c not in dests}
    check(no_lineage == NO_LINEAGE_LEGACY, f"legacy communes without lineage {sorted(no_lineage)}")
    # C7: new communes without lineage
    no_src = {c for c in NW if c not in wc.NEW_TO_OLD}
    check(no_src == set(DAC_KHU_NO_LINEAGE), f"new communes without lineage {sorted(no_src)}")
    for c, d in DAC_KHU_NO_LINEAGE.items():
        check(NW[c].division_type.value == "đặc khu", f"{c} is not a đặc khu")
        check(
            d in LD and not any(w.district_code.value == d for w in LW.values()),
            f"district {d} should exist and have no communes",
        )
    # cross-check public API (before our corrections): Ward.get_legacy_sources() == NEW_TO_OLD
    # minus the sources missing from the legacy list (C4)
    for n, w in NW.items():
        api = sorted(x.code.value for x in w.get_legacy_sources())
        tab = (
            sorted(o.code for o in wc.NEW_TO_OLD[n].old_wards if o.code in LW)
            if n in wc.NEW_TO_OLD
            else []
        )
        check(api == tab, f"get_legacy_sources({n}) differs from NEW_TO_OLD")
    check(
        not any(old_flag[o] is False and len(dests[o]) > 1 for o in dests),
        "an old commune not flagged partly has 2+ destinations",
    )
    check(
        all(edges[(o, dests[o][0])] == old_flag[o] for o in dests if len(dests[o]) == 1),
        "single-destination flag mismatch",
    )
    partly_single_src = sorted(o for o in dests if old_flag[o] and len(dests[o]) == 1)
    check(
        len(partly_single_src) == EXPECTED_PARTLY_SINGLE_DEST,
        f"partly merged with one destination: {len(partly_single_src)}",
    )

    # C10: wrong source code in one conversion row
    for (so, sn), (oo, on) in EDGE_CODE_FIX.items():
        check((so, sn) in edges and (oo, on) not in edges, f"C10 edge {so}->{sn} as expected")
        check(sn == on and oo in LW and so in LW, "C10 fix keeps the destination")
        edges[(oo, on)] = edges.pop((so, sn))
        dests[so] = tuple(x for x in dests[so] if x != sn)
        dests[oo] = tuple(sorted((*dests[oo], on)))
        check(len(dests[so]) > 0, "C10 leaves the old source with destinations")
    sources: dict[int, list[int]] = defaultdict(list)  # new -> old, corrected
    for o, n in edges:
        sources[n].append(o)

    # C5: flagged partly, one destination, and that destination's ONLY source -> kept unchanged
    partly_single = sorted(o for o in dests if old_flag[o] and len(dests[o]) == 1)
    kept_unchanged = {o for o in partly_single if sources[dests[o][0]] == [o]}
    check(
        kept_unchanged == set(partly_single)
        and len(partly_single) == EXPECTED_PARTLY_SINGLE_DEST - 1,
        f"C5: partly-single {len(partly_single)}, kept-unchanged pattern {len(kept_unchanged)}",
    )
    check(all(dests[o] == (o,) for o in kept_unchanged), "C5: a kept commune changed code")

    # C6 (+ C5): the partly value written to lineage
    def partly(o, n):
        if o in kept_unchanged:
            return False
        return edges[(o, n)] or len(dests[o]) > 1

    split_flag0 = sorted(
        (o, n) for o, ns in dests.items() if len(ns) > 1 for n in ns if not edges[(o, n)]
    )

    # ---- province lineage: public API, C1 applied, cross-checked against commune lineage ----
    prov_src_api = {c: sorted(x.code.value for x in p.get_legacy_sources()) for c, p in NP.items()}
    derived = defaultdict(set)  # new province -> old provinces, from corrected commune edges
    for o, n in edges:
        if o in LW:
            derived[NW[n].province_code.value].add(lw_province(o))
    prov_src = {}
    for c in NP:
        check(
            derived[c] <= set(prov_src_api[c]),
            f"province {c}: commune lineage implies sources {sorted(derived[c])} beyond the API",
        )
        prov_src[c] = sorted(derived[c])
    dropped_prov = {
        (s, c) for c, srcs in prov_src_api.items() for s in srcs if s not in prov_src[c]
    }
    check(dropped_prov == {(82, 80)}, f"province lineage dropped (C1) {dropped_prov}")
    prov_dest = defaultdict(set)
    for c, srcs in prov_src.items():
        for s in srcs:
            prov_dest[s].add(c)
    check(set(prov_dest) == set(LP), "every old province must have a successor")
    check(all(len(v) == 1 for v in prov_dest.values()), "an old province split between new ones")

    # ---- continuity ------------------------------------------------------------------------
    # province: its only source is the old province with the same code, which went only there.
    cont_prov = {c for c, srcs in prov_src.items() if srcs == [c] and prov_dest[c] == {c}}
    # commune: exactly one source, same code, not partly merged (after C5), mapping only here.
    cont_comm = {
        n
        for n, srcs in sources.items()
        if srcs == [n] and n in LW and not partly(n, n) and dests[n] == (n,)
    }

    def new_key(level, code):
        if level == "province" and code in cont_prov:
            return key("province", code, ERA_PRE)
        if level == "commune" and code in cont_comm:
            return key("commune", code, ERA_PRE)
        return key(level, code, ERA_POST)

    # ---- unit rows ---------------------------------------------------------------------------
    rows = []

    def add(level, code, era_key, raw_name, div_type, parent, vfrom, vto, era):
        typ = TYPE_MAP[(level, div_type)]
        rows.append(
            {
                "key": era_key,
                "level": level,
                "code": fmt_code(level, code),
                "name": unit_name(level, era, code, raw_name, typ),
                "type": typ,
                "parent_key": parent,
                "valid_from": vfrom,
                "valid_to": vto,
            }
        )

    for c, p in LP.items():
        add(
            "province",
            c,
            key("province", c, ERA_PRE),
            p.name,
            p.division_type.value,
            "",
            "",
            REFORM_DATE,
            ERA_PRE,
        )
    for c, d in LD.items():
        add(
            "district",
            c,
            key("district", c, ERA_PRE),
            d.name,
            d.division_type.value,
            key("province", d.province_code.value, ERA_PRE),
            "",
            REFORM_DATE,
            ERA_PRE,
        )
    for c, w in LW.items():
        add(
            "commune",
            c,
            key("commune", c, ERA_PRE),
            w.name,
            w.division_type.value,
            key("district", w.district_code.value, ERA_PRE),
            "",
            REFORM_DATE,
            ERA_PRE,
        )
    for c, p in NP.items():
        add(
            "province",
            c,
            new_key("province", c),
            p.name,
            p.division_type.value,
            "",
            REFORM_DATE,
            "",
            ERA_POST,
        )
    for c, w in NW.items():
        add(
            "commune",
            c,
            new_key("commune", c),
            w.name,
            w.division_type.value,
            new_key("province", w.province_code.value),
            REFORM_DATE,
            "",
            ERA_POST,
        )

    rows.sort(key=lambda r: (LEVEL_RANK[r["level"]], r["code"], r["valid_from"], r["key"]))

    # ---- lineage rows ------------------------------------------------------------------------
    lineage = []
    for c, srcs in prov_src.items():
        if c in cont_prov:
            continue
        for s in srcs:
            lineage.append(
                {
                    "date": REFORM_DATE,
                    "level": "province",
                    "from_key": key("province", s, ERA_PRE),
                    "to_key": new_key("province", c),
                    "partly": "0",
                }
            )
    c4_edges = []  # (old, new, partly): sources absent from the package's legacy list (C4)
    for o, n in edges:
        if o not in LW:  # C4: kept aside; the dated lists may know the source (units_history)
            c4_edges.append((o, n, partly(o, n)))
            continue
        if n in cont_comm:
            check(o == n, f"continuing commune {n} has foreign source {o}")
            continue
        check(o not in kept_unchanged, f"C5 commune {o} is not continuing")
        lineage.append(
            {
                "date": REFORM_DATE,
                "level": "commune",
                "from_key": key("commune", o, ERA_PRE),
                "to_key": new_key("commune", n),
                "partly": "1" if partly(o, n) else "0",  # C5, C6 applied
            }
        )
    lineage.sort(key=lambda r: (LEVEL_RANK[r["level"]], r["from_key"], r["to_key"]))

    # ---- sanity checks -----------------------------------------------------------------------
    by_key = defaultdict(list)
    for r in rows:
        by_key[r["key"]].append(r)
    check(len(rows) == len({(r["key"], r["valid_from"]) for r in rows}), "duplicate versions")

    def covers(parent_rows, vfrom, vto):
        lo = vfrom or "0000-00-00"
        hi = vto or "9999-99-99"
        return any(
            (p["valid_from"] or "0000-00-00") <= lo and hi <= (p["valid_to"] or "9999-99-99")
            for p in parent_rows
        )

    for r in rows:
        check(r["code"].isdigit() and len(r["code"]) == CODE_WIDTH[r["level"]], f"code {r}")
        check(r["name"] == unicodedata.normalize("NFC", r["name"]), f"non-NFC {r}")
        if r["level"] == "province":
            check(r["parent_key"] == "", f"province with parent {r}")
            continue
        check(r["parent_key"] in by_key, f"parent_key missing: {r}")
        check(
            covers(by_key[r["parent_key"]], r["valid_from"], r["valid_to"]),
            f"parent not valid over the child version: {r}",
        )
        plevel = by_key[r["parent_key"]][0]["level"]
        check(LEVEL_RANK[plevel] < LEVEL_RANK[r["level"]], f"parent level {r}")
    check(
        all(r["level"] != "district" or r["valid_to"] == REFORM_DATE for r in rows),
        "a district outlives the reform",
    )
    by_code = defaultdict(list)
    for r in rows:
        by_code[(r["level"], r["code"])].append(r)
    for (lvl, code), vs in by_code.items():
        vs = sorted(vs, key=lambda r: r["valid_from"])
        for a, b in itertools.pairwise(vs):
            check(
                a["valid_to"] != "" and b["valid_from"] != "" and a["valid_to"] <= b["valid_from"],
                f"overlapping versions of {lvl} {code}: {a['key']} / {b['key']}",
            )
    for r in lineage:
        check(r["from_key"] in by_key and r["to_key"] in by_key, f"lineage key missing: {r}")
        check(
            any(v["valid_to"] == REFORM_DATE for v in by_key[r["from_key"]]), f"from not ending {r}"
        )
        check(
            any(v["valid_from"] == REFORM_DATE for v in by_key[r["to_key"]]), f"to not starting {r}"
        )
        check(r["from_key"] != r["to_key"], f"self lineage {r}")
    check(len(lineage) == len({(r["from_key"], r["to_key"]) for r in lineage}), "duplicate lineage")

    def one(k, vfrom):
        vs = [v for v in by_key.get(k, []) if v["valid_from"] == vfrom]
        check(len(vs) == 1, f"expected one version of {k} from {vfrom!r}")
        return vs[0]

    # Bắc Giang / Lục Nam checks
    bg = one("province:24:pre2025", "")
    check(bg["name"] == "Tỉnh Bắc Giang" and bg["type"] == "tinh", f"Bắc Giang {bg}")
    bg_districts = [r for r in rows if r["parent_key"] == "province:24:pre2025"]
    check(len(bg_districts) == 10, f"Bắc Giang has {len(bg_districts)} district-level units")
    ln = one("district:218:pre2025", "")
    check(
        ln["name"] == "Huyện Lục Nam" and ln["parent_key"] == "province:24:pre2025", f"Lục Nam {ln}"
    )
    dn = one("commune:07444:pre2025", "")
    check(
        dn["name"] == "Thị trấn Đồi Ngô"
        and dn["type"] == "thi_tran"
        and dn["parent_key"] == "district:218:pre2025",
        f"Đồi Ngô {dn}",
    )
    xln = one("commune:07444:2025", REFORM_DATE)
    check(
        xln["name"] == "Xã Lục Nam"
        and xln["type"] == "xa"
        and xln["parent_key"] == "province:24:2025",
        f"Xã Lục Nam {xln}",
    )
    bn = one("province:24:2025", REFORM_DATE)
    check(bn["name"].endswith("Bắc Ninh"), f"new province 24 {bn}")
    src_7444 = sorted(r["from_key"] for r in lineage if r["to_key"] == "commune:07444:2025")
    check("commune:07444:pre2025" in src_7444, f"07444 sources {src_7444}")
    check(
        src_7444
        == [
            "commune:07444:pre2025",
            "commune:07468:pre2025",
            "commune:07477:pre2025",
            "commune:07480:pre2025",
            "commune:07483:pre2025",
        ],
        f"07444 sources {src_7444}",
    )
    check(
        sorted(r["from_key"] for r in lineage if r["to_key"] == "province:24:2025")
        == ["province:24:pre2025", "province:27:pre2025"],
        "Bắc Ninh province lineage",
    )
    check(
        sum(
            1
            for r in rows
            if r["level"] == "commune"
            and r["valid_from"] == REFORM_DATE
            and r["parent_key"] == "province:24:2025"
        )
        == 99,
        "new Bắc Ninh has 99 communes",
    )
    check(
        not any(
            r["to_key"] == "province:80:2025" and r["from_key"] == "province:82:pre2025"
            for r in lineage
        ),
        "C1 not applied",
    )
    lin = {(r["from_key"], r["to_key"]): r["partly"] for r in lineage}
    check(
        lin.get(("commune:00556:pre2025", "commune:00562:2025")) == "1"
        and ("commune:00553:pre2025", "commune:00562:2025") not in lin,
        "C10 not applied",
    )
    ngoc_long = by_key["commune:00859:pre2025"]
    check(
        len(ngoc_long) == 2 and ngoc_long[1]["parent_key"] == "province:08:2025",
        f"C5: Ngọc Long 00859 should continue into new Tuyên Quang: {ngoc_long}",
    )
    # names: expected specific fixes happened, nothing left unnormalised
    got = {(lv, era, c): (src, ours) for lv, era, c, src, ours, _ in name_changes}
    for k, v in EXPECTED_NAME_FIXES.items():
        check(got.get(k) == v, f"expected name fix {k}: {v}, got {got.get(k)}")
    for r in rows:
        check(normalise_name(r["name"])[0] == r["name"], f"normalisation not idempotent {r}")
    # type counts
    tcount = Counter((r["level"], r["type"], "post" if r["valid_from"] else "pre") for r in rows)
    check(
        tcount[("commune", "xa", "post")] == 2621
        and tcount[("commune", "phuong", "post")] == 687
        and tcount[("commune", "dac_khu", "post")] == 13,
        f"post-reform commune types {tcount}",
    )
    check(
        tcount[("commune", "xa", "pre")] == 7717
        and tcount[("commune", "phuong", "pre")] == 1716
        and tcount[("commune", "thi_tran", "pre")] == 618,
        f"pre-reform commune types {tcount}",
    )

    info = {
        "counts": counts,
        "cont_prov": sorted(cont_prov),
        "cont_comm": sorted(cont_comm),
        "rows": rows,
        "lineage": lineage,
        "name_changes": sorted(name_changes),
        "partly_single": partly_single,
        "split_flag0": split_flag0,
        "no_lineage": sorted(no_lineage),
        "missing": sorted(missing),
        "dests": dests,
        "LW": LW,
        "LD": LD,
        "LP": LP,
        "NW": NW,
        "NP": NP,
        "lw_province": lw_province,
        "json_ward_diff": json_ward_diff,
        "json_province_names": json_province_names,
        "tcount": tcount,
        "data_version": vp.__data_version__,
        "new_key": new_key,
        "prov_src_api": prov_src_api,
        "c4_edges": sorted(c4_edges),
        "bg_communes": sum(
            1
            for r in rows
            if r["level"] == "commune"
            and not r["valid_from"]
            and r["parent_key"] in {d["key"] for d in bg_districts}
        ),
    }
    return info


# ---------------------------------------------------------------------------------------------
# History: dated versions before 2025-07-01 from the statistics office's dated lists, events
# with their legal basis, lineage with its confidence, the 2026 changes (scripts/units_history.py)
# ---------------------------------------------------------------------------------------------
def merge_history(info, hist_git: Path, list_git: Path) -> None:
    import units_history as uh

    snapshots = uh.load_snapshots(hist_git, list_git)
    history = uh.build_history(snapshots, lambda raw: normalise_name(raw)[0])
    check(history.first_date == FIRST_KNOWN_DATE, f"first list {history.first_date}")
    post = [r for r in info["rows"] if r["valid_from"]]
    for r in post:
        r.setdefault("event_key", "")
        r.setdefault("flags", "")
    pre = history.versions
    final = {r["key"] for r in pre if r["valid_to"] == REFORM_DATE}
    rows = pre + post
    by_key = defaultdict(list)
    for r in rows:
        by_key[r["key"]].append(r)

    # reform lineage: package rows (stated: the statistics office conversion table) + C4 rows
    # whose source the dated lists know
    lineage = []
    c4_used, c4_skipped = [], []
    for o, n, part in info["c4_edges"]:
        k = key("commune", o, ERA_PRE)
        if k in final:
            info["lineage"].append(
                {
                    "date": REFORM_DATE,
                    "level": "commune",
                    "from_key": k,
                    "to_key": info["new_key"]("commune", n),
                    "partly": "1" if part else "0",
                }
            )
            c4_used.append((o, n))
        else:
            c4_skipped.append((o, n))
    events = list(history.events)
    reform_basis = {"24": ("1658/NQ-UBTVQH15", "2025-06-16"), "75": ("1662/NQ-UBTVQH15", "")}
    starts = {}
    for r in info["lineage"]:
        to_rows = [v for v in by_key[r["to_key"]] if v["valid_from"] == REFORM_DATE]
        check(len(to_rows) == 1, f"lineage destination {r['to_key']}")
        ek = f"reform-2025:{r['to_key']}"
        to_rows[0]["event_key"] = ek
        if ek not in starts:
            prov = r["to_key"] if r["level"] == "province" else to_rows[0]["parent_key"]
            pcode = prov.split(":")[1]
            if r["level"] == "province":
                number, bdate, title = (
                    "202/2025/QH15",
                    "2025-06-12",
                    "Nghị quyết về việc sắp xếp đơn vị hành chính cấp tỉnh",
                )
            else:
                number, bdate = reform_basis.get(pcode, ("", ""))
                title = "Nghị quyết về việc sắp xếp các đơn vị hành chính cấp xã năm 2025"
            starts[ek] = {
                "event_key": ek,
                "date": REFORM_DATE,
                "kind": "merge",
                "subject_key": r["to_key"],
                "legal_basis_number": number,
                "legal_basis_date": bdate,
                "legal_basis_title": title,
                "date_basis": "effective",
                "basis_source": "reference" if number else "unknown",
                "source": "vietnam-provinces 2026.9.0 (conversion table)",
                "note": "2025 reform",
            }
        lineage.append(
            {
                **r,
                "confidence": "stated",
                "rule": "conversion_table_2025" if r["level"] == "commune" else "202/2025/QH15",
                "event_key": ek,
            }
        )
    events.extend(starts[k] for k in sorted(starts))
    # districts end on 2025-07-01: the abolition of the district level, one event per district
    for k in sorted(final):
        if k.startswith("district:"):
            ek = f"2025-07-01:dissolve:{k}"
            events.append(
                {
                    "event_key": ek,
                    "date": REFORM_DATE,
                    "kind": "dissolve",
                    "subject_key": k,
                    "legal_basis_number": "",
                    "legal_basis_date": "",
                    "legal_basis_title": "Chấm dứt hoạt động của đơn vị hành chính cấp huyện "
                    "từ 01/07/2025 (số văn bản không có trong nguồn tham chiếu)",
                    "date_basis": "effective",
                    "basis_source": "unknown",
                    "source": "reference (DOMAIN.md §5)",
                    "note": "district level abolished",
                }
            )
    lineage.extend(history.links)
    notes_2026 = uh.apply_2026(rows, events)

    # sanity: parents cover children, no overlaps, lineage keys exist
    rows.sort(key=lambda r: (LEVEL_RANK[r["level"]], r["code"], r["valid_from"], r["key"]))
    by_key = defaultdict(list)
    for r in rows:
        by_key[r["key"]].append(r)
    for r in rows:
        check(r["valid_from"] < (r["valid_to"] or "9999"), f"empty interval {r}")
        if r["parent_key"]:
            check(r["parent_key"] in by_key, f"parent missing {r}")
            check(
                any(
                    p["valid_from"] <= r["valid_from"]
                    and (p["valid_to"] or "9999") >= (r["valid_to"] or "9999")
                    for p in by_key[r["parent_key"]]
                )
                or _covered(by_key[r["parent_key"]], r["valid_from"], r["valid_to"] or "9999"),
                f"parent not valid over child {r}",
            )
    for k, vs in by_key.items():
        for a, b in itertools.pairwise(vs):
            check(a["valid_to"] != "" and a["valid_to"] <= b["valid_from"], f"overlap {k}")
    event_keys = {e["event_key"] for e in events}
    check(len(event_keys) == len(events), "duplicate event keys")
    for r in rows:
        check(not r["event_key"] or r["event_key"] in event_keys, f"version event {r}")
    for r in lineage:
        check(r["from_key"] in by_key and r["to_key"] in by_key, f"lineage key {r}")
        check(not r["event_key"] or r["event_key"] in event_keys, f"lineage event {r}")
    pairs = [(r["from_key"], r["to_key"]) for r in lineage]
    check(len(pairs) == len(set(pairs)), "duplicate lineage pair")
    lineage.sort(key=lambda r: (r["date"], LEVEL_RANK[r["level"]], r["from_key"], r["to_key"]))
    events.sort(key=lambda e: (e["date"], e["event_key"]))
    got = uh.assert_counts(rows)
    # Done-when examples, asserted
    vy = by_key["district:222:pre2025"]
    check(
        any(v["type"] == "huyen" and v["valid_to"] == "2024-02-01" for v in vy)
        and any(v["type"] == "thi_xa" and v["valid_from"] == "2024-02-01" for v in vy),
        f"Việt Yên {vy}",
    )
    hue = by_key["province:46:pre2025"]
    check(
        any(v["type"] == "tinh" and v["valid_to"] == "2025-01-01" for v in hue)
        and any(v["type"] == "thanh_pho_tw" and v["valid_from"] == "2025-01-01" for v in hue),
        f"Huế {hue}",
    )
    check(
        by_key["district:221:pre2025"][-1]["valid_to"] == "2025-01-01"
        and by_key["district:224:pre2025"][0]["valid_from"] == "2025-01-01",
        "Bắc Giang 2025-01-01",
    )
    info.update(
        rows=rows,
        lineage=lineage,
        events=events,
        history=history,
        official=got,
        notes_2026=notes_2026,
        c4_used=c4_used,
        c4_skipped=c4_skipped,
    )


def _covered(parents, lo, hi) -> bool:
    """The parent's versions together cover [lo, hi) without a gap."""
    day = lo
    for p in sorted(parents, key=lambda p: p["valid_from"]):
        if p["valid_from"] <= day < (p["valid_to"] or "9999"):
            day = p["valid_to"] or "9999"
        if day >= hi:
            return True
    return day >= hi


# ---------------------------------------------------------------------------------------------
# Provenance and documentation
# ---------------------------------------------------------------------------------------------
def summary_counts(info) -> dict:
    rows, lineage, events = info["rows"], info["lineage"], info["events"]
    return {
        "rows": len(rows),
        "keys": len({r["key"] for r in rows}),
        "pre_rows": sum(1 for r in rows if r["valid_from"] < REFORM_DATE),
        "post_rows": sum(1 for r in rows if r["valid_from"] >= REFORM_DATE),
        "cont_prov": len(info["cont_prov"]),
        "cont_comm": len(info["cont_comm"]),
        "lineage": len(lineage),
        "events": len(events),
        "name_changes": len(info["name_changes"]),
        "by_rule": Counter((r["confidence"], r["rule"]) for r in lineage),
        "by_kind": Counter(e["kind"] for e in events),
        "by_date_basis": Counter(e["date_basis"] for e in events),
        "unresolved": len(info["history"].unresolved),
    }


def sources_provenance(info) -> list[str]:
    snaps = info["history"].snapshots
    hist = [s for s in snaps if s.date_basis == "effective"]
    lists = [s for s in snaps if s.date_basis == "list"]
    return [
        "source: General Statistics Office (Tổng cục Thống kê) administrative-unit code lists "
        "(danhmuchanhchinh.gso.gov.vn), dated snapshots as kept by daohoangson/dvhcvn-historical-data "
        f"({len(hist)} effective dates {hist[0].date}..{hist[-1].date}, last commit {hist[-1].commit}) "
        f"and daohoangson/dvhcvn ({len(lists)} list dates {lists[0].date}..{lists[-1].date}, last "
        f"commit {lists[-1].commit}); the map from {REFORM_DATE} and its lineage as packaged by "
        f"{PACKAGE} {PACKAGE_VERSION} (package data retrieved {info['data_version']}); the 2026 "
        "changes of map-history-sources.md",
        "licence: the three sources are GPL-3.0(-or-later); they are read only by "
        "scripts/build_units_dataset.py (git mirrors, a throwaway venv), never at runtime; the facts "
        "are the statistics office's public lists and the cited resolutions",
        f"data dates: first known list {FIRST_KNOWN_DATE} (versions starting then are flagged "
        "may_be_older; nothing earlier is claimed); valid_from inclusive, valid_to exclusive, empty "
        "valid_to = open-ended",
        "build: scripts/build_units_dataset.py --out app/units/data (build date deliberately omitted "
        "so that reruns are byte-identical)",
        f"corrections: app/units/data/corrections.md and docs/units-dataset.md (C1-C{len(CORRECTIONS)}); "
        "rules, unresolved cases: docs/units-history.md",
    ]


def unit_provenance(info) -> list[str]:
    s = summary_counts(info)
    return [
        "dataset: Viet Nam administrative units (province, district, commune), one row per unit "
        "version; key = {level}:{code}:{era}",
        *sources_provenance(info),
        f"rows: {s['rows']} versions of {s['keys']} units ({s['pre_rows']} before {REFORM_DATE}, "
        f"{s['post_rows']} from it)",
        "event_key: the event (events.csv.gz) that started this version; flags: may_be_older",
        "sort: level (province, district, commune), code, valid_from",
    ]


def lineage_provenance(info) -> list[str]:
    s = summary_counts(info)
    return [
        "dataset: lineage (which unit gave all or part of itself to which, on which date); keys "
        "refer to units.csv.gz, event_key to events.csv.gz",
        *sources_provenance(info),
        f"rows: {s['lineage']}; confidence stated (a source names the link: the 2025 conversion "
        "table, a resolution) or inferred (rule named in the rule column, docs/units-history.md)",
        "partly: 1 if the source gave only part of itself to that destination, else 0",
        "sort: date, level, from_key, to_key",
    ]


def event_provenance(info) -> list[str]:
    s = summary_counts(info)
    return [
        "dataset: dated changes of the map (establish, dissolve, merge, split, rename, reclassify, "
        "transfer) with their legal basis",
        *sources_provenance(info),
        f"rows: {s['events']}; date_basis effective (the date a resolution or the historical-data "
        "commit gives), list (the list date; the effective date is not in the sources: FLAGGED), "
        "unconfirmed (see note: FLAGGED)",
        "basis_source: commit_message (resolution matched to the province in the commit message), "
        "stated / reference (map-history-sources.md), unmatched / list_date / unknown (no number)",
        "sort: date, event_key",
    ]


def md_escape(s: str) -> str:
    return s.replace("|", "\\|")


def corrections_table() -> str:
    out = ["| id | source says | we use | why |", "| --- | --- | --- | --- |"]
    for cid, said, ours, why in CORRECTIONS:
        out.append(
            f"| {md_escape(cid)} | {md_escape(said)} | {md_escape(ours)} | {md_escape(why)} |"
        )
    return "\n".join(out)


def counts_table(info) -> str:
    s = summary_counts(info)
    lines = [
        "| what | count |",
        "| --- | --- |",
        f"| units.csv.gz rows (versions) | {s['rows']} |",
        f"| distinct unit keys | {s['keys']} |",
        f"| versions starting before / from {REFORM_DATE} | {s['pre_rows']} / {s['post_rows']} |",
        f"| continuing provinces / communes across {REFORM_DATE} | {s['cont_prov']} / {s['cont_comm']} |",
        f"| events.csv.gz rows | {s['events']} |",
    ]
    lines += [f"| … {k} | {v} |" for k, v in sorted(s["by_kind"].items())]
    lines += [f"| … date_basis {k} | {v} |" for k, v in sorted(s["by_date_basis"].items())]
    lines.append(f"| lineage.csv.gz rows | {s['lineage']} |")
    lines += [f"| … {c} / {r} | {v} |" for (c, r), v in sorted(s["by_rule"].items())]
    lines.append(f"| unresolved cases (docs/units-history.md) | {s['unresolved']} |")
    lines.append(f"| names changed by normalisation (C9, package data) | {s['name_changes']} |")
    lines += [
        "",
        "Counts on the official dates (asserted by the build and by tests/units/test_history.py):",
        "",
        "| date | provinces (of which centrally-run) | district-level | communes | xã / phường / thị trấn / đặc khu |",
        "| --- | --- | --- | --- | --- |",
    ]
    for day, (p, tw, d, xa, ph, tt, dk, total) in sorted(info["official"].items()):
        lines.append(f"| {day} | {p} ({tw}) | {d or '—'} | {total} | {xa} / {ph} / {tt} / {dk} |")
    return "\n".join(lines)


def uh_type_from_name() -> dict:
    import units_history as uh

    return uh.TYPE_FROM_NAME


def uh_prefix_added() -> dict:
    import units_history as uh

    return uh.PREFIX_ADDED


def history_md(info) -> str:
    h = info["history"]
    s = summary_counts(info)
    L = [
        "# The map through time: generated report",
        "",
        "Generated by `scripts/build_units_dataset.py --history-docs docs/units-history.md`; do not "
        "edit by hand. Sources, rules and formats: docs/units-dataset.md.",
        "",
        "## Dated lists used",
        "",
        "| date | date basis | source | commit | message (resolutions) |",
        "| --- | --- | --- | --- | --- |",
    ]
    for snap in h.snapshots:
        msg = snap.message if len(snap.message) <= 300 else snap.message[:297] + "…"
        L.append(
            f"| {snap.date} | {snap.date_basis} | {snap.source} | {snap.commit} | {md_escape(msg)} |"
        )
    L += [
        "",
        "## Lineage links by confidence and rule",
        "",
        "| confidence | rule | links |",
        "| --- | --- | --- |",
    ]
    L += [f"| {c} | {r} | {v} |" for (c, r), v in sorted(s["by_rule"].items())]
    L += [
        "",
        "## C11 type word of the name vs the list's type field",
        "",
        "Two districts of a province listed with each other's type (a source error: Cai Lậy and "
        "Ba Đồn / Quảng Trạch): the type word of the name is used. Cases (level, name as "
        "listed, type field → type used):",
        "",
    ]
    import units_history as uh

    L += [f"- {lv}: {raw} ({typ} → {t})" for (lv, raw, typ), t in sorted(uh.TYPE_FROM_NAME.items())]
    L += [
        "",
        "Other units whose published type field disagrees with the name's type word: the type "
        "field is kept (a district's name takes its type word; communes keep their name), "
        "because the official counts are counts of the published lists (FLAGGED; e.g. Phường 5 "
        "of Quận Phú Nhuận is listed as Xã on 2025-01-01 and 2025-03-01):",
        "",
    ]
    L += [
        f"- {lv}: {raw} (type field {typ}, name says {t})"
        for (lv, raw, typ), t in sorted(uh.TYPE_KEPT.items())
    ]
    L += ["", "Names listed without their type word (the type word added):", ""]
    L += [f"- {raw} → {n}" for raw, n in sorted(uh_prefix_added().items())] or ["- none"]
    L += ["", "## 2026", ""] + [f"- {n}" for n in info["notes_2026"]]
    L += [
        "- The reference counts 2,598 xã / 710 phường from 2026-09-20 (23 communes reclassified) "
        "but names 22 (10 in Đồng Nai, 12 in Bắc Ninh); the dataset has 2,599 / 709. FLAGGED.",
        "",
        f"## C4 sources now known from the 2025-03-01 list ({len(info['c4_used'])} lineage rows "
        f"added, {len(info['c4_skipped'])} still skipped)",
        "",
    ]
    L += [f"- {o:05d} → {n:05d}" for o, n in info["c4_used"]]
    L += [f"- still skipped: {o:05d} → {n:05d}" for o, n in info["c4_skipped"]]
    L += [
        "",
        f"## Unresolved cases ({len(h.unresolved)})",
        "",
        "A unit that vanished from a list with no successor found by the rules, or appeared with "
        "no predecessor found (often carved out of units that continue). Nothing is guessed: "
        "the event is recorded (dissolve / establish) without lineage.",
        "",
        "| date | case | key | name |",
        "| --- | --- | --- | --- |",
    ]
    for u in h.unresolved:
        L.append(f"| {u['date']} | {u['what']} | {u['key']} | {u['name']} |")
    return "\n".join(L) + "\n"


def corrections_md(info) -> str:
    LW, LD, LP, NW, dests = info["LW"], info["LD"], info["LP"], info["NW"], info["dests"]
    lwp = info["lw_province"]

    def nn(name):  # names in this file are shown normalised (C9), as in the dataset
        return normalise_name(name)[0]

    def old_label(c):
        w = LW[c]
        d = LD[w.district_code.value]
        return f"{c:05d} {nn(w.name)} ({nn(d.name)}, {nn(LP[d.province_code.value].name)})"

    def new_label(c):
        return f"{c:05d} {nn(NW[c].name)}"

    L = [
        "# Corrections applied to the vietnam-provinces 2026.9.0 data",
        "",
        "Generated by `scripts/build_units_dataset.py`; do not edit by hand (edit the CORRECTIONS "
        "table in the script and rebuild). Summary in docs/units-dataset.md.",
        "",
        corrections_table(),
        "",
        "## C1/C2 province tags in the conversion table",
        "",
        "| old ward | source tag | legacy tree (used) |",
        "| --- | --- | --- |",
    ]
    for o, (said, ours) in sorted(LINEAGE_PROVINCE_TAG_FIX.items()):
        L.append(f"| {old_label(o)} | {said} {nn(LP[said].name)} | {ours} {nn(LP[ours].name)} |")
    L += [
        "",
        "Province lineage as given by `Province.get_legacy_sources()` vs used:",
        "",
        "| new province | package | used |",
        "| --- | --- | --- |",
    ]
    for c, srcs in sorted(info["prov_src_api"].items()):
        used = sorted(
            {
                lwp(o)
                for (o, ns) in dests.items()
                if o in LW
                for n in ns
                if NW[n].province_code.value == c
            }
        )
        if used != srcs:
            L.append(f"| {c:02d} {info['NP'][c].name} | {srcs} | {used} |")
    L += [
        "",
        f"## C3 pre-reform communes without lineage ({len(info['no_lineage'])}) — FLAGGED",
        "",
        "Kept with valid_to 2025-07-01 and no successor.",
        "",
    ]
    L += [f"- {old_label(c)}" for c in info["no_lineage"]]
    L += [
        "",
        f"## C4 lineage sources missing from the pre-reform list ({len(info['missing'])})",
        "",
        "| source code | district tag | province tag | destination(s) (row skipped) |",
        "| --- | --- | --- | --- |",
    ]
    from vietnam_provinces import _ward_conversion_2025 as wc

    for o in info["missing"]:
        ref = wc.OLD_TO_NEW[o].old_ward
        L.append(
            f"| {o:05d} | {ref.district_code:03d} {LD[ref.district_code].name} | "
            f"{ref.province_code:02d} | {', '.join(new_label(n) for n in dests[o])} |"
        )
    L += [
        "",
        f"## C5 flagged partly merged, one destination, its only source ({len(info['partly_single'])})"
        " — read as unchanged: partly=0, continuing",
        "",
    ]
    L += [f"- {old_label(o)} → {new_label(dests[o][0])}" for o in info["partly_single"]]
    L += [
        "",
        f"## C6 split communes: source row flag 0 overridden to partly=1 "
        f"({len(info['split_flag0'])} rows)",
        "",
    ]
    L += [
        f"- {old_label(o)} → {new_label(n)} (all destinations: "
        f"{', '.join(f'{x:05d}' for x in dests[o])})"
        for o, n in info["split_flag0"]
    ]
    L += [
        "",
        "## C7 đặc khu without lineage",
        "",
        "| new unit | predecessor district (no communes; no lineage row) |",
        "| --- | --- |",
    ]
    for c, d in sorted(DAC_KHU_NO_LINEAGE.items()):
        L.append(
            f"| {new_label(c)} | {d:03d} {nn(LD[d].name)} ({nn(LP[LD[d].province_code.value].name)}) |"
        )
    L += [
        "",
        "## C8 province types (JSON vs Python objects) — FLAGGED",
        "",
        "| code | JSON | Python objects (used) |",
        "| --- | --- | --- |",
    ]
    for c in sorted(PROVINCE_TYPE_DISAGREEMENT):
        jn, jt = info["json_province_names"][c]
        L.append(f"| {c:02d} | {jn} ({jt}) | {info['NP'][c].name} (thành phố trung ương) |")
    L += [
        "",
        f"Wards: JSON and Python objects differ only in {info['json_ward_diff']} curly "
        "apostrophes (the Python objects, which we use, have straight ones).",
    ]
    L += [
        "",
        f"## C9 name changes ({len(info['name_changes'])})",
        "",
        'Rules: NFC; curly → straight apostrophe; capitalised first letter; "Thành Phố" → '
        '"Thành phố"; in an open syllable spelled oa/oe/uy (not after q) the tone mark goes on '
        "the first vowel (Hoà→Hòa, Hoá→Hóa, Hoè→Hòe, Thuỷ→Thủy, Thuỵ→Thụy, Uý→Úy); syllables "
        "with anything after the pair (Hoàng, Thuận, Khoái, Quỳnh) and qu+y (Quý, Quỳ) unchanged.",
        "",
        "| level | era | code | source | ours | rules |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for lv, era, c, src, ours, rules in info["name_changes"]:
        L.append(f"| {lv} | {era} | {fmt_code(lv, c)} | {src} | {ours} | {', '.join(rules)} |")
    L += [
        "",
        "## C10 wrong source code in the conversion table",
        "",
        "| source edge | used edge |",
        "| --- | --- |",
    ]
    for (so, sn), (oo, on) in sorted(EDGE_CODE_FIX.items()):
        L.append(f"| {old_label(so)} → {new_label(sn)} | {old_label(oo)} → {new_label(on)} |")
    return "\n".join(L) + "\n"


BEGIN, END = "<!-- BEGIN GENERATED (scripts/build_units_dataset.py) -->", "<!-- END GENERATED -->"


def docs_block(info) -> str:
    return "\n".join(
        [
            BEGIN,
            "",
            "### Counts",
            "",
            counts_table(info),
            "",
            "### Corrections",
            "",
            "Full per-unit lists: `app/units/data/corrections.md`.",
            "",
            corrections_table(),
            "",
            END,
        ]
    )


# ---------------------------------------------------------------------------------------------
def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", required=True, type=Path, help="output directory, e.g. app/units/data")
    ap.add_argument("--docs", type=Path, help="docs/units-dataset.md: refresh its generated block")
    ap.add_argument("--history-docs", type=Path, help="docs/units-history.md (generated)")
    ap.add_argument("--hist-git", type=Path, default=None, help="dvhcvn-historical-data git dir")
    ap.add_argument("--list-git", type=Path, default=None, help="dvhcvn git dir")
    args = ap.parse_args(argv)
    sys.path.insert(0, str(Path(__file__).resolve().parent))
    import units_history as uh

    info = build()
    merge_history(info, args.hist_git or uh.DEFAULT_HIST_GIT, args.list_git or uh.DEFAULT_LIST_GIT)
    args.out.mkdir(parents=True, exist_ok=True)
    units_path = args.out / "units.csv.gz"
    lineage_path = args.out / "lineage.csv.gz"
    events_path = args.out / "events.csv.gz"
    corr_path = args.out / "corrections.md"
    old_lineage = args.out / "lineage_2025.csv.gz"
    if old_lineage.exists():
        old_lineage.unlink()
    write_gz(units_path, csv_bytes(unit_provenance(info), UNIT_COLUMNS, info["rows"]))
    write_gz(lineage_path, csv_bytes(lineage_provenance(info), LINEAGE_COLUMNS, info["lineage"]))
    write_gz(events_path, csv_bytes(event_provenance(info), EVENT_COLUMNS, info["events"]))
    write_text(corr_path, corrections_md(info))
    if args.history_docs:
        write_text(args.history_docs, history_md(info))
    if args.docs:
        text = args.docs.read_text(encoding="utf-8")
        check(text.count(BEGIN) == 1 and text.count(END) == 1, f"{args.docs}: markers missing")
        a, rest = text.split(BEGIN)
        _, b = rest.split(END)
        write_text(args.docs, a + docs_block(info) + b)

    # read back: provenance, header, row count
    for path, cols, n in (
        (units_path, UNIT_COLUMNS, len(info["rows"])),
        (lineage_path, LINEAGE_COLUMNS, len(info["lineage"])),
        (events_path, EVENT_COLUMNS, len(info["events"])),
    ):
        with gzip.open(path, "rt", encoding="utf-8", newline="") as f:
            body = [ln for ln in f if not ln.startswith("# ")]
        rd = csv.DictReader(body)
        check(rd.fieldnames == cols and sum(1 for _ in rd) == n, f"read-back of {path}")

    s = summary_counts(info)
    print(
        f"continuing units: {s['cont_prov']} provinces {info['cont_prov']}, "
        f"{s['cont_comm']} communes"
    )
    print(
        f"units rows: {s['rows']} ({s['keys']} keys); lineage rows: {s['lineage']} "
        f"{dict(s['by_rule'])}; events {s['events']} {dict(s['by_kind'])}; "
        f"unresolved {s['unresolved']}"
    )
    print(
        f"name changes: {s['name_changes']} "
        f"{dict(Counter(r for *_, rules in info['name_changes'] for r in rules))}"
    )
    print(f"pre-reform Bắc Giang communes in the list: {info['bg_communes']}")
    print(
        f"flagged: {len(info['no_lineage'])} communes without successor, "
        f"{len(info['missing'])} missing sources skipped, {len(info['partly_single'])} 'partly' "
        f"read as unchanged (C5), {len(info['split_flag0'])} split rows flag 0→1 (C6), "
        f"{len(EDGE_CODE_FIX)} edge code fixed (C10), "
        f"province types {sorted(PROVINCE_TYPE_DISAGREEMENT)} from Python objects"
    )
    for day, got in info["official"].items():
        print(f"counts on {day}: {got}")
    for p in (units_path, lineage_path, events_path, corr_path) + (
        (args.docs,) if args.docs else ()
    ):
        data = p.read_bytes()
        print(f"{p}: {len(data):,} bytes sha256={hashlib.sha256(data).hexdigest()[:16]}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
