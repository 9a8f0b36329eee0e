"""`ntm seed`: every bundled document in ``app/criteria/data/*.json`` as a published national set.

Idempotent: the whole folder is skipped when its checksum is the one last loaded; otherwise each
document is created, left alone (same checksum as its set) or re-issued in place (the set keeps
its id and indicator ids, its version goes up, and the audit log records the system as the author).
"""

from __future__ import annotations

import hashlib
from pathlib import Path

from pydantic import ValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from app.audit.service import AuditContext
from app.core.errors import ProblemError
from app.criteria.document import FORMAT, CriteriaSetDocument
from app.criteria.service import authoring
from app.db.seeding import Progress, SeedResult, dataset_is_current, files_checksum, mark_dataset

DATA_DIR = Path(__file__).resolve().parent / "data"
DATASET = "criteria_sets"


def _ordered(
    docs: list[tuple[Path, CriteriaSetDocument, str]],
) -> list[tuple[Path, CriteriaSetDocument, str]]:
    """Sets that others amend or derive from first."""
    pending = list(docs)
    done: set[str] = set()
    bundled = {doc.code for _, doc, _ in docs}
    ordered = []
    while pending:
        ready = [
            item
            for item in pending
            if all(
                ref is None or ref in done or ref not in bundled
                for ref in (item[1].amends, item[1].derived_from)
            )
        ]
        if not ready:
            raise ValueError("bundled criteria sets refer to each other in a cycle")
        for item in ready:
            ordered.append(item)
            done.add(item[1].code)
            pending.remove(item)
    return ordered


def load_documents(folder: Path = DATA_DIR) -> list[tuple[Path, CriteriaSetDocument, str]]:
    docs = []
    for path in sorted(folder.glob("*.json")):
        raw = path.read_bytes()
        try:
            doc = CriteriaSetDocument.model_validate_json(raw)
        except ValidationError as exc:
            first = exc.errors()[0]
            where = ".".join(str(part) for part in first["loc"])
            raise ValueError(f"{path.name}: {where}: {first['msg']}") from exc
        docs.append((path, doc, hashlib.sha256(raw).hexdigest()))
    return docs


async def seed_criteria_sets(
    session: AsyncSession, progress: Progress, folder: Path = DATA_DIR
) -> SeedResult:
    result = SeedResult(name=DATASET)
    paths = sorted(folder.glob("*.json"))  # noqa: ASYNC240 - a dozen small bundled files, once
    checksum = files_checksum(paths, FORMAT)
    if await dataset_is_current(session, DATASET, checksum):
        result.skipped = True
        return result
    context = AuditContext.system("ntm seed", reason="bundled reference criteria sets")
    counts = {"created": 0, "updated": 0, "unchanged": 0}
    for path, doc, digest in _ordered(load_documents(folder)):
        progress(f"criteria set {doc.code}")
        try:
            outcome = await authoring.store_bundled(session, context, doc, digest)
        except ProblemError as exc:
            detail = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in exc.errors[:5]
            )
            raise ValueError(f"{path.name}: {exc.detail} {detail}".strip()) from exc
        counts[outcome] += 1
    await mark_dataset(session, DATASET, checksum, f"{len(paths)} documents")
    result.counts = {key: value for key, value in counts.items() if value}
    return result
