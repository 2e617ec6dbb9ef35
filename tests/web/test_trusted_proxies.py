"""The client address comes from X-Forwarded-For only when a trusted proxy sent the request.

Seen through the registration limit (one a minute here): two requests count as one client's
exactly when the app takes them for the same address.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from itertools import count

import httpx
import pytest

from tests import factories
from treffpunkt.settings import SettingsError, get_settings, load_settings

pytestmark = pytest.mark.anyio

_numbers = count(1)
Connect = Callable[[str, str], AbstractAsyncContextManager[httpx.AsyncClient]]


@pytest.fixture
def one_a_minute(monkeypatch: pytest.MonkeyPatch) -> Iterator[Connect]:
    """Clients of an app allowing one registration a minute, from a given peer, trusting the
    proxies named."""
    monkeypatch.setenv("TREFFPUNKT_REGISTRATION_RATE_LIMIT", "1")
    monkeypatch.setenv("TREFFPUNKT_REGISTRATION_EVENT_SHARE", "0")

    @asynccontextmanager
    async def connect(peer: str, trusted: str) -> AsyncIterator[httpx.AsyncClient]:
        monkeypatch.setenv("TREFFPUNKT_FORWARDED_ALLOW_IPS", trusted)
        get_settings.cache_clear()
        from treffpunkt.web.app import create_app

        app = create_app()
        transport = httpx.ASGITransport(app=app, client=(peer, 50000))
        async with (
            app.lifespan(),
            httpx.AsyncClient(transport=transport, base_url="http://testserver") as http,
        ):
            yield http

    yield connect
    monkeypatch.undo()
    get_settings.cache_clear()


async def register_as(http: httpx.AsyncClient, slug: str, forwarded_for: str) -> int:
    number = next(_numbers)
    response = await http.post(
        f"/api/v1/events/{slug}/registrations",
        json={
            "name": f"Person {number}",
            "email": f"person{number}@example.org",
            "organisation": "Landkreis Meißen",
            "stakeholder_group": "other",
            "consent": True,
        },
        headers={"X-Forwarded-For": forwarded_for},
    )
    return response.status_code


async def open_event_slug() -> str:
    return (await factories.event(await factories.organiser(), capacity=100)).slug


async def test_a_forged_header_from_an_untrusted_peer_is_ignored(one_a_minute: Connect) -> None:
    slug = await open_event_slug()
    async with one_a_minute("198.51.100.7", "127.0.0.0/8,::1") as outsider:
        statuses = [
            await register_as(outsider, slug, "192.0.2.1"),
            await register_as(outsider, slug, "192.0.2.2"),
        ]

    assert statuses == [201, 429]


async def test_a_trusted_proxy_names_the_client(one_a_minute: Connect) -> None:
    slug = await open_event_slug()
    async with one_a_minute("127.0.0.1", "127.0.0.0/8,::1") as proxy:
        statuses = [
            await register_as(proxy, slug, "192.0.2.1"),
            await register_as(proxy, slug, "192.0.2.2"),
            await register_as(proxy, slug, "192.0.2.1"),
        ]

    assert statuses == [201, 201, 429]


async def test_proxies_are_trusted_by_network(one_a_minute: Connect) -> None:
    slug = await open_event_slug()
    async with one_a_minute("10.20.30.40", "10.0.0.0/8") as load_balancer:
        statuses = [
            await register_as(load_balancer, slug, "192.0.2.1"),
            await register_as(load_balancer, slug, "192.0.2.2"),
        ]

    assert statuses == [201, 201]


async def test_in_a_chain_the_right_most_untrusted_address_is_the_client(
    one_a_minute: Connect,
) -> None:
    slug = await open_event_slug()
    async with one_a_minute("10.0.0.1", "10.0.0.0/8") as inner_proxy:
        # The client forges what it likes on the left; 203.0.113.5 is what our outer proxy
        # (10.0.0.7) saw connecting, so it stays the client whatever the forgery says.
        statuses = [
            await register_as(inner_proxy, slug, "192.0.2.1, 203.0.113.5, 10.0.0.7"),
            await register_as(inner_proxy, slug, "192.0.2.99, 203.0.113.5, 10.0.0.7"),
        ]

    assert statuses == [201, 429]


async def test_by_default_only_loopback_is_trusted(one_a_minute: Connect) -> None:
    slug = await open_event_slug()
    async with one_a_minute("10.0.0.1", "") as private_network_peer:
        statuses = [
            await register_as(private_network_peer, slug, "192.0.2.1"),
            await register_as(private_network_peer, slug, "192.0.2.2"),
        ]

    assert statuses == [201, 429]


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
