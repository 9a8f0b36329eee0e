"""Password hashing (Argon2id) and the password policy."""

from __future__ import annotations

import string
from functools import lru_cache

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from app.core.errors import Unprocessable, field_error

MAX_PASSWORD_LENGTH = 1024  # Argon2 hashes anything; this only bounds the work per request.

_hasher = PasswordHasher()


def hash_password(password: str) -> str:
    return _hasher.hash(password)


def verify_password(password_hash: str, password: str) -> bool:
    try:
        return _hasher.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    try:
        return _hasher.check_needs_rehash(password_hash)
    except InvalidHashError:
        return False


@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    return _hasher.hash("not a password of anyone")


def burn_verification(password: str) -> None:
    """Spend the time a real verification takes, so an unknown account answers as slowly."""
    verify_password(_dummy_hash(), password)


def _classes(password: str) -> int:
    kinds = (
        any(c.islower() for c in password),
        any(c.isupper() for c in password),
        any(c.isdigit() for c in password),
        any(not c.isalnum() or c in string.punctuation for c in password),
    )
    return sum(kinds)


def password_problems(password: str, *, username: str | None, min_length: int) -> list[str]:
    problems = []
    if len(password) < min_length:
        problems.append(f"must be at least {min_length} characters long")
    if len(password) > MAX_PASSWORD_LENGTH:
        problems.append(f"must be at most {MAX_PASSWORD_LENGTH} characters long")
    if _classes(password) < 2:
        problems.append(
            "must mix at least two kinds of characters (lower case, upper case, digits, symbols)"
        )
    if username and username.casefold() in password.casefold():
        problems.append("must not contain the username")
    if len(set(password)) < 4:
        problems.append("must not repeat so few characters")
    return problems


def check_password_policy(
    password: str, *, username: str | None, min_length: int, field: str = "password"
) -> None:
    """Raise 422 ``weak_password`` with one error per unmet rule."""
    problems = password_problems(password, username=username, min_length=min_length)
    if problems:
        raise Unprocessable(
            "The password is too weak: " + "; ".join(problems) + ".",
            code="weak_password",
            errors=[field_error(["body", field], problem, "weak_password") for problem in problems],
        )
