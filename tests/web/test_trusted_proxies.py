"""The client address comes from X-Forwarded-For only when a trusted proxy sent the request.

Seen through the registration limit (one a minute here): two requests count as one client's
exactly when the app takes them for the same address.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager

import httpx
import pytest

from tests import factories
from tests.addressed_clients import clients_from_addresses
from tests.registrations.helpers import person
from treffpunkt.settings import SettingsError, get_settings, load_settings

pytestmark = pytest.mark.anyio

Connect = Callable[[str, str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def one_a_minute(monkeypatch: pytest.MonkeyPatch) -> Iterator[Connect]:
    """`connect(peer, trusted)`: a client from `peer` of an app that allows one registration
    a minute and trusts the proxies named."""
    monkeypatch.setenv("TREFFPUNKT_REGISTRATION_RATE_LIMIT", "1")

    def connect(peer: str, trusted: str) -> AbstractAsyncContextManager[httpx.AsyncClient]:
        monkeypatch.setenv("TREFFPUNKT_FORWARDED_ALLOW_IPS", trusted)
        get_settings.cache_clear()
        from treffpunkt.web.app import create_app

        return clients_from_addresses(create_app())(peer)

    yield connect
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.mark.parametrize(
    ("peer", "trusted", "forwarded_for", "statuses"),
    [
        pytest.param(
            "198.51.100.7",
            "127.0.0.0/8,::1",
            ["192.0.2.1", "192.0.2.2"],
            [201, 429],
            id="a forged header from an untrusted peer is ignored",
        ),
        pytest.param(
            "127.0.0.1",
            "127.0.0.0/8,::1",
            ["192.0.2.1", "192.0.2.2", "192.0.2.1"],
            [201, 201, 429],
            id="a trusted proxy names the client",
        ),
        pytest.param(
            "10.20.30.40",
            "10.0.0.0/8",
            ["192.0.2.1", "192.0.2.2"],
            [201, 201],
            id="proxies are trusted by network",
        ),
        pytest.param(
            "10.0.0.1",
            "",
            ["192.0.2.1", "192.0.2.2"],
            [201, 429],
            id="by default only loopback is trusted",
        ),
        # The client forges what it likes on the left; 203.0.113.5 is what our outer proxy
        # (10.0.0.7) saw connecting, so it stays the client whatever the forgery says.
        pytest.param(
            "10.0.0.1",
            "10.0.0.0/8",
            ["192.0.2.1, 203.0.113.5, 10.0.0.7", "192.0.2.99, 203.0.113.5, 10.0.0.7"],
            [201, 429],
            id="in a chain the right-most untrusted address is the client",
        ),
    ],
)
async def test_client_address(
    one_a_minute: Connect,
    peer: str,
    trusted: str,
    forwarded_for: list[str],
    statuses: list[int],
) -> None:
    slug = (await factories.event(await factories.organiser(), capacity=100)).slug
    async with one_a_minute(peer, trusted) as http:
        answered = [
            (
                await http.post(
                    f"/api/v1/events/{slug}/registrations",
                    json=person(),
                    headers={"X-Forwarded-For": header},
                )
            ).status_code
            for header in forwarded_for
        ]

    assert answered == statuses


def test_default_setting_is_loopback_only(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("TREFFPUNKT_FORWARDED_ALLOW_IPS", raising=False)

    assert load_settings().forwarded_allow_ips == ("127.0.0.0/8", "::1")


def test_setting_takes_addresses_networks_and_star(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TREFFPUNKT_FORWARDED_ALLOW_IPS", " 10.0.0.5, 172.16.0.0/12 ,fd00::/8,*")

    assert load_settings().forwarded_allow_ips == ("10.0.0.5", "172.16.0.0/12", "fd00::/8", "*")


def test_a_malformed_proxy_setting_refuses_to_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TREFFPUNKT_FORWARDED_ALLOW_IPS", "10.0.0.0/8, loadbalancer.internal")

    with pytest.raises(SettingsError, match="TREFFPUNKT_FORWARDED_ALLOW_IPS"):
        load_settings()
