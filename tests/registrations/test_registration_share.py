"""One client address may take a share of an event's seats a day: an office yes, a script no.

Fifty colleagues behind one office proxy reach us from one address, like a script does. What
a script cannot do is look like fifty people to an event's capacity: with the production
defaults (60 registrations a minute per address, half of an event's seats a day per address
and event), the office fits into any event of a hundred seats, and a script never takes more
than half of an event.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests import factories
from tests.addressed_clients import ClientFactory, clients_from_addresses
from tests.registrations.helpers import person
from treffpunkt.events.services import get_event
from treffpunkt.events.tables import Event
from treffpunkt.registrations.tables import Registration
from treffpunkt.settings import get_settings
from treffpunkt.web.rate_limits import EVENT_SHARE_FLOOR, RateLimits, event_share_cap

pytestmark = pytest.mark.anyio

OFFICE = "203.0.113.10"
SCRIPT = "198.51.100.66"


@pytest.fixture
def production_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.delenv("TREFFPUNKT_REGISTRATION_RATE_LIMIT")
    monkeypatch.delenv("TREFFPUNKT_REGISTRATION_EVENT_SHARE")
    get_settings.cache_clear()
    yield
    monkeypatch.undo()
    get_settings.cache_clear()


@pytest.fixture
def clients(production_limits: None) -> ClientFactory:
    """Same-loop clients of one app with the production limits, from a given address."""
    from treffpunkt.web.app import create_app

    return clients_from_addresses(create_app())


async def register_many(http: httpx.AsyncClient, slug: str, people: int) -> list[int]:
    return [
        (await http.post(f"/api/v1/events/{slug}/registrations", json=person())).status_code
        for _ in range(people)
    ]


async def test_fifty_colleagues_behind_one_office_proxy_all_register(
    clients: ClientFactory,
) -> None:
    event = await factories.event(await factories.organiser(), capacity=100)

    async with clients(OFFICE) as office:
        statuses = await register_many(office, event.slug, 50)

    assert statuses == [201] * 50
    assert await Registration.count() == 50


async def test_a_script_from_one_address_gets_at_most_half_the_seats(
    clients: ClientFactory,
) -> None:
    event = await factories.event(await factories.organiser(), capacity=40, waitlist=False)

    async with clients(SCRIPT) as script:
        statuses = await register_many(script, event.slug, 40)

    assert statuses == [201] * 20 + [429] * 20
    assert (await get_event(event.slug)).seats_left == 20


async def test_a_script_cannot_fill_the_waiting_list_either(clients: ClientFactory) -> None:
    event = await factories.event(await factories.organiser(), capacity=20, waitlist=True)

    async with clients(SCRIPT) as script:
        statuses = await register_many(script, event.slug, 30)

    assert statuses.count(201) == EVENT_SHARE_FLOOR
    assert await Registration.count() == EVENT_SHARE_FLOOR


async def test_a_script_across_an_ipv6_64_gets_no_more_than_one_address(
    clients: ClientFactory,
) -> None:
    event = await factories.event(await factories.organiser(), capacity=40, waitlist=False)
    statuses = []

    for host in range(1, 41):
        async with clients(f"2001:db8:1:2::{host:x}") as script:
            statuses += await register_many(script, event.slug, 1)

    assert statuses == [201] * 20 + [429] * 20
    assert (await get_event(event.slug)).seats_left == 20


@pytest.mark.parametrize(
    ("used", "then", "status"),
    [
        ("2001:db8:1:2::1", "2001:db8:1:2:ffff::9", 429),  # the same /64: the same client
        ("2001:db8:1:2::1", "2001:db8:1:3::1", 201),  # the neighbouring /64: someone else
        (SCRIPT, f"::ffff:{SCRIPT}", 429),  # an IPv4 address written as IPv6: the same
    ],
)
async def test_an_address_shares_the_limit_of_its_client(
    clients: ClientFactory, used: str, then: str, status: int
) -> None:
    event = await factories.event(await factories.organiser(), capacity=20)
    async with clients(used) as script:
        await register_many(script, event.slug, EVENT_SHARE_FLOOR)

    async with clients(then) as other:
        statuses = await register_many(other, event.slug, 1)

    assert statuses == [status]


class CountsInMemory:
    async def hit(self, key: str, window: int) -> tuple[int, int]:
        return 1, window

    async def close(self) -> None:
        return None


async def test_the_share_asks_the_database_one_query_for_the_capacity(
    production_limits: None, monkeypatch: pytest.MonkeyPatch
) -> None:
    event = await factories.event(await factories.organiser(), capacity=20)
    engine = type(Event._meta.db)
    run_querystring = engine.run_querystring
    queries: list[object] = []

    async def counted(self: Any, querystring: Any, **options: Any) -> Any:
        queries.append(querystring)
        return await run_querystring(self, querystring, **options)

    monkeypatch.setattr(engine, "run_querystring", counted)
    limits = RateLimits(get_settings(), CountsInMemory())

    await limits._registration(SCRIPT, event.slug)

    assert len(queries) == 1


async def test_people_elsewhere_still_get_the_seats_a_script_could_not_take(
    clients: ClientFactory,
) -> None:
    event = await factories.event(await factories.organiser(), capacity=40, waitlist=False)
    async with clients(SCRIPT) as script:
        await register_many(script, event.slug, 40)

    async with clients("192.0.2.44") as someone_else:
        statuses = await register_many(someone_else, event.slug, 1)

    assert statuses == [201]


async def test_the_share_is_per_event(clients: ClientFactory) -> None:
    owner = await factories.organiser()
    full = await factories.event(owner, capacity=20)
    other = await factories.event(owner, capacity=20)
    async with clients(OFFICE) as office:
        await register_many(office, full.slug, EVENT_SHARE_FLOOR)

        statuses = await register_many(office, other.slug, 1)

    assert statuses == [201]


async def test_refusal_says_why_and_when_to_come_back(clients: ClientFactory) -> None:
    event = await factories.event(await factories.organiser(), capacity=20)
    async with clients(SCRIPT) as script:
        await register_many(script, event.slug, EVENT_SHARE_FLOOR)

        refused = await script.post(f"/api/v1/events/{event.slug}/registrations", json=person())

    assert refused.status_code == 429
    assert refused.json()["code"] == "too_many_requests"
    assert 0 < int(refused.headers["retry-after"]) <= 24 * 3600


async def test_refused_form_page_explains_the_share_in_german(clients: ClientFactory) -> None:
    event = await factories.event(await factories.organiser(), capacity=20)
    async with clients(SCRIPT) as script:
        await register_many(script, event.slug, EVENT_SHARE_FLOOR)
        page = await script.get(f"/events/{event.slug}")
        token = re.search(r'name="_csrf_token" value="([^"]*)"', page.text)
        assert token
        fields = {**person(), "consent": "yes", "_csrf_token": token.group(1)}

        refused = await script.post(f"/events/{event.slug}/register", data=fields)

    assert refused.status_code == 429
    assert '<html lang="de">' in refused.text
    assert "für diese Veranstaltung" in refused.text


async def test_events_without_a_capacity_have_no_share_to_protect(
    clients: ClientFactory,
) -> None:
    event = await factories.event(await factories.organiser(), capacity=None)

    async with clients(SCRIPT) as script:
        statuses = await register_many(script, event.slug, EVENT_SHARE_FLOOR + 5)

    assert statuses == [201] * (EVENT_SHARE_FLOOR + 5)


@pytest.mark.parametrize(
    ("capacity", "share", "cap"), [(1, 50, 10), (20, 50, 10), (41, 50, 21), (200, 25, 50)]
)
def test_share_cap_is_a_share_of_the_seats_but_never_below_the_floor(
    capacity: int, share: int, cap: int
) -> None:
    assert event_share_cap(capacity, share) == cap
