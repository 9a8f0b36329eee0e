"""Request and response bodies of the identity feature. No response carries a password hash or a
client secret digest; a secret or token appears once, in the response that creates it."""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from app.core.permissions import Access, Action, Role
from app.core.security import PrincipalKind
from app.core.types import IsoDate, StrictBool

Username = Annotated[
    str,
    StringConstraints(
        strip_whitespace=True,
        to_lower=True,
        min_length=2,
        max_length=100,
        pattern=r"^[A-Za-z0-9._@-]+$",
    ),
]
Name = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class Input(BaseModel):
    model_config = ConfigDict(extra="forbid")


class TokenResponse(BaseModel):
    """An access token (RFC 6749 §5.1): send it as `Authorization: Bearer <access_token>`."""

    access_token: str = Field(description="A signed JWT; opaque to clients.")
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int = Field(description="Seconds until it expires; then ask for a new one.")


class RoleAssignmentCreate(Input):
    """A role to grant: over a unit's subtree (`unit_id`) or nationally (null), for a period
    `[valid_from, valid_to)` or from today on."""

    role: Role
    unit_id: uuid.UUID | None = Field(
        default=None, description="The unit whose subtree the role covers; null: national."
    )
    valid_from: IsoDate | None = Field(default=None, description="First day; null: from now on.")
    valid_to: IsoDate | None = Field(
        default=None, description="Day it ends (excluded); null: open."
    )
    step: Annotated[str, StringConstraints(min_length=1, max_length=64)] | None = Field(
        default=None,
        description="Appraisers: the procedure step they act at, `<procedure>/<step>` "
        "(e.g. `commune-2025/provincial_appraisal`; see GET /dossier-procedures).",
    )
    resources: dict[str, Access] | None = Field(
        default=None,
        description="Integration clients: access per resource, e.g. "
        '`{"units": "read", "assessments": "write"}`.',
    )


class RoleAssignmentOut(BaseModel):
    """A role a person or client holds over a unit's subtree (or nationally) for a period.
    Revoked assignments stay as history (`revoked_at` set, `active` false)."""

    id: uuid.UUID
    role: Role
    unit_id: uuid.UUID | None = Field(
        description="The unit whose subtree it covers; null: national."
    )
    unit_code: str | None = Field(
        default=None, description="The unit's official code today; null: national or ended unit."
    )
    unit_name: str | None = Field(default=None, description="The unit's name today.")
    valid_from: IsoDate | None = Field(description="First day it holds; null: from the beginning.")
    valid_to: IsoDate | None = Field(description="Day it ends (excluded); null: open-ended.")
    step: str | None = Field(description="Appraisers: the procedure step they act at.")
    resources: dict[str, Access] | None = Field(
        description="Integration clients: `read` or `write` per resource; null for people."
    )
    granted_by: uuid.UUID | None = Field(
        description="Who granted it; null: the command line (`ntm users grant`)."
    )
    granted_at: datetime
    revoked_at: datetime | None = Field(description="When it was revoked; null: not revoked.")
    active: bool = Field(description="Holds today: not revoked and today within its period.")


class UserCreate(Input):
    """A new person. Sending the same `id` and `username` again answers the existing person
    (200) instead of creating another."""

    id: uuid.UUID | None = Field(
        default=None, description="Chosen by the caller to make a retry safe; null: a new one."
    )
    username: Username = Field(description="Letters, digits and `._@-`; stored lower-case.")
    display_name: Name
    email: EmailStr | None = None
    password: Password = Field(description="The initial password; the password policy applies.")
    active: StrictBool = Field(default=True, description="false: the person cannot sign in.")
    roles: list[RoleAssignmentCreate] = Field(
        default_factory=list, max_length=50, description="Roles granted with the person."
    )


class UserUpdate(Input):
    """Changes to a person: only the fields sent change. A new `password` also ends every
    access token issued before."""

    display_name: Name | None = None
    email: EmailStr | None = None
    active: StrictBool | None = None
    password: Password | None = Field(
        default=None, description="A new password set by an administrator."
    )


class UserOut(BaseModel):
    """A person who signs in with a username and password. Never carries the password or its
    hash."""

    id: uuid.UUID
    username: str
    display_name: str
    email: str | None
    active: bool = Field(description="false: cannot sign in; earlier tokens stop working.")
    password_changed_at: datetime
    last_login_at: datetime | None = Field(description="Last password sign-in; null: never.")
    created_at: datetime
    updated_at: datetime
    roles: list[RoleAssignmentOut] = Field(description="Roles not revoked (current and future).")


class ClientCreate(Input):
    """A new integration client (another system calling the API with OAuth2 client
    credentials)."""

    id: uuid.UUID | None = Field(
        default=None, description="The OAuth2 `client_id` to use; null: a new one."
    )
    name: Name
    active: StrictBool = Field(default=True, description="false: gets no token.")
    roles: list[RoleAssignmentCreate] = Field(
        default_factory=list,
        max_length=50,
        description="`integration_client` assignments, each with its `resources`.",
    )


class ClientUpdate(Input):
    """Changes to an integration client: only the fields sent change. `active: false` stops its
    tokens at once."""

    name: Name | None = None
    active: StrictBool | None = None


class ClientOut(BaseModel):
    """An integration client. Its `id` is the OAuth2 `client_id`; the secret is never shown
    again after creation or rotation."""

    id: uuid.UUID
    client_id: str = Field(description="The OAuth2 client id (the same as `id`).")
    name: str
    active: bool = Field(description="false: gets no token; its tokens stop working.")
    secret_rotated_at: datetime = Field(description="When the current secret was issued.")
    last_login_at: datetime | None = Field(description="Last token obtained; null: never.")
    created_at: datetime
    updated_at: datetime
    roles: list[RoleAssignmentOut] = Field(description="Roles not revoked (current and future).")


class ClientCreated(ClientOut):
    """The new integration client with its secret, shown in this response only."""

    client_secret: str = Field(description="Shown once: store it now.")


class ClientSecret(BaseModel):
    """A client's new secret, shown in this response only; the previous one stops working at
    once."""

    client_id: str = Field(description="The OAuth2 client id (the client's `id`).")
    client_secret: str = Field(description="Shown once: store it now.")
    secret_rotated_at: datetime


class PasswordChange(Input):
    """The caller's current password and the new one. The policy: at least
    `NTM_PASSWORD_MIN_LENGTH` characters (10 by default), two kinds of characters (lower case,
    upper case, digits, symbols), not containing the username; 422 `weak_password` lists each
    unmet rule."""

    current_password: Password
    new_password: Password = Field(description="Must differ from the current one.")


class AccessTokenCreate(Input):
    """A new personal access token for a reporting tool: a name, a lifetime and whether it may
    only read."""

    name: Name = Field(description="What the token is for, to recognise it in the list.")
    expires_in_days: int = Field(default=90, ge=1, le=366, description="Lifetime in days.")
    read_only: StrictBool = Field(default=True, description="Reporting tools only need to read.")


class AccessTokenOut(BaseModel):
    """A personal access token (`Authorization: Bearer ntm_pat_…`) as listed: never the token
    itself."""

    id: uuid.UUID
    name: str
    prefix: str = Field(description="The first characters of the token, to recognise it.")
    read_only: bool = Field(description="true: the token may only read, whatever the roles.")
    expires_at: datetime
    revoked_at: datetime | None = Field(description="When it was revoked; null: not revoked.")
    last_used_at: datetime | None = Field(
        description="Last request made with it, to within 5 minutes; null: never used."
    )
    created_at: datetime


class AccessTokenCreated(AccessTokenOut):
    """The new personal access token with the token itself, shown in this response only."""

    token: str = Field(description="Shown once: store it now.")


class Permission(BaseModel):
    """Where the caller may perform one action: nationally, or in the subtrees of the listed
    units (as of today)."""

    action: Action
    national: bool = Field(description="true: everywhere in the country.")
    unit_ids: list[uuid.UUID] = Field(description="Roots of the subtrees where it is allowed.")


class Me(BaseModel):
    """The caller: a person (with or without a personal access token) or an integration client,
    with its roles and the actions it may perform where."""

    id: uuid.UUID = Field(description="The person's or the client's id.")
    kind: PrincipalKind
    name: str = Field(description="The username, or the client's name.")
    username: str | None = Field(default=None, description="People only.")
    display_name: str | None = Field(default=None, description="People only.")
    email: str | None = Field(default=None, description="People only.")
    client_id: str | None = Field(default=None, description="Integration clients only.")
    token: AccessTokenOut | None = Field(
        default=None, description="The personal access token in use, if any."
    )
    read_only: bool = Field(description="true: signed in with a read-only personal access token.")
    roles: list[RoleAssignmentOut]
    permissions: list[Permission] = Field(description="Each action allowed, and where.")
