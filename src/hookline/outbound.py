"""The outbound policy: where hookline may send to when a user gives it a URL.

Self-hosted users forward to internal services, so loopback and private ranges stay allowed; what is
refused is link-local space and the cloud metadata addresses (HOOKLINE_OUTBOUND_DENY_CIDRS), where a
request from the server could read its credentials. A URL is checked twice:

1. when it is given (`check_url`): an IP literal, or a name that resolves now, to a denied address is
   refused with a message for the user;
2. at connect time (`OutboundPolicy.connector()`): a resolver that refuses a name when any of its
   addresses is denied, and a socket factory that refuses a denied address before a socket exists, so a
   name re-pointed after it was given (DNS rebinding) or an IP literal never gets a connection.

Every aiohttp session that sends to a user-given URL is made with `policy.connector()`.
"""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

import aiohttp
from aiohttp.abc import AbstractResolver, ResolveResult

if TYPE_CHECKING:
    from hookline.config import Settings

Network = ipaddress.IPv4Network | ipaddress.IPv6Network
DEFAULT_DENY_CIDRS = "169.254.0.0/16,fe80::/10,fd00:ec2::254/128"
SETTING = "HOOKLINE_OUTBOUND_DENY_CIDRS"


class OutboundRefused(OSError):
    """A destination address the outbound policy refuses. An OSError so that aiohttp carries it as the
    cause of its connection error; the message is for the user and names no credentials."""


def parse_cidrs(text: str) -> tuple[Network, ...]:
    """'169.254.0.0/16, fe80::/10' -> networks; ValueError names the entry that is not a CIDR."""
    nets = []
    for item in text.split(","):
        item = item.strip()
        if not item:
            continue
        try:
            nets.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP network (e.g. 169.254.0.0/16 or fe80::/10)") from None
    return tuple(nets)


def _address(text: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        ip = ipaddress.ip_address(text.split("%", 1)[0])  # drop an IPv6 zone (fe80::1%eth0)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        return ip.ipv4_mapped  # ::ffff:169.254.169.254 is 169.254.169.254
    return ip


def without_credentials(url: str) -> str:
    """The URL with user:password@ shown as user:***@ and a lone user@ as ***@ (listings, messages). Works
    on the text (no port or host parsing), so a URL stored before validation got stricter still lists."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "***@" + url.rsplit("@", 1)[1] if "@" in url else url
    userinfo, at, hostport = parts.netloc.rpartition("@")
    if not at:
        return url
    # user:password shows the user; a lone user name may itself be the token (https://TOKEN@host).
    shown = userinfo.split(":", 1)[0] + ":***" if ":" in userinfo else "***"
    return urlunsplit((parts.scheme, f"{shown}@{hostport}", parts.path, parts.query, parts.fragment))


@dataclass(frozen=True)
class OutboundPolicy:
    deny: tuple[Network, ...]

    @classmethod
    def from_settings(cls, settings: Settings) -> OutboundPolicy:
        return cls(parse_cidrs(settings.outbound_deny_cidrs))

    @classmethod
    def default(cls) -> OutboundPolicy:
        return cls(parse_cidrs(DEFAULT_DENY_CIDRS))

    def denied_by(self, address: str) -> Network | None:
        """The deny-list network `address` falls in; None when it is allowed (or not an IP address)."""
        ip = _address(address)
        if ip is None:
            return None
        return next((net for net in self.deny if ip.version == net.version and ip in net), None)

    def refuse_addresses(self, host: str, addresses: Iterable[str]) -> None:
        """Raise OutboundRefused when any address `host` stands for is denied."""
        for address in addresses:
            net = self.denied_by(address)
            if net is not None:
                shown = host if host == address else f"{host} (resolves to {address})"
                raise OutboundRefused(f"{shown} is in {net}, which the outbound policy refuses ({SETTING})")

    def check_url(self, url: str) -> None:
        """Refuse a URL whose host is, or now resolves to, a denied address. A name that does not resolve
        here is let through: the connect-time check refuses it should it later resolve to one."""
        host = urlsplit(url).hostname
        if not host:
            return
        self.refuse_addresses(host, [host])
        if _address(host) is None and self.deny:
            try:
                infos = socket.getaddrinfo(host, None, type=socket.SOCK_STREAM)
            except (OSError, UnicodeError):
                return
            self.refuse_addresses(host, [str(info[4][0]) for info in infos])

    # -- connect time (aiohttp) ----------------------------------------------------------------

    def connector(self, **kwargs: Any) -> aiohttp.TCPConnector:
        """A TCPConnector that never connects to a denied address (kwargs go to TCPConnector)."""
        return aiohttp.TCPConnector(resolver=GuardedResolver(self), socket_factory=self._socket, **kwargs)

    def _socket(self, addr_info: Any) -> socket.socket:
        """The last gate, right before a socket exists: also covers IP literals, which skip the resolver."""
        family, type_, proto, _, sockaddr = addr_info
        self.refuse_addresses(str(sockaddr[0]), [str(sockaddr[0])])
        return socket.socket(family=family, type=type_, proto=proto)


class GuardedResolver(AbstractResolver):
    """aiohttp's default resolver, refusing a name when any address it resolves to is denied (a name
    with one good and one denied address is refused as a whole: it is pointed somewhere it must not be)."""

    def __init__(self, policy: OutboundPolicy, inner: AbstractResolver | None = None) -> None:
        self.policy = policy
        self.inner = inner or aiohttp.DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        found = await self.inner.resolve(host, port, family)
        self.policy.refuse_addresses(host, [str(r["host"]) for r in found])
        return found

    async def close(self) -> None:
        await self.inner.close()


def refusal(exc: BaseException) -> OutboundRefused | None:
    """The OutboundRefused behind an aiohttp connection error, if that is what it was."""
    seen: BaseException | None = exc
    for _ in range(5):
        if seen is None:
            return None
        if isinstance(seen, OutboundRefused):
            return seen
        seen = getattr(seen, "os_error", None) or seen.__cause__
    return None
