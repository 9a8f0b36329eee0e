"""Dated unit versions, events and lineage before 2025-07-01, from the statistics office lists.

Used only by ``scripts/build_units_dataset.py`` (run by hand; the runtime never reads the
sources). The two source repositories are GPL-3.0 like ``vietnam-provinces``: they are read
with ``git`` from local mirrors, never imported or shipped; the facts are the statistics
office's public code lists (danhmuchanhchinh.gso.gov.vn).

* ``daohoangson/dvhcvn-historical-data``: ``data.json`` with one commit per EFFECTIVE date
  (author date), 2004-08-31 → 2021-07-01, each commit message naming the resolutions that took
  effect that day. The 1979 commit (message "15/01/2003") is a baseline of unknown effective
  date and is not used: the map is claimed from the first dated commit on.
* ``daohoangson/dvhcvn``: ``data/dvhcvn.json`` + ``data/date.txt`` (the LIST date), one commit
  per list; used for the lists after 2021-07-01. For 2025-01-01 the later commit ("again") is
  the corrected list. A list date is used as the date of the changes it shows, flagged
  ``list``, unless ``LIST_BASIS`` names the resolution (whose effective date is then the list
  date, checked against ``map-history-sources.md``).

Lineage rules (each link carries ``confidence`` = ``stated`` or ``inferred`` and the rule):

* ``children_followed`` — a district/province that vanished: its surviving children's new
  parents are its successors (partly when they went to several).
* ``children_from`` — a district that appeared with children that were under a district that
  continues: that district gave part of itself (partly).
* ``name_carries_over`` — a unit that vanished and one that appeared on the same date, same
  level, same base name (type prefix removed, diacritics folded), same or successor parent.
* ``same_parent_one_new`` — units that vanished under one parent and exactly one unit that
  appeared under it (or its successor) on that date: all went into the new one.
* ``code_survives_absorbs`` — units that vanished under one parent, none appeared there, and
  exactly one surviving unit under it changed (name or type) that day: it absorbed them.
* ``stated`` links come from ``STATED_LINKS`` (a source names them) or from the 2025
  conversion table; an inferred link that a source states is upgraded to ``stated``.

Anything else is UNRESOLVED (a unit that vanished with no successor found, a unit that
appeared with no predecessor found) and listed in the generated docs, never guessed.
"""

# The closures of build_history (link, basis, event) are called within the iteration that
# defines them, so binding the loop variables late is what is meant.
# ruff: noqa: B023
from __future__ import annotations

import json
import re
import subprocess
import unicodedata
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path

HIST_REPO = "daohoangson/dvhcvn-historical-data"
LIST_REPO = "daohoangson/dvhcvn"
DEFAULT_HIST_GIT = Path("/work/.mirror/daohoangson+dvhcvn-historical-data/repo")
DEFAULT_LIST_GIT = Path("/work/.mirror/daohoangson+dvhcvn/repo")
HIST_LAST = "2021-07-01"  # historical-data covers effective dates up to here; later: the lists
SKIPPED_LIST_COMMITS = {"39a8c06"}  # 2025-01-01 first list, superseded by 87d3e0c ("again")
REFORM_DATE = "2025-07-01"

LIST_TYPES = {
    ("province", "Thành phố Trung ương"): "thanh_pho_tw",
    ("province", "Tỉnh"): "tinh",
    ("district", "Quận"): "quan",
    ("district", "Huyện"): "huyen",
    ("district", "Thành phố"): "thanh_pho",
    ("district", "Thị xã"): "thi_xa",
    ("commune", "Phường"): "phuong",
    ("commune", "Xã"): "xa",
    ("commune", "Thị trấn"): "thi_tran",
}
PREFIXES = {
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

# Legal bases of changes shown by the dated lists (map-history-sources.md, H/M). Key: (list
# date, province code); the resolution's effective date equals the list date in each case.
LIST_BASIS: dict[tuple[str, str], tuple[str, str | None, str]] = {
    ("2024-02-01", "24"): (
        "938/NQ-UBTVQH15",
        "2023-12-13",
        "Thành lập thị xã Việt Yên và các phường thuộc thị xã Việt Yên, tỉnh Bắc Giang",
    ),
    ("2025-01-01", "24"): (
        "1191/NQ-UBTVQH15",
        "2024-09-28",
        "Sắp xếp các đơn vị hành chính cấp huyện, cấp xã của tỉnh Bắc Giang giai đoạn 2023–2025",
    ),
    ("2025-01-01", "46"): (
        "175/2024/QH15; 1314/NQ-UBTVQH15",
        None,
        "Thành lập thành phố Huế trực thuộc trung ương; sắp xếp các đơn vị hành chính cấp huyện, "
        "cấp xã của thành phố Huế",
    ),
    ("2025-03-01", "14"): ("1280/NQ-UBTVQH15", None, "Sắp xếp đơn vị hành chính, tỉnh Sơn La"),
    ("2025-03-01", "77"): (
        "1365/NQ-UBTVQH15",
        "2025-01-15",
        "Thành lập thành phố Phú Mỹ thuộc tỉnh Bà Rịa – Vũng Tàu",
    ),
}
# Links a source names (map-history-sources.md): (date, from key, to key, partly, basis).
STATED_LINKS = [
    ("2025-01-01", "district:221:pre2025", "district:213:pre2025", "0", "1191/NQ-UBTVQH15"),
    ("2025-01-01", "district:219:pre2025", "district:224:pre2025", "1", "1191/NQ-UBTVQH15"),
]


def git(gitdir: Path, *args: str) -> str:
    out = subprocess.run(["git", "--git-dir", str(gitdir), *args], check=True, capture_output=True)
    return out.stdout.decode("utf-8")


def fold(text: str) -> str:
    d = unicodedata.normalize("NFD", text.lower()).replace("đ", "d")
    return " ".join("".join(c for c in d if unicodedata.category(c) != "Mn").split())


def base_name(name: str, typ: str) -> str:
    prefix = PREFIXES[typ] + " "
    return fold(name[len(prefix) :] if name.startswith(prefix) else name)


@dataclass
class Snapshot:
    date: str
    source: str  # repository
    commit: str  # 7 hex digits
    message: str
    date_basis: str  # "effective" (historical-data author date) or "list" (list date)
    units: dict[tuple[str, str], tuple[str, str, str]] = field(default_factory=dict)
    # (level, code) -> (raw name, type, parent code)


def _parse(data: list[dict], snap: Snapshot) -> None:
    for p in data:
        pc = p["level1_id"]
        snap.units[("province", pc)] = (p["name"], LIST_TYPES[("province", p["type"])], "")
        for d in p["level2s"]:
            dc = d["level2_id"]
            snap.units[("district", dc)] = (d["name"], LIST_TYPES[("district", d["type"])], pc)
            for w in d["level3s"]:
                snap.units[("commune", w["level3_id"])] = (
                    w["name"],
                    LIST_TYPES[("commune", w["type"])],
                    dc,
                )


def load_snapshots(hist_git: Path, list_git: Path) -> list[Snapshot]:
    by_date: dict[str, Snapshot] = {}
    log = git(hist_git, "log", "--reverse", "--format=%H %ad", "--date=short", "--", "data.json")
    for line in log.splitlines():
        commit, day = line.split()
        if day < "2000-01-01" or day > HIST_LAST:  # the 1979 baseline commit
            continue
        message = git(hist_git, "log", "-1", "--format=%B", commit).strip()
        snap = Snapshot(day, HIST_REPO, commit[:7], " ".join(message.split()), "effective")
        _parse(json.loads(git(hist_git, "show", f"{commit}:data.json")), snap)
        by_date[day] = snap  # two commits on 2020-06-01: the later ("Rerun with fix") wins
    log = git(list_git, "log", "--reverse", "--format=%H", "--", "data/dvhcvn.json")
    for commit in log.split():
        if commit[:7] in SKIPPED_LIST_COMMITS:
            continue
        try:
            raw = git(list_git, "show", f"{commit}:data/date.txt").strip()
        except subprocess.CalledProcessError:
            continue  # the first commits carry no list date
        dd, mm, yy = raw.split("/")
        day = f"{yy}-{mm}-{dd}"
        if day <= HIST_LAST:
            continue
        message = git(list_git, "log", "-1", "--format=%s", commit).strip()
        snap = Snapshot(day, LIST_REPO, commit[:7], message, "list")
        _parse(json.loads(git(list_git, "show", f"{commit}:data/dvhcvn.json"))["data"], snap)
        by_date[day] = snap
    return [by_date[d] for d in sorted(by_date)]


# --- resolutions named by historical-data commit messages ------------------------------------
_RESOLUTION = re.compile(r"(?:^|;\s*)([0-9]{1,4}/[0-9A-ZĐa-z/\-]+?)\s*:\s*([^;]*)")


def resolutions(message: str) -> list[tuple[str, str]]:
    return [(m.group(1), m.group(2).strip()) for m in _RESOLUTION.finditer(message)]


def basis_for(snap: Snapshot, province_code: str, province_name: str, province_type: str):
    """(number, date, title, how) for a change in a province on the snapshot date."""
    if snap.date_basis == "list":
        found = LIST_BASIS.get((snap.date, province_code))
        if found:
            return found[0], found[1], found[2], "stated"
        return None, None, None, "list_date"
    named = resolutions(snap.message)
    key = base_name(province_name, province_type)
    hits = []
    for number, text in named:
        if key and key in fold(text) and number not in [h[0] for h in hits]:
            hits.append((number, text))
    if len(hits) >= 1:
        numbers = "; ".join(h[0] for h in hits)
        title = "; ".join(h[1] for h in hits)
        return numbers[:100], None, title, "commit_message"
    return None, None, None, "unmatched"


# --- building versions, events and links -----------------------------------------------------
@dataclass
class History:
    snapshots: list[Snapshot]
    first_date: str
    versions: list[dict]  # key, level, code, name, type, parent_key, valid_from, valid_to, ...
    events: list[dict]
    links: list[dict]
    unresolved: list[dict]
    counts: dict[str, tuple[int, int, Counter]]  # date -> provinces, districts, commune types


PREFIX_ADDED: dict[str, str] = {}  # raw name -> name with the type word (for the docs)
TYPE_FROM_NAME: dict[tuple[str, str, str], str] = {}  # (level, raw name, list type) -> ours
TYPE_KEPT: dict[tuple[str, str, str], str] = {}  # communes: type field kept, name says otherwise
LEVEL_PREFIXES = {
    "province": [("tinh", "Tỉnh"), ("thanh_pho_tw", "Thành phố")],
    "district": [
        ("quan", "Quận"),
        ("huyen", "Huyện"),
        ("thi_xa", "Thị xã"),
        ("thanh_pho", "Thành phố"),
    ],
    "commune": [("xa", "Xã"), ("phuong", "Phường"), ("thi_tran", "Thị trấn")],
}


def pre_key(level: str, code: str) -> str:
    return f"{level}:{code}:pre2025"


def build_history(snapshots: list[Snapshot], normalise) -> History:
    first = snapshots[0].date
    versions: list[dict] = []
    events: list[dict] = []
    links: list[dict] = []
    unresolved: list[dict] = []
    counts: dict[str, tuple[int, int, Counter]] = {}
    open_: dict[tuple[str, str], dict] = {}  # (level, code) -> open version row
    prev: dict[tuple[str, str], tuple[str, str, str]] = {}
    prev_snap: Snapshot | None = None

    def name_of(raw: str, typ: str, level: str, swapped: bool) -> tuple[str, str]:
        n = normalise(raw)
        for t, prefix in LEVEL_PREFIXES[level]:
            if n.lower().startswith(prefix.lower() + " "):
                n = prefix + n[len(prefix) :]  # "Thị Xã Việt Yên" (list of 2024-02-01)
                if t != typ and level == "district" and swapped:
                    # C11: two districts of a province with each other's type: the name's
                    # type word wins (Cai Lậy 817/820, Ba Đồn 458 / Quảng Trạch 454)
                    TYPE_FROM_NAME[(level, raw, typ)] = t
                    return n, t
                if t != typ:
                    # C11: otherwise the published type field wins and the name takes its
                    # type word (817 listed as "Thị xã Cai Lậy" but typed Huyện until the
                    # town was formed; communes: the official counts count the type field)
                    TYPE_KEPT[(level, raw, typ)] = t
                    if level == "district":
                        return PREFIXES[typ] + n[len(prefix) :], typ
                    return n, typ
                return n, t
        PREFIX_ADDED[raw] = PREFIXES[typ] + " " + n
        return PREFIXES[typ] + " " + n, typ

    def swapped_districts(units) -> set[tuple[str, str]]:
        """Districts whose name's type word is the type field of another district of the same
        province whose own name's type word is this one's type field."""
        wrong = defaultdict(list)
        for (lv, code), (raw, typ, par) in units.items():
            if lv != "district":
                continue
            n = normalise(raw).lower()
            for t, prefix in LEVEL_PREFIXES[lv]:
                if n.startswith(prefix.lower() + " ") and t != typ:
                    wrong[par].append((code, typ, t))
        found = set()
        for items in wrong.values():
            for code, typ, t in items:
                if any(o != code and ot == t and on == typ for o, ot, on in items):
                    found.add(("district", code))
        return found

    def parent_key(level: str, parent: str) -> str:
        if level == "province":
            return ""
        return pre_key("province" if level == "district" else "district", parent)

    def province_of(state, level, code):
        if level == "province":
            return code
        if level == "district":
            return state[(level, code)][2]
        return state[("district", state[(level, code)][2])][2]

    for snap in snapshots:
        swapped = swapped_districts(snap.units)
        cur = {k: (*name_of(v[0], v[1], k[0], k in swapped), v[2]) for k, v in snap.units.items()}
        c = Counter(t for (lv, _), (_, t, _) in cur.items() if lv == "commune")
        counts[snap.date] = (
            sum(1 for lv, _ in cur if lv == "province"),
            sum(1 for lv, _ in cur if lv == "district"),
            c,
        )
        if prev_snap is None:
            for (lv, code), (nm, typ, par) in cur.items():
                open_[(lv, code)] = _version(lv, code, nm, typ, parent_key(lv, par), snap.date)
                open_[(lv, code)]["flags"] = "may_be_older"
            prev, prev_snap = cur, snap
            continue
        day = snap.date
        vanished = sorted(k for k in prev if k not in cur)
        appeared = sorted(k for k in cur if k not in prev)
        changed = sorted(k for k in cur if k in prev and cur[k] != prev[k])
        if not (vanished or appeared or changed):
            prev, prev_snap = cur, snap
            continue

        def basis(state, level, code, snap=snap):
            pc = province_of(state, level, code)
            pn, pt, _ = state[("province", pc)]
            return basis_for(snap, pc, pn, pt)

        day_links: list[dict] = []

        def link(a, b, partly, rule, level):
            day_links.append(
                {
                    "date": day,
                    "level": level,
                    "from_key": pre_key(level, a),
                    "to_key": pre_key(level, b),
                    "partly": "1" if partly else "0",
                    "confidence": "inferred",
                    "rule": rule,
                }
            )

        successor_parent: dict[str, set[str]] = defaultdict(set)  # prev parent code -> cur codes
        for level in ("province", "district", "commune"):
            van = [k[1] for k in vanished if k[0] == level]
            app = [k[1] for k in appeared if k[0] == level]
            chg = [k[1] for k in changed if k[0] == level]
            found_from: set[str] = set()
            found_to: set[str] = set()
            child_level = {"province": "district", "district": "commune"}.get(level)
            if child_level:
                # children_followed / children_from
                for code in van:
                    dests = Counter(
                        cur[(child_level, cc)][2]
                        for (cl, cc), v in prev.items()
                        if cl == child_level and v[2] == code and (cl, cc) in cur
                    )
                    for dest in sorted(dests):
                        link(code, dest, len(dests) > 1, "children_followed", level)
                        successor_parent[code].add(dest)
                        found_from.add(code)
                        found_to.add(dest)
                for code in app:
                    srcs = Counter(
                        prev[(child_level, cc)][2]
                        for (cl, cc), v in cur.items()
                        if cl == child_level and v[2] == code and (cl, cc) in prev
                    )
                    for src in sorted(srcs):
                        if ("x", src) and (level, src) in cur:  # src continues: gave part of itself
                            link(src, code, True, "children_from", level)
                            found_to.add(code)
                for code in chg:
                    if prev[(level, code)][2] != cur[(level, code)][2]:
                        pass
            # name_carries_over
            for a in van:
                if a in found_from:
                    continue
                an, at, ap = prev[(level, a)]
                parents = {ap} | successor_parent.get(ap, set())
                same = [
                    b
                    for b in app
                    if b not in found_to
                    and base_name(cur[(level, b)][0], cur[(level, b)][1]) == base_name(an, at)
                    and cur[(level, b)][2] in parents
                ]
                if len(same) == 1:
                    link(a, same[0], False, "name_carries_over", level)
                    found_from.add(a)
                    found_to.add(same[0])
            if level != "province":
                # same_parent_one_new / code_survives_absorbs, per parent (prev parent mapped)
                groups: dict[str, list[str]] = defaultdict(list)
                for a in van:
                    if a in found_from:
                        continue
                    ap = prev[(level, a)][2]
                    for p in sorted({ap} | successor_parent.get(ap, set())):
                        groups[p].append(a)
                for p, lost in sorted(groups.items()):
                    news = [b for b in app if cur[(level, b)][2] == p and b not in found_to]
                    news_all = [b for b in app if cur[(level, b)][2] == p]
                    if len(news_all) == 1:
                        for a in lost:
                            if a not in found_from:
                                link(a, news_all[0], False, "same_parent_one_new", level)
                                found_from.add(a)
                        found_to.add(news_all[0])
                        continue
                    if news:
                        continue
                    survivors = [
                        b for b in chg if cur[(level, b)][2] == p and prev[(level, b)][2] == p
                    ]
                    if not news_all and len(survivors) == 1:
                        for a in lost:
                            if a not in found_from:
                                link(a, survivors[0], False, "code_survives_absorbs", level)
                                found_from.add(a)
            for a in van:
                if a not in found_from:
                    unresolved.append(
                        {
                            "date": day,
                            "what": "vanished, no successor found",
                            "key": pre_key(level, a),
                            "name": prev[(level, a)][0],
                        }
                    )
            for b in app:
                if b not in found_to and not any(
                    lk["to_key"] == pre_key(level, b) for lk in day_links
                ):
                    unresolved.append(
                        {
                            "date": day,
                            "what": "appeared, no predecessor found",
                            "key": pre_key(level, b),
                            "name": cur[(level, b)][0],
                        }
                    )

        # stated links replace or confirm inferred ones
        for sdate, a, b, partly, number in STATED_LINKS:
            if sdate != day:
                continue
            hit = [lk for lk in day_links if lk["from_key"] == a and lk["to_key"] == b]
            if hit:
                hit[0].update(confidence="stated", rule=f"stated:{number}", partly=partly)
            else:
                day_links.append(
                    {
                        "date": day,
                        "level": a.split(":")[0],
                        "from_key": a,
                        "to_key": b,
                        "partly": partly,
                        "confidence": "stated",
                        "rule": f"stated:{number}",
                    }
                )

        # events: one per unit that vanished, appeared or changed
        linked_to = defaultdict(list)
        linked_from = defaultdict(list)
        for lk in day_links:
            linked_to[lk["to_key"]].append(lk)
            linked_from[lk["from_key"]].append(lk)

        def event(kind, level, code, state, note):
            number, bdate, title, how = basis(state, level, code)
            ek = f"{day}:{kind}:{pre_key(level, code)}"
            events.append(
                {
                    "event_key": ek,
                    "date": day,
                    "kind": kind,
                    "subject_key": pre_key(level, code),
                    "legal_basis_number": number or "",
                    "legal_basis_date": bdate or "",
                    "legal_basis_title": title or "",
                    "date_basis": snap.date_basis if how != "stated" else "effective",
                    "basis_source": how,
                    "source": f"{snap.source}@{snap.commit}",
                    "note": note,
                }
            )
            return ek

        for level, code in appeared:
            k = pre_key(level, code)
            srcs = linked_to.get(k, [])
            kind = "establish"
            if len(srcs) > 1 or any(s["partly"] == "0" and s["from_key"] != k for s in srcs):
                kind = "merge"
            if srcs and all(s["partly"] == "1" for s in srcs):
                kind = "split"
            nm, typ, par = cur[(level, code)]
            ek = event(kind, level, code, cur, f"{nm} appears in the list of {day}")
            for lk in srcs:
                lk.setdefault("event_key", ek)
            if (level, code) in open_:  # reappears after a gap: same key, new version
                pass
            open_[(level, code)] = _version(level, code, nm, typ, parent_key(level, par), day)
            open_[(level, code)]["event_key"] = ek
        for level, code in vanished:
            k = pre_key(level, code)
            outs = linked_from.get(k, [])
            kind = (
                "merge"
                if outs and any(o["partly"] == "0" for o in outs)
                else ("split" if outs else "dissolve")
            )
            nm = prev[(level, code)][0]
            ek = event(kind, level, code, prev, f"{nm} is no longer in the list of {day}")
            for lk in outs:
                lk.setdefault("event_key", ek)
            row = open_.pop((level, code))
            row["valid_to"] = day
            versions.append(row)
        for level, code in changed:
            (on, ot, op), (nn, nt, np_) = prev[(level, code)], cur[(level, code)]
            kind = "reclassify" if ot != nt else ("transfer" if op != np_ else "rename")
            what = []
            if ot != nt:
                what.append(f"type {ot} → {nt}")
            if on != nn:
                what.append(f"name {on} → {nn}")
            if op != np_:
                what.append(f"parent {op} → {np_}")
            ek = event(kind, level, code, cur, f"{nn}: " + "; ".join(what))
            for lk in linked_to.get(pre_key(level, code), []):
                lk.setdefault("event_key", ek)
            row = open_.pop((level, code))
            row["valid_to"] = day
            versions.append(row)
            open_[(level, code)] = _version(level, code, nn, nt, parent_key(level, np_), day)
            open_[(level, code)]["event_key"] = ek
        for lk in day_links:
            lk.setdefault("event_key", "")
        links.extend(day_links)
        prev, prev_snap = cur, snap

    for row in open_.values():
        row["valid_to"] = REFORM_DATE
        versions.append(row)
    return History(snapshots, first, versions, events, links, unresolved, counts)


def _version(level, code, name, typ, parent, valid_from):
    return {
        "key": pre_key(level, code),
        "level": level,
        "code": code,
        "name": name,
        "type": typ,
        "parent_key": parent,
        "valid_from": valid_from,
        "valid_to": "",
        "event_key": "",
        "flags": "",
    }


# --- after 2025-07-01: the 2026 changes of map-history-sources.md ----------------------------
# (date, level, key-or-None, code, new type, new name or None, number, basis date, title,
#  date_basis). date_basis "effective": the text or an official source names the date;
# "upper_bound" : see UNCONFIRMED.
CHANGES_2026 = [
    (
        "2026-04-30",
        "province",
        "75",
        "thanh_pho_tw",
        "30/2026/QH16",
        "2026-04-14",
        "Thành lập thành phố Đồng Nai trực thuộc trung ương",
        "effective",
    ),
    (
        "2026-09-01",
        "province",
        "22",
        "thanh_pho_tw",
        "36/2026/QH16",
        "2026-08-24",
        "Thành lập thành phố Quảng Ninh trực thuộc trung ương",
        "effective",
    ),
    (
        "2026-09-20",
        "province",
        "24",
        "thanh_pho_tw",
        "39/2026/QH16",
        "2026-08-24",
        "Thành lập thành phố Bắc Ninh trực thuộc trung ương",
        "effective",
    ),
]
DONG_NAI_WARDS_2026 = [
    "Dầu Giây",
    "Đồng Phú",
    "Long Thành",
    "Lộc Ninh",
    "Nhơn Trạch",
    "Tân Khai",
    "Tân Phú",
    "Trảng Bom",
    "Trị An",
    "Xuân Lộc",
]
BAC_NINH_WARDS_2026 = [
    "07294",
    "07375",
    "07399",
    "07444",
    "07840",
    "09193",
    "09292",
    "09313",
    "09319",
    "09454",
    "09475",
    "09496",
]
# 388/NQ-UBTVQH16: the reference gives no date ("to confirm from the text"). The dataset
# maintainer of thanglequoc/vietnamese-provinces-database wrote (issue #210, 2026-09-13) that
# 39/2026/QH16 and 388/NQ-UBTVQH16 apply "on 20 September onward", and the reference's counts
# "from 2026-09-20" include the 12 wards: 2026-09-20 is used, FLAGGED "unconfirmed" (M).
UNCONFIRMED_388 = (
    "2026-09-20",
    "date not in the resolution's text available to us: thanglequoc/vietnamese-provinces-database "
    "issue #210 (maintainer, 2026-09-13) says 39/2026/QH16 and 388/NQ-UBTVQH16 apply from 20 "
    "September 2026; the reference's counts from 2026-09-20 include them. FLAGGED (M).",
)


def apply_2026(rows: list[dict], events: list[dict]) -> list[str]:
    """Split post-reform versions at the 2026 dates; return notes for the docs."""
    notes = []

    def split(row_key, day, typ, name, ek):
        cur = [
            r
            for r in rows
            if r["key"] == row_key
            and r["valid_from"] <= day
            and (r["valid_to"] == "" or day < r["valid_to"])
        ]
        assert len(cur) == 1, (row_key, day, cur)
        old = cur[0]
        new = dict(old, valid_from=day, type=typ, name=name, event_key=ek, flags="")
        old["valid_to"] = day
        rows.append(new)
        return old, new

    post = {(r["level"], r["code"]): r for r in rows if r["valid_from"] >= REFORM_DATE}
    for day, level, code, typ, number, bdate, title, how in CHANGES_2026:
        row = post[(level, code)]
        base = (
            row["name"].split(" ", 2)[-1] if row["name"].startswith("Thành phố ") else row["name"]
        )
        base = re.sub(r"^(Tỉnh|Thành phố) ", "", row["name"])
        ek = f"{day}:reclassify:{row['key']}"
        # before the upgrade the unit was a province (tỉnh); the package back-dates the type (C8)
        row["type"], row["name"] = "tinh", f"Tỉnh {base}"
        split(row["key"], day, typ, f"Thành phố {base}", ek)
        events.append(
            _event2026(
                ek,
                day,
                "reclassify",
                row["key"],
                number,
                bdate,
                title,
                how,
                f"Tỉnh {base} → Thành phố {base} (trực thuộc trung ương)",
            )
        )
    dn = {}
    for r in rows:
        if (
            r["valid_from"] >= REFORM_DATE
            and r["level"] == "commune"
            and r["parent_key"].startswith("province:75:")
        ):
            for n in DONG_NAI_WARDS_2026:
                if r["name"] == f"Xã {n}":
                    dn[n] = r
    assert sorted(dn) == sorted(DONG_NAI_WARDS_2026), sorted(dn)
    for n in DONG_NAI_WARDS_2026:
        r = dn[n]
        ek = f"2026-04-30:reclassify:{r['key']}"
        split(r["key"], "2026-04-30", "phuong", f"Phường {n}", ek)
        events.append(
            _event2026(
                ek,
                "2026-04-30",
                "reclassify",
                r["key"],
                "237/NQ-UBTVQH16",
                "2026-04-14",
                "Thành lập các phường thuộc thành phố Đồng Nai",
                "effective",
                f"Xã {n} → Phường {n}",
            )
        )
    day, why = UNCONFIRMED_388
    for code in BAC_NINH_WARDS_2026:
        r = post[("commune", code)]
        assert r["type"] == "xa", r
        assert r["parent_key"] == "province:24:2025", r
        base = r["name"][len("Xã ") :]
        ek = f"{day}:reclassify:{r['key']}"
        split(r["key"], day, "phuong", f"Phường {base}", ek)
        events.append(
            _event2026(
                ek,
                day,
                "reclassify",
                r["key"],
                "388/NQ-UBTVQH16",
                None,
                "Thành lập các phường thuộc thành phố Bắc Ninh",
                "unconfirmed",
                f"Xã {base} → Phường {base}. {why}",
            )
        )
    notes.append(why)
    return notes


def _event2026(ek, day, kind, subject, number, bdate, title, how, note):
    return {
        "event_key": ek,
        "date": day,
        "kind": kind,
        "subject_key": subject,
        "legal_basis_number": number,
        "legal_basis_date": bdate or "",
        "legal_basis_title": title,
        "date_basis": how,
        "basis_source": "reference",
        "source": "map-history-sources.md",
        "note": note,
    }


# --- official counts (map-history-sources.md, recounted from the lists; H) --------------------
# date -> (provinces, centrally-run cities or None, districts or None, xa, phuong, thi_tran,
# dac_khu); None = not asserted.
OFFICIAL_COUNTS = {
    "2023-04-10": (63, None, 705, None, None, None, 0, 10598),
    "2024-01-31": (63, None, 705, None, None, None, 0, 10598),
    "2024-05-01": (63, None, 705, 8192, 1784, 619, 0, 10595),
    "2024-08-31": (63, None, 705, 8192, 1784, 619, 0, 10595),
    "2025-01-01": (63, None, 696, 7724, 1715, 618, 0, 10057),
    "2025-02-28": (63, None, 696, 7724, 1715, 618, 0, 10057),
    "2025-03-01": (63, None, 696, 7706, 1724, 617, 0, 10047),
    "2025-06-30": (63, None, 696, 7706, 1724, 617, 0, 10047),
    "2025-07-01": (34, 6, 0, 2621, 687, 0, 13, 3321),
    "2026-04-29": (34, 6, 0, 2621, 687, 0, 13, 3321),
    "2026-04-30": (34, 7, 0, 2611, 697, 0, 13, 3321),
    "2026-09-01": (34, 8, 0, 2611, 697, 0, 13, 3321),
    "2026-09-20": (34, 9, 0, 2599, 709, 0, 13, 3321),
    "2026-10-01": (34, 9, 0, 2599, 709, 0, 13, 3321),
}
# The reference gives 2,598 xã / 710 phường from 2026-09-20 (23 reclassified communes) but names
# only 22 (10 in Đồng Nai, 12 in Bắc Ninh): the 23rd is unknown to us, so the dataset has
# 2,599 / 709 and this difference is documented, not invented away.
REFERENCE_2026 = (2598, 710)


def counts_on(rows: list[dict], day: str) -> tuple:
    live = [
        r
        for r in rows
        if (r["valid_from"] or "0000") <= day and (r["valid_to"] == "" or day < r["valid_to"])
    ]
    c = Counter((r["level"], r["type"]) for r in live)
    prov = c[("province", "tinh")] + c[("province", "thanh_pho_tw")]
    return (
        prov,
        c[("province", "thanh_pho_tw")],
        sum(v for (lv, _), v in c.items() if lv == "district"),
        c[("commune", "xa")],
        c[("commune", "phuong")],
        c[("commune", "thi_tran")],
        c[("commune", "dac_khu")],
        sum(v for (lv, _), v in c.items() if lv == "commune"),
    )


def assert_counts(rows: list[dict]) -> dict[str, tuple]:
    got = {}
    for day, want in OFFICIAL_COUNTS.items():
        have = counts_on(rows, day)
        got[day] = have
        for w, h, what in zip(
            want,
            have,
            ("provinces", "cities", "districts", "xa", "phuong", "thi_tran", "dac_khu", "communes"),
            strict=True,
        ):
            if w is not None and w != h:
                raise SystemExit(f"SANITY CHECK FAILED: {day} {what}: expected {w}, got {h}")
    return got
