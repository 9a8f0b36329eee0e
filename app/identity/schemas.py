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
    """RFC 6749 §5.1."""

    access_token: str
    token_type: Literal["bearer"] = "bearer"  # noqa: S105
    expires_in: int


class RoleAssignmentCreate(Input):
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
    id: uuid.UUID
    role: Role
    unit_id: uuid.UUID | None
    unit_code: str | None = None
    unit_name: str | None = None
    valid_from: IsoDate | None
    valid_to: IsoDate | None
    step: str | None
    resources: dict[str, Access] | None
    granted_by: uuid.UUID | None
    granted_at: datetime
    revoked_at: datetime | None
    active: bool


class UserCreate(Input):
    id: uuid.UUID | None = None
    username: Username
    display_name: Name
    email: EmailStr | None = None
    password: Password
    active: StrictBool = True
    roles: list[RoleAssignmentCreate] = Field(default_factory=list, max_length=50)


class UserUpdate(Input):
    display_name: Name | None = None
    email: EmailStr | None = None
    active: StrictBool | None = None
    password: Password | None = Field(
        default=None, description="A new password set by an administrator."
    )


class UserOut(BaseModel):
    id: uuid.UUID
    username: str
    display_name: str
    email: str | None
    active: bool
    password_changed_at: datetime
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime
    roles: list[RoleAssignmentOut]


class ClientCreate(Input):
    id: uuid.UUID | None = None
    name: Name
    active: StrictBool = True
    roles: list[RoleAssignmentCreate] = Field(default_factory=list, max_length=50)


class ClientUpdate(Input):
    name: Name | None = None
    active: StrictBool | None = None


class ClientOut(BaseModel):
    id: uuid.UUID
    client_id: str = Field(description="The OAuth2 client id (the same as `id`).")
    name: str
    active: bool
    secret_rotated_at: datetime
    last_login_at: datetime | None
    created_at: datetime
    updated_at: datetime
    roles: list[RoleAssignmentOut]


class ClientCreated(ClientOut):
    client_secret: str = Field(description="Shown once: store it now.")


class ClientSecret(BaseModel):
    client_id: str
    client_secret: str = Field(description="Shown once: store it now.")
    secret_rotated_at: datetime


class PasswordChange(Input):
    current_password: Password
    new_password: Password


class AccessTokenCreate(Input):
    name: Name
    expires_in_days: int = Field(default=90, ge=1, le=366)
    read_only: StrictBool = Field(default=True, description="Reporting tools only need to read.")


class AccessTokenOut(BaseModel):
    id: uuid.UUID
    name: str
    prefix: str = Field(description="The first characters of the token, to recognise it.")
    read_only: bool
    expires_at: datetime
    revoked_at: datetime | None
    last_used_at: datetime | None
    created_at: datetime


class AccessTokenCreated(AccessTokenOut):
    token: str = Field(description="Shown once: store it now.")


class Permission(BaseModel):
    action: Action
    national: bool
    unit_ids: list[uuid.UUID]


class Me(BaseModel):
    id: uuid.UUID
    kind: PrincipalKind
    name: str
    username: str | None = None
    display_name: str | None = None
    email: str | None = None
    client_id: str | None = None
    token: AccessTokenOut | None = Field(
        default=None, description="The personal access token in use, if any."
    )
    read_only: bool
    roles: list[RoleAssignmentOut]
    permissions: list[Permission]
