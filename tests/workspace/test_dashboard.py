"""The organiser dashboard: whose events it lists, its tabs and counts, and each event's figures."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests import factories
from tests.registrations.helpers import from_now, iso, move_event_into_the_past
from tests.sessions import sign_in
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.attendance.services import check_in_by_id
from treffpunkt.events.services import EventView, add_co_organiser, cancel_event
from treffpunkt.events.tables import Event
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.schemas import RegistrationForm
from treffpunkt.registrations.services import approve, register
from treffpunkt.registrations.tables import Registration
from treffpunkt.workspace.services import Figures, dashboard, event_figures

pytestmark = pytest.mark.anyio

ENGLISH = {"Accept-Language": "en"}


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def listed_titles(html: str) -> list[str]:
    """The titles of the events in the dashboard's table, in order."""
    return [
        text(title)
        for title in re.findall(r'<tr id="e\d+">\s*<td><a [^>]*><strong>(.*?)</strong>', html, re.S)
    ]


def tab_counts(html: str) -> dict[str, str]:
    """Tab label -> its count, as the tabs show them."""
    match = re.search(r'<nav class="tabs"[^>]*>(.*?)</nav>', html, re.S)
    assert match
    return {
        text(label): count
        for label, count in re.findall(
            r'<a [^>]*>(.*?)<span class="tab-count">\((\d+)\)</span>', match.group(1), re.S
        )
    }


def row_cells(html: str, event_id: int) -> list[str]:
    match = re.search(rf'<tr id="e{event_id}">(.*?)</tr>', html, re.S)
    assert match, f"event {event_id} is not listed"
    return [text(cell) for cell in re.findall(r"<td>(.*?)</td>", match.group(1), re.S)]


async def person(slug: str, number: int) -> int:
    outcome = await register(
        slug,
        RegistrationForm(
            name=f"Person {number}",
            email=f"person{number}@example.org",
            organisation="Stadt Jena",
            stakeholder_group="public_administration",
            consent=True,
        ),
        now=datetime.now(UTC),
    )
    return outcome.registration_id


async def shelves(owner: CurrentOrganiser) -> dict[str, EventView]:
    """One event on each shelf: two upcoming, a draft, a past and a cancelled one."""
    events = {
        "soon": await factories.event(owner, days_ahead=3, title="Bald"),
        "later": await factories.event(owner, days_ahead=20, title="Später"),
        "draft": await factories.event(owner, publish=False, days_ahead=5, title="Entwurf"),
        "past": await factories.event(owner, days_ahead=1, title="Vorbei"),
        "cancelled": await factories.event(owner, days_ahead=8, title="Abgesagt"),
    }
    await move_event_into_the_past(events["past"].slug)
    await cancel_event(events["cancelled"].slug, "Krankheit", now=datetime.now(UTC))
    return events


async def test_dashboard_lists_the_events_i_own_and_co_organise_and_no_others(
    client: httpx.AsyncClient,
) -> None:
    me = await factories.organiser()
    other = await factories.organiser()
    await factories.event(me, title="Meine Veranstaltung")
    await factories.event(other, title="Fremde Veranstaltung")
    shared = await factories.event(other, title="Gemeinsame Veranstaltung", days_ahead=12)
    await add_co_organiser(shared.slug, me.email)
    await sign_in(client, me)

    response = await client.get("/organiser", headers=ENGLISH)

    assert response.status_code == 200
    assert listed_titles(response.text) == ["Meine Veranstaltung", "Gemeinsame Veranstaltung"]


async def test_admin_dashboard_lists_every_event(client: httpx.AsyncClient) -> None:
    admin = await factories.organiser(admin=True)
    await factories.event(await factories.organiser(), title="Eins")
    await factories.event(await factories.organiser(), title="Zwei", days_ahead=11)
    await sign_in(client, admin)

    response = await client.get("/organiser", headers=ENGLISH)

    assert listed_titles(response.text) == ["Eins", "Zwei"]


async def test_dashboard_needs_a_signed_in_organiser(client: httpx.AsyncClient) -> None:
    response = await client.get("/organiser", headers=ENGLISH)

    assert response.status_code in (302, 303, 401)


async def test_dashboard_lists_upcoming_soonest_first_then_drafts_then_past_then_cancelled(
    client: httpx.AsyncClient,
) -> None:
    me = await factories.organiser()
    await shelves(me)
    await sign_in(client, me)

    response = await client.get("/organiser", headers=ENGLISH)

    assert listed_titles(response.text) == ["Bald", "Später", "Entwurf", "Vorbei", "Abgesagt"]


async def test_past_events_are_listed_most_recent_first(client: httpx.AsyncClient) -> None:
    me = await factories.organiser()
    older = await factories.event(me, title="Älter")
    newer = await factories.event(me, title="Neuer")
    await move_event_into_the_past(newer.slug)
    await move_event_into_the_past(older.slug)
    await Event.update({Event.starts_at: Event.starts_at - timedelta(days=7)}).where(
        Event.id == older.id
    )
    await sign_in(client, me)

    response = await client.get("/organiser?show=past", headers=ENGLISH)

    assert listed_titles(response.text) == ["Neuer", "Älter"]


async def test_filter_tabs_show_the_count_of_each_shelf(client: httpx.AsyncClient) -> None:
    me = await factories.organiser()
    await shelves(me)
    await sign_in(client, me)

    response = await client.get("/organiser", headers=ENGLISH)

    assert tab_counts(response.text) == {
        "All": "5",
        "Upcoming": "2",
        "Drafts": "1",
        "Past": "1",
        "Cancelled": "1",
    }


@pytest.mark.parametrize(
    ("show", "titles"),
    [
        ("upcoming", ["Bald", "Später"]),
        ("drafts", ["Entwurf"]),
        ("past", ["Vorbei"]),
        ("cancelled", ["Abgesagt"]),
    ],
)
async def test_a_filter_lists_only_its_shelf(
    client: httpx.AsyncClient, show: str, titles: list[str]
) -> None:
    me = await factories.organiser()
    await shelves(me)
    await sign_in(client, me)

    response = await client.get(f"/organiser?show={show}", headers=ENGLISH)

    assert listed_titles(response.text) == titles
    assert f'href="/organiser?show={show}" aria-current="page"' in response.text


async def test_an_unknown_filter_lists_every_event(client: httpx.AsyncClient) -> None:
    me = await factories.organiser()
    await shelves(me)
    await sign_in(client, me)

    response = await client.get("/organiser?show=everything%27--", headers=ENGLISH)

    assert response.status_code == 200
    assert len(listed_titles(response.text)) == 5


async def test_empty_dashboard_says_what_to_do_next(client: httpx.AsyncClient) -> None:
    await sign_in(client, await factories.organiser())

    response = await client.get("/organiser", headers=ENGLISH)

    assert "You do not manage any events yet." in response.text
    assert response.text.count('href="/organiser/events/new"') == 2


async def test_dashboard_offers_a_new_event_and_links_to_hub_roster_and_door(
    client: httpx.AsyncClient,
) -> None:
    me = await factories.organiser()
    event = await factories.event(me)
    await sign_in(client, me)

    response = await client.get("/organiser", headers=ENGLISH)

    for path in ("", "/roster", "/check-in"):
        assert f'href="/organiser/events/{event.slug}{path}"' in response.text
    assert 'class="button" href="/organiser/events/new"' in response.text


async def busy_event(owner: CurrentOrganiser) -> tuple[EventView, list[int]]:
    """Capacity 2 with approval: two confirmed (one checked in), one waiting, one pending.

    Of its mail, one was refused for good, one has been due for an hour and the rest is fresh.
    """
    starts_at = from_now(hours=1)
    event = await factories.event(
        owner,
        starts_at=iso(starts_at),
        ends_at=iso(starts_at + timedelta(hours=3)),
        capacity=2,
        waitlist=True,
        requires_approval=True,
    )
    ids = [await person(event.slug, number) for number in range(4)]
    now = datetime.now(UTC)
    for registration_id in ids[:3]:
        await approve(event.slug, registration_id, now=now)
    await check_in_by_id(event.slug, ids[0], now=now)
    first, second = await OutboxMessage.select(OutboxMessage.id).order_by(OutboxMessage.id).limit(2)
    await OutboxMessage.update(
        {OutboxMessage.status: "failed", OutboxMessage.last_error: "550 no such user"}
    ).where(OutboxMessage.id == first["id"])
    await OutboxMessage.update({OutboxMessage.next_attempt_at: now - timedelta(hours=1)}).where(
        OutboxMessage.id == second["id"]
    )
    return event, ids


async def test_event_figures_count_seats_waiting_list_approvals_check_ins_and_undelivered_mail() -> (
    None
):
    event, _ = await busy_event(await factories.organiser())
    other = await factories.event(await factories.organiser(), days_ahead=4)

    figures = await event_figures([event.id, other.id], now=datetime.now(UTC))

    assert figures == {
        event.id: Figures(confirmed=2, waitlisted=1, pending=1, checked_in=1, undelivered=2),
        other.id: Figures(),
    }


async def test_dashboard_row_shows_the_figures_of_the_event(client: httpx.AsyncClient) -> None:
    me = await factories.organiser()
    event, _ = await busy_event(me)
    await sign_in(client, me)

    response = await client.get("/organiser", headers=ENGLISH)

    cells = row_cells(response.text, event.id)
    assert cells[1:7] == ["Published", "2 / 2", "1", "1", "1 / 2", "2"]


async def test_check_ins_are_not_shown_for_an_event_on_a_later_day(
    client: httpx.AsyncClient,
) -> None:
    me = await factories.organiser()
    event = await factories.event(me, days_ahead=5)
    await sign_in(client, me)

    response = await client.get("/organiser", headers=ENGLISH)

    assert row_cells(response.text, event.id)[5] == "– not yet"


@pytest.fixture
def queries(monkeypatch: pytest.MonkeyPatch) -> list[str]:
    """Every statement the database runs while the test looks."""
    seen: list[str] = []
    # On the class: the PostgreSQL engine's instances take no new attributes.
    engine_class = type(Registration._meta.db)
    run = engine_class.run_querystring

    async def counted(engine: Any, querystring: Any, *args: Any, **kwargs: Any) -> Any:
        seen.append(str(querystring))
        return await run(engine, querystring, *args, **kwargs)

    monkeypatch.setattr(engine_class, "run_querystring", counted)
    return seen


async def test_dashboard_queries_do_not_grow_with_the_number_of_events(
    queries: list[str],
) -> None:
    me = await factories.organiser()
    few = [await factories.event(me, days_ahead=3 + n) for n in range(2)]
    for event in few:
        await person(event.slug, event.id)
    await dashboard(me, "all", now=datetime.now(UTC))  # regions are read once per process
    queries.clear()
    await dashboard(me, "all", now=datetime.now(UTC))
    with_few = len(queries)
    for n in range(28):
        event = await factories.event(me, days_ahead=30 + n)
        await person(event.slug, 1000 + n)
    queries.clear()

    board = await dashboard(me, "all", now=datetime.now(UTC))

    assert len(board.entries) == 30
    assert len(queries) == with_few <= 4
