"""The outbound policy (hookline/outbound.py): which addresses are refused, when a URL is given and at
connect time. No test sends anything to a denied address: loopback is put on the deny list and a real
listener on 127.0.0.1 proves that no connection was even attempted."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest

from hookline.config import Settings
from hookline.outbound import (
    DEFAULT_DENY_CIDRS,
    OutboundPolicy,
    OutboundRefused,
    parse_cidrs,
    refusal,
    without_credentials,
)

LOOPBACK_DENIED = OutboundPolicy(parse_cidrs("127.0.0.0/8,::1/128"))


@pytest.mark.parametrize(
    "address",
    ["169.254.169.254", "169.254.0.1", "fe80::1", "fe80::1%eth0", "fd00:ec2::254", "::ffff:169.254.169.254"],
)
def test_default_denies_link_local_and_metadata(address: str) -> None:
    assert OutboundPolicy.default().denied_by(address) is not None


@pytest.mark.parametrize(
    "address", ["127.0.0.1", "::1", "10.1.2.3", "172.16.0.5", "192.168.1.10", "fd00::1", "8.8.8.8"]
)
def test_default_allows_loopback_private_and_public(address: str) -> None:
    assert OutboundPolicy.default().denied_by(address) is None


@pytest.mark.parametrize(
    "url",
    [
        "http://169.254.169.254/latest/meta-data/",
        "http://[fe80::1]:8080/x",
        "http://[fd00:ec2::254]/",
        "http://[::ffff:169.254.169.254]/",
        "https://user:pw@169.254.169.254/",
    ],
)
def test_check_url_refuses_denied_literals(url: str) -> None:
    with pytest.raises(OutboundRefused, match="HOOKLINE_OUTBOUND_DENY_CIDRS") as info:
        OutboundPolicy.default().check_url(url)
    assert "pw" not in str(info.value)


def test_check_url_refuses_a_name_that_resolves_to_a_denied_address() -> None:
    with pytest.raises(OutboundRefused, match=r"localhost \(resolves to (127\.0\.0\.1|::1)\)"):
        LOOPBACK_DENIED.check_url("http://localhost:9/hook")
    OutboundPolicy.default().check_url("http://localhost:9/hook")  # allowed by default
    LOOPBACK_DENIED.check_url("http://no-such-host.invalid/")  # unresolvable now: left to connect time


def test_settings_parse_and_refuse_bad_cidrs() -> None:
    assert Settings().outbound_deny_cidrs == DEFAULT_DENY_CIDRS
    assert len(OutboundPolicy.from_settings(Settings(outbound_deny_cidrs=" 10.0.0.0/8 , ,fe80::/10")).deny) == 2
    with pytest.raises(ValueError, match="'nope' is not an IP network"):
        Settings(outbound_deny_cidrs="10.0.0.0/8,nope")


def test_credentials_are_masked() -> None:
    assert without_credentials("https://user:s3cret@h.example:8443/p?q=1") == "https://user:***@h.example:8443/p?q=1"
    assert without_credentials("http://:tok@[::1]/x") == "http://:***@[::1]/x"
    assert without_credentials("https://h.example/p") == "https://h.example/p"
    assert without_credentials("https://tok-123@h.example/p") == "https://***@h.example/p"  # the name may be the token
    assert without_credentials("http://u:p@h.example:99999/x") == "http://u:***@h.example:99999/x"  # no port parsing


class Listener:
    """A TCP listener on 127.0.0.1 that counts accepted connections and answers HTTP 200."""

    def __init__(self) -> None:
        self.accepted = 0

    async def _client(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.accepted += 1
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok")
        await writer.drain()
        writer.close()


async def get(policy: OutboundPolicy, url: str) -> int:
    async with aiohttp.ClientSession(connector=policy.connector()) as session, session.get(url) as resp:
        return resp.status


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"])
def test_connect_time_refusal_happens_before_any_connection(host: str) -> None:
    """A name (the resolver's check) and an IP literal (the socket factory's check, which aiohttp reaches
    without resolving) are both refused with no connection made; allowed, the same URL connects."""

    async def main() -> None:
        listener = Listener()
        server = await asyncio.start_server(listener._client, "127.0.0.1", 0)
        async with server:
            url = f"http://{host}:{server.sockets[0].getsockname()[1]}/hook"
            with pytest.raises(aiohttp.ClientConnectorError) as info:
                await get(LOOPBACK_DENIED, url)
            refused = refusal(info.value)
            assert refused is not None and "outbound policy refuses" in str(refused)
            assert listener.accepted == 0
            assert await get(OutboundPolicy.default(), url) == 200  # the control: this listener does answer
            assert listener.accepted == 1

    asyncio.run(main())


def test_refusal_is_none_for_other_errors() -> None:
    assert refusal(ConnectionRefusedError(111, "refused")) is None
