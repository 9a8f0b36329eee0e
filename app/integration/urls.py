"""Where a webhook may point (SSRF): HTTPS only unless plain HTTP is allowed for development,
and a host whose every address lies outside loopback, link-local, private and other reserved
ranges unless the deployment allows that network (``NTM_WEBHOOK_ALLOWED_NETWORKS``). The host is
resolved and every address checked, at subscription and again before each delivery (a name can
be re-pointed after it was accepted)."""

from __future__ import annotations

import asyncio
import ipaddress
import socket
from collections.abc import Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

from app.core.errors import Unprocessable, field_error

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


LOC = ["body", "url"]


def _invalid(reason: str) -> Unprocessable:
    return Unprocessable(
        reason,
        code="webhook_url_invalid",
        errors=[field_error(LOC, reason, "webhook_url_invalid")],
    )


@dataclass(frozen=True)
class Policy:
    allow_http: bool
    allowed: tuple[Network, ...]

    @classmethod
    def of(cls, allow_http: bool, networks: Sequence[str]) -> Policy:
        return cls(allow_http, tuple(ipaddress.ip_network(n, strict=False) for n in networks))


def _forbidden(address: Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return _forbidden(address.ipv4_mapped)
    return (
        address.is_loopback
        or address.is_link_local
        or address.is_private
        or address.is_reserved
        or address.is_multicast
        or address.is_unspecified
        or not address.is_global
    )


def check_form(url: str, policy: Policy) -> tuple[str, int]:
    """The host and port of an acceptable URL (before any look-up); 422 naming ``url`` if not."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise _invalid("The URL cannot be parsed.") from None
    if parts.scheme not in ("https", "http") or not parts.hostname:
        raise _invalid("The URL must be an absolute http(s) URL.")
    if parts.username or parts.password:
        raise _invalid("The URL must not carry credentials.")
    if parts.scheme == "http" and not policy.allow_http:
        reason = "Webhook URLs must use HTTPS."
        raise Unprocessable(
            reason,
            code="webhook_url_not_https",
            errors=[field_error(LOC, reason, "webhook_url_not_https")],
        )
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check_addresses(addresses: Sequence[str], policy: Policy) -> None:
    if not addresses:
        reason = "The host name does not resolve."
        raise Unprocessable(
            reason,
            code="webhook_url_unresolvable",
            errors=[field_error(LOC, reason, "webhook_url_unresolvable")],
        )
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if _forbidden(address) and not any(address in net for net in policy.allowed):
            reason = (
                f"The host resolves to {address}, in a range webhooks may not reach "
                "(loopback, link-local, private or reserved)."
            )
            raise Unprocessable(
                reason,
                code="webhook_url_forbidden_address",
                errors=[field_error(LOC, reason, "webhook_url_forbidden_address")],
            )


async def resolve(host: str, port: int) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


async def check(url: str, policy: Policy) -> None:
    """Return when ``url`` may receive webhooks; else 422 (``webhook_url_*``) naming ``url``."""
    check_addresses(await resolve(*check_form(url, policy)), policy)
