"""What the feed shows of the outbox: event types, the resource an entity's events are about
and its address. Pure: no database, no HTTP."""

from __future__ import annotations

import uuid
from dataclasses import dataclass

API = "/api/v1"

# Audited writes that are not data changes an integrator may follow: accounts, sign-ins,
# tokens, grants and webhook secrets never reach the feed or a webhook.
PRIVATE_ENTITIES = frozenset(
    {
        "user",
        "client",
        "access_token",
        "role_assignment",
        "webhook_subscription",
        "webhook_delivery",
    }
)

# The past tense of each audit action: the second half of an event type (``unit.dissolved``).
VERBS: dict[str, str] = {
    "create": "created",
    "update": "updated",
    "delete": "deleted",
    "dissolve": "dissolved",
    "apply": "applied",
    "publish": "published",
    "retire": "retired",
    "import": "imported",
    "revoke": "revoked",
    "transition": "transitioned",
    "recognise": "recognised",
    "submit": "submitted",
    # the other actions of a recognition dossier (app.models.enums.DossierAction)
    "forward": "forwarded",
    "appraise": "appraised",
    "return": "returned",
    "reject": "rejected",
    "withdraw": "withdrawn",
    "lock": "locked",
}
ACTIONS = {verb: action for action, verb in VERBS.items()}

# Entity (as audited) -> (resource type, path of the resource with {id} / {unit_id}).
_RESOURCES: dict[str, tuple[str, str | None]] = {
    "unit": ("unit", "/units/{id}"),
    "unit_event": ("unit_event", "/unit-events/{id}"),
    "unit_classification": ("unit", "/units/{unit_id}/classifications"),
    "criteria_set": ("criteria_set", "/criteria-sets/{id}"),
    "assessment": ("assessment", "/assessments/{id}"),
    "assessment_values": ("assessment", "/assessments/{id}"),
    "assessment_judgements": ("assessment", "/assessments/{id}"),
    "assessment_conditions": ("assessment", "/assessments/{id}"),
    "indicator_value_import": ("indicator_value_import", None),
    "recognition": ("recognition", "/recognitions/{id}"),
    "dossier": ("dossier", "/dossiers/{id}"),
    "dossier_document": ("dossier_document", None),
    "plan": ("plan", "/plans/{id}"),
    "reference_dataset": ("reference_dataset", None),
}


def verb(action: str) -> str:
    return VERBS.get(action, action)


def event_type(entity: str, action: str) -> str:
    return f"{entity}.{verb(action)}"


@dataclass(frozen=True)
class TypeFilter:
    """``types=`` as the outbox reads it: whole entities, or (entity, action) pairs."""

    entities: frozenset[str]
    pairs: frozenset[tuple[str, str]]


def parse_types(types: list[str]) -> TypeFilter | str:
    """``unit`` (every event of units) or ``unit.dissolved``; the first unknown entry instead."""
    entities: set[str] = set()
    pairs: set[tuple[str, str]] = set()
    for item in types:
        entity, _, past = item.strip().partition(".")
        if not entity or entity in PRIVATE_ENTITIES or (past and past not in ACTIONS):
            return item
        if past:
            pairs.add((entity, ACTIONS[past]))
        else:
            entities.add(entity)
    return TypeFilter(frozenset(entities), frozenset(pairs))


def resource(entity: str) -> str:
    return _RESOURCES.get(entity, (entity, None))[0]


def link(entity: str, entity_id: str, unit_id: uuid.UUID | None) -> str | None:
    path = _RESOURCES.get(entity, (entity, None))[1]
    if path is None or ("{unit_id}" in path and unit_id is None):
        return None
    return API + path.format(id=entity_id, unit_id=unit_id)
