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

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
Address = ipaddress.IPv4Address | ipaddress.IPv6Address


@dataclass(frozen=True)
class Refusal:
    """Why a URL is refused: ``code`` is the problem code, ``reason`` the English sentence."""

    code: str
    reason: str


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


def check_form(url: str, policy: Policy) -> tuple[str, int] | Refusal:
    """The host and port of an acceptable URL, or why it is refused (before any look-up)."""
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        return Refusal(code="webhook_url_invalid", reason="The URL cannot be parsed.")
    if parts.scheme not in ("https", "http") or not parts.hostname:
        return Refusal(
            code="webhook_url_invalid", reason="The URL must be an absolute http(s) URL."
        )
    if parts.username or parts.password:
        return Refusal(code="webhook_url_invalid", reason="The URL must not carry credentials.")
    if parts.scheme == "http" and not policy.allow_http:
        return Refusal(code="webhook_url_not_https", reason="Webhook URLs must use HTTPS.")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def check_addresses(addresses: Sequence[str], policy: Policy) -> Refusal | None:
    if not addresses:
        return Refusal(code="webhook_url_unresolvable", reason="The host name does not resolve.")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if _forbidden(address) and not any(address in net for net in policy.allowed):
            return Refusal(
                "webhook_url_forbidden_address",
                f"The host resolves to {address}, in a range webhooks may not reach "
                "(loopback, link-local, private or reserved).",
            )
    return None


async def resolve(host: str, port: int) -> list[str]:
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (OSError, UnicodeError):
        return []
    return sorted({str(info[4][0]) for info in infos})


async def check(url: str, policy: Policy) -> Refusal | None:
    """None when ``url`` may receive webhooks, else why not."""
    form = check_form(url, policy)
    if isinstance(form, Refusal):
        return form
    return check_addresses(await resolve(*form), policy)
