"""Roles, the actions they allow, and the one table that maps one to the other.

An action is ``<resource>:<verb>``. A role is held over a unit's subtree (or nationally); what a
role allows is the same at every level, the scope decides where. Integration clients hold
``integration_client`` with, per resource, ``read`` or ``write`` access that narrows the row below.
"""

from __future__ import annotations

from enum import StrEnum


class Role(StrEnum):
    SYSTEM_ADMIN = "system_admin"
    PROVINCE_COORDINATOR = "province_coordinator"
    DISTRICT_OFFICER = "district_officer"
    COMMUNE_OFFICER = "commune_officer"
    APPRAISER = "appraiser"
    DECISION_MAKER = "decision_maker"
    VIEWER = "viewer"
    INTEGRATION_CLIENT = "integration_client"


class Action(StrEnum):
    UNITS_READ = "units:read"
    UNITS_WRITE = "units:write"
    CRITERIA_READ = "criteria:read"
    CRITERIA_WRITE = "criteria:write"
    ASSESSMENTS_READ = "assessments:read"
    ASSESSMENTS_WRITE = "assessments:write"
    ASSESSMENTS_REVIEW = "assessments:review"
    DOSSIERS_READ = "dossiers:read"
    DOSSIERS_WRITE = "dossiers:write"
    DOSSIERS_APPRAISE = "dossiers:appraise"
    DOSSIERS_DECIDE = "dossiers:decide"
    RECOGNITIONS_READ = "recognitions:read"
    RECOGNITIONS_WRITE = "recognitions:write"
    PLANS_READ = "plans:read"
    PLANS_WRITE = "plans:write"
    REPORTS_READ = "reports:read"
    EVENTS_READ = "events:read"
    WEBHOOKS_MANAGE = "webhooks:manage"
    USERS_MANAGE = "users:manage"
    AUDIT_READ = "audit:read"

    @property
    def resource(self) -> str:
        return self.value.split(":", 1)[0]

    @property
    def is_read(self) -> bool:
        return self.value.endswith(":read")


class Access(StrEnum):
    """What an integration client may do with one resource."""

    READ = "read"
    WRITE = "write"


A = Action

READ = frozenset(
    {
        A.UNITS_READ,
        A.CRITERIA_READ,
        A.ASSESSMENTS_READ,
        A.DOSSIERS_READ,
        A.RECOGNITIONS_READ,
        A.PLANS_READ,
        A.REPORTS_READ,
        A.EVENTS_READ,
    }
)

# The permission matrix. Read it as: a holder of the role, within the role's scope, may ...
PERMISSIONS: dict[Role, frozenset[Action]] = {
    Role.SYSTEM_ADMIN: frozenset(Action),
    Role.PROVINCE_COORDINATOR: READ
    | {
        A.UNITS_WRITE,
        A.CRITERIA_WRITE,
        A.ASSESSMENTS_WRITE,
        A.ASSESSMENTS_REVIEW,
        A.DOSSIERS_WRITE,
        A.RECOGNITIONS_WRITE,
        A.PLANS_WRITE,
        A.AUDIT_READ,
    },
    Role.DISTRICT_OFFICER: READ
    | {A.ASSESSMENTS_WRITE, A.ASSESSMENTS_REVIEW, A.DOSSIERS_WRITE, A.PLANS_WRITE},
    Role.COMMUNE_OFFICER: READ | {A.ASSESSMENTS_WRITE, A.DOSSIERS_WRITE},
    Role.APPRAISER: READ | {A.ASSESSMENTS_REVIEW, A.DOSSIERS_APPRAISE},
    Role.DECISION_MAKER: READ | {A.DOSSIERS_DECIDE, A.RECOGNITIONS_WRITE},
    Role.VIEWER: READ,
    # Narrowed per resource by the assignment's ``resources`` (see ``client_allows``).
    Role.INTEGRATION_CLIENT: READ
    | {
        A.UNITS_WRITE,
        A.CRITERIA_WRITE,
        A.ASSESSMENTS_WRITE,
        A.DOSSIERS_WRITE,
        A.RECOGNITIONS_WRITE,
        A.PLANS_WRITE,
    },
}

# Roles a person may hold; clients hold integration_client only.
USER_ROLES = frozenset(Role) - {Role.INTEGRATION_CLIENT}
CLIENT_ROLES = frozenset({Role.INTEGRATION_CLIENT})
# Resources an integration client can be granted, and the actions each covers.
CLIENT_RESOURCES = frozenset(action.resource for action in PERMISSIONS[Role.INTEGRATION_CLIENT])


def role_allows(role: Role, action: Action) -> bool:
    return action in PERMISSIONS[role]


def client_allows(resources: dict[str, str] | None, action: Action) -> bool:
    """Whether an integration client's per-resource access covers the action."""
    access = (resources or {}).get(action.resource)
    if access == Access.WRITE:
        return True
    return access == Access.READ and action.is_read
