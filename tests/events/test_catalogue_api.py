"""The public catalogue through the API: filters, search, visibility, order and paging."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests import factories
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.events import services
from treffpunkt.events.services import EventView

pytestmark = pytest.mark.anyio

CATALOGUE = "/api/v1/events"
ONLINE = {"format": "online", "venue": None, "online_url": "https://meet.example.org/room"}
HYBRID = {"format": "hybrid", "online_url": "https://meet.example.org/room"}


async def listed(client: httpx.AsyncClient, **params: Any) -> list[str]:
    """The slugs the catalogue answers for these query parameters, in its order."""
    response = await client.get(CATALOGUE, params=params)
    assert response.status_code == 200, response.text
    return [item["slug"] for item in response.json()["items"]]


async def plain_event(owner: CurrentOrganiser, title: str, **overrides: Any) -> EventView:
    """A published event whose searchable text is only its title, unless told otherwise."""
    fields: dict[str, Any] = {
        "title": title,
        "summary": "",
        "description": "",
        "venue": {"name": "Saal", "street": "", "postal_code": "", "city": "Ort"},
        **overrides,
    }
    return await factories.event(owner, **fields)


async def event_at(
    owner: CurrentOrganiser, title: str, starts_at: str, **overrides: Any
) -> EventView:
    """A published event starting at an exact ISO moment and lasting two hours."""
    start = datetime.fromisoformat(starts_at)
    return await plain_event(
        owner,
        title,
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=2)).isoformat(),
        **overrides,
    )


async def past_event(
    owner: CurrentOrganiser, title: str, *, days_ago: int, **overrides: Any
) -> EventView:
    """A published event that ended `days_ago` days ago (published while it was upcoming)."""
    start = datetime.now(UTC).replace(microsecond=0) - timedelta(days=days_ago)
    back_then = start - timedelta(days=30)
    data = factories.event_create(
        title=title,
        starts_at=start.isoformat(),
        ends_at=(start + timedelta(hours=2)).isoformat(),
        **overrides,
    )
    created = await services.create_event(data, owner, now=back_then)
    return await services.publish_event(created.slug, now=back_then)


# --- each filter alone ---------------------------------------------------------------------


async def test_without_filters_the_catalogue_lists_every_upcoming_public_event(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    first = await plain_event(owner, "Erstes", days_ahead=5)
    second = await plain_event(owner, "Zweites", days_ahead=6)

    response = await client.get(CATALOGUE)

    assert response.status_code == 200
    body = response.json()
    assert [item["slug"] for item in body["items"]] == [first.slug, second.slug]
    assert body["total"] == 2
    assert body["limit"] == 20
    assert body["offset"] == 0


async def test_filter_by_search_words_lists_only_matching_events(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    heat = await plain_event(owner, "Kommunale Wärmeplanung", days_ahead=5)
    await plain_event(owner, "Breitband für Schulen", days_ahead=6)

    assert await listed(client, q="wärmeplanung") == [heat.slug]


async def test_filter_by_region_lists_only_that_regions_events(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    saxony = await plain_event(owner, "Sachsen eins", region="DE-SN", days_ahead=5)
    await plain_event(owner, "Bayern eins", region="DE-BY", days_ahead=6)
    saxony_later = await plain_event(owner, "Sachsen zwei", region="DE-SN", days_ahead=7)

    assert await listed(client, region="DE-SN") == [saxony.slug, saxony_later.slug]


async def test_filter_by_sector_lists_events_that_carry_the_sector_among_others(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    energy = await plain_event(owner, "Energie", sectors=["energy"], days_ahead=5)
    await plain_event(owner, "Bildung", sectors=["education"], days_ahead=6)
    mixed = await plain_event(owner, "Gemischt", sectors=["mobility", "energy"], days_ahead=7)

    assert await listed(client, sector="energy") == [energy.slug, mixed.slug]


async def test_filter_by_kind_lists_only_that_kind(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    await plain_event(owner, "Workshop", kind="workshop", days_ahead=5)
    meeting = await plain_event(owner, "Treffen", kind="networking_meeting", days_ahead=6)

    assert await listed(client, kind="networking_meeting") == [meeting.slug]


@pytest.mark.parametrize("wanted", ["in_person", "online", "hybrid"])
async def test_filter_by_format_lists_only_that_format(
    client: httpx.AsyncClient, wanted: str
) -> None:
    owner = await factories.organiser()
    by_format = {
        "in_person": await plain_event(owner, "Vor Ort", days_ahead=5),
        "online": await plain_event(owner, "Online", days_ahead=6, **ONLINE),
        "hybrid": await plain_event(owner, "Hybrid", days_ahead=7, **HYBRID),
    }

    assert await listed(client, format=wanted) == [by_format[wanted].slug]


async def test_filter_starts_after_includes_an_event_starting_exactly_then(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    await event_at(owner, "Früher", "2030-05-01T09:59:00+02:00")
    exact = await event_at(owner, "Genau", "2030-05-01T10:00:00+02:00")
    later = await event_at(owner, "Später", "2030-05-02T10:00:00+02:00")

    assert await listed(client, starts_after="2030-05-01T10:00:00+02:00") == [
        exact.slug,
        later.slug,
    ]


async def test_filter_starts_before_excludes_an_event_starting_exactly_then(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    earlier = await event_at(owner, "Früher", "2030-05-01T09:59:00+02:00")
    await event_at(owner, "Genau", "2030-05-01T10:00:00+02:00")

    assert await listed(client, starts_before="2030-05-01T10:00:00+02:00") == [earlier.slug]


async def test_filter_starts_after_compares_moments_across_utc_offsets(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    await event_at(owner, "Vorher", "2030-05-01T07:59:00+00:00")
    after = await event_at(owner, "Nachher", "2030-05-01T08:00:00+00:00")

    assert await listed(client, starts_after="2030-05-01T10:00:00+02:00") == [after.slug]


async def test_filter_include_past_also_lists_finished_events_oldest_first(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    upcoming = await plain_event(owner, "Kommt noch", days_ahead=3)
    last_week = await past_event(owner, "Letzte Woche", days_ago=7)
    last_month = await past_event(owner, "Letzter Monat", days_ago=30)

    assert await listed(client, include_past="true") == [
        last_month.slug,
        last_week.slug,
        upcoming.slug,
    ]


# --- filters combined ----------------------------------------------------------------------


async def test_region_and_sector_together_list_only_events_matching_both(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    wanted = await plain_event(owner, "A", region="DE-SN", sectors=["energy"], days_ahead=5)
    await plain_event(owner, "B", region="DE-SN", sectors=["education"], days_ahead=6)
    await plain_event(owner, "C", region="DE-BY", sectors=["energy"], days_ahead=7)

    assert await listed(client, region="DE-SN", sector="energy") == [wanted.slug]


async def test_kind_and_format_together_list_only_events_matching_both(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    wanted = await plain_event(owner, "A", kind="networking_meeting", days_ahead=5, **ONLINE)
    await plain_event(owner, "B", kind="networking_meeting", days_ahead=6)
    await plain_event(owner, "C", kind="workshop", days_ahead=7, **ONLINE)

    assert await listed(client, kind="networking_meeting", format="online") == [wanted.slug]


async def test_search_region_and_date_range_together_list_only_events_matching_all(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    wanted = await event_at(owner, "Ladepunkte planen", "2030-06-10T10:00:00+02:00", region="DE-NI")
    await event_at(owner, "Ladepunkte planen", "2030-06-10T10:00:00+02:00", region="DE-HE")
    await event_at(owner, "Ladepunkte planen", "2030-07-10T10:00:00+02:00", region="DE-NI")
    await event_at(owner, "Radwege planen", "2030-06-11T10:00:00+02:00", region="DE-NI")

    found = await listed(
        client,
        q="ladepunkte",
        region="DE-NI",
        starts_after="2030-06-01",
        starts_before="2030-07-01",
    )

    assert found == [wanted.slug]


async def test_sector_with_include_past_lists_finished_and_upcoming_events_of_that_sector(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    old = await past_event(owner, "Alt", days_ago=10, sectors=["health"])
    await past_event(owner, "Alt, anderes Thema", days_ago=9, sectors=["energy"])
    new = await plain_event(owner, "Neu", sectors=["health"], days_ahead=4)
    await plain_event(owner, "Neu, anderes Thema", sectors=["energy"], days_ahead=5)

    assert await listed(client, sector="health", include_past="true") == [old.slug, new.slug]


# --- search --------------------------------------------------------------------------------


@pytest.mark.parametrize("q", ["mobilitat", "MOBILITÄT", "Mobilität", "MoBiLiTaT"])
async def test_search_ignores_case_and_accents(client: httpx.AsyncClient, q: str) -> None:
    owner = await factories.organiser()
    mobility = await plain_event(owner, "Mobilität im ländlichen Raum", days_ahead=5)
    await plain_event(owner, "Breitband für Schulen", days_ahead=6)

    assert await listed(client, q=q) == [mobility.slug]


async def test_search_with_the_ae_spelling_of_an_umlaut_finds_the_umlaut(
    client: httpx.AsyncClient,
) -> None:
    """Germans without an umlaut key write "ae": slugs already fold ä to ae, search should too."""
    owner = await factories.organiser()
    mobility = await plain_event(owner, "Mobilität im ländlichen Raum", days_ahead=5)

    assert await listed(client, q="mobilitaet") == [mobility.slug]


async def test_search_with_several_words_requires_all_of_them(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    venue = {"name": "Rathaus", "street": "", "postal_code": "", "city": "Dresden"}
    in_dresden = await plain_event(owner, "Mobilität heute", venue=venue, days_ahead=5)
    await plain_event(owner, "Mobilität morgen", days_ahead=6)
    await plain_event(owner, "Schule digital", venue=venue, days_ahead=7)

    assert await listed(client, q="mobilität dresden") == [in_dresden.slug]


async def test_search_words_may_come_in_any_order(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    wanted = await plain_event(owner, "Digitale Schule im ländlichen Raum", days_ahead=5)

    assert await listed(client, q="raum schule") == [wanted.slug]


async def test_search_matches_the_summary(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    wanted = await plain_event(
        owner, "Workshop A", summary="Videosprechstunde in der Pflege", days_ahead=5
    )
    await plain_event(owner, "Workshop B", days_ahead=6)

    assert await listed(client, q="videosprechstunde") == [wanted.slug]


async def test_search_matches_the_description(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    wanted = await plain_event(
        owner, "Workshop A", description="Mit Referierenden aus Kreistagen.", days_ahead=5
    )
    await plain_event(owner, "Workshop B", days_ahead=6)

    assert await listed(client, q="kreistagen") == [wanted.slug]


async def test_search_matches_the_venue_city(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    wanted = await plain_event(
        owner,
        "Workshop A",
        venue={"name": "Kulturbahnhof", "street": "", "postal_code": "", "city": "Kassel"},
        days_ahead=5,
    )
    await plain_event(owner, "Workshop B", days_ahead=6)

    assert await listed(client, q="kassel") == [wanted.slug]


@pytest.mark.parametrize("q", ["Bayern", "bavaria"])
async def test_search_matches_the_region_name_in_either_language(
    client: httpx.AsyncClient, q: str
) -> None:
    owner = await factories.organiser()
    wanted = await plain_event(owner, "Workshop A", region="DE-BY", days_ahead=5)
    await plain_event(owner, "Workshop B", region="DE-SN", days_ahead=6)

    assert await listed(client, q=q) == [wanted.slug]


async def test_search_for_an_absent_word_lists_nothing(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    await plain_event(owner, "Workshop A", days_ahead=5)

    response = await client.get(CATALOGUE, params={"q": "zeppelin"})

    assert response.json()["items"] == []
    assert response.json()["total"] == 0


# --- what the public sees --------------------------------------------------------------------


async def test_drafts_are_never_listed(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    published = await plain_event(owner, "Öffentlich", days_ahead=5)
    await plain_event(owner, "Entwurf Öffentlich", publish=False, days_ahead=6)

    response = await client.get(CATALOGUE, params={"q": "öffentlich", "include_past": "true"})

    assert [item["slug"] for item in response.json()["items"]] == [published.slug]
    assert response.json()["total"] == 1


async def test_cancelled_events_are_listed_with_status_cancelled(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    event = await plain_event(owner, "Abgesagt", days_ahead=5)
    await services.cancel_event(event.slug, "Referentin erkrankt", now=datetime.now(UTC))

    items = (await client.get(CATALOGUE)).json()["items"]

    assert [(item["slug"], item["status"]) for item in items] == [(event.slug, "cancelled")]
    assert items[0]["cancellation_reason"] == "Referentin erkrankt"


async def test_published_events_are_listed_with_status_published(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    event = await plain_event(owner, "Veröffentlicht", days_ahead=5)

    items = (await client.get(CATALOGUE)).json()["items"]

    assert [(item["slug"], item["status"]) for item in items] == [(event.slug, "published")]


async def test_finished_events_are_hidden_by_default(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    await past_event(owner, "Vorbei", days_ago=2)
    upcoming = await plain_event(owner, "Kommt", days_ahead=2)

    response = await client.get(CATALOGUE)

    assert [item["slug"] for item in response.json()["items"]] == [upcoming.slug]
    assert response.json()["total"] == 1


async def test_an_event_under_way_is_still_listed(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    started = datetime.now(UTC).replace(microsecond=0) - timedelta(hours=1)
    running = await plain_event(
        owner,
        "Läuft gerade",
        starts_at=started.isoformat(),
        ends_at=(started + timedelta(hours=3)).isoformat(),
    )

    assert await listed(client) == [running.slug]


async def test_include_past_false_hides_finished_events(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    await past_event(owner, "Vorbei", days_ago=2)

    assert await listed(client, include_past="false") == []


# --- order ---------------------------------------------------------------------------------


async def test_events_are_listed_soonest_first(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    third = await plain_event(owner, "Dritte", days_ahead=30)
    first = await plain_event(owner, "Erste", days_ahead=10)
    second = await plain_event(owner, "Zweite", days_ahead=20)

    assert await listed(client) == [first.slug, second.slug, third.slug]


async def test_events_starting_together_are_listed_in_the_order_they_were_created(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    later = await event_at(owner, "Später", "2030-05-02T10:00:00+02:00")
    tie_one = await event_at(owner, "Zeitgleich eins", "2030-05-01T10:00:00+02:00")
    tie_two = await event_at(owner, "Zeitgleich zwei", "2030-05-01T10:00:00+02:00")
    tie_three = await event_at(owner, "Zeitgleich drei", "2030-05-01T10:00:00+02:00")

    assert await listed(client) == [tie_one.slug, tie_two.slug, tie_three.slug, later.slug]


async def test_events_starting_together_keep_their_order_across_pages(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    ties = [await event_at(owner, f"Zeitgleich {n}", "2030-05-01T10:00:00+02:00") for n in range(4)]

    pages = [await listed(client, limit=1, offset=offset) for offset in range(4)]

    assert pages == [[event.slug] for event in ties]


# --- paging --------------------------------------------------------------------------------


async def test_limit_one_answers_one_event_and_the_full_total(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    first = await plain_event(owner, "Eins", days_ahead=5)
    await plain_event(owner, "Zwei", days_ahead=6)
    await plain_event(owner, "Drei", days_ahead=7)

    body = (await client.get(CATALOGUE, params={"limit": 1})).json()

    assert [item["slug"] for item in body["items"]] == [first.slug]
    assert body["total"] == 3
    assert body["limit"] == 1


async def test_limit_one_hundred_answers_one_hundred_events(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    events = [await factories.event(owner, days_ahead=days) for days in range(1, 102)]

    body = (await client.get(CATALOGUE, params={"limit": 100})).json()

    assert [item["slug"] for item in body["items"]] == [event.slug for event in events[:100]]
    assert body["total"] == 101
    assert body["limit"] == 100


@pytest.mark.parametrize("limit", ["0", "101", "-1", "ten"])
async def test_a_limit_outside_one_to_one_hundred_is_refused(
    client: httpx.AsyncClient, limit: str
) -> None:
    response = await client.get(CATALOGUE, params={"limit": limit})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    assert response.json()["code"] == "validation_error"
    assert [error["field"] for error in response.json()["errors"]] == ["limit"]


async def test_a_negative_offset_is_refused(client: httpx.AsyncClient) -> None:
    response = await client.get(CATALOGUE, params={"offset": "-1"})

    assert response.status_code == 422
    assert response.json()["code"] == "validation_error"
    assert [error["field"] for error in response.json()["errors"]] == ["offset"]


async def test_an_offset_beyond_the_total_answers_no_items_and_the_right_total(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    await plain_event(owner, "Eins", days_ahead=5)
    await plain_event(owner, "Zwei", days_ahead=6)

    response = await client.get(CATALOGUE, params={"offset": 50})

    assert response.status_code == 200
    assert response.json()["items"] == []
    assert response.json()["total"] == 2
    assert response.json()["offset"] == 50


async def test_pages_do_not_overlap_and_together_cover_every_event(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    events = [await factories.event(owner, days_ahead=days) for days in (9, 3, 7, 1, 5)]
    expected = [event.slug for event in sorted(events, key=lambda e: e.starts_at)]

    pages = [await listed(client, limit=2, offset=offset) for offset in (0, 2, 4)]

    assert [len(page) for page in pages] == [2, 2, 1]
    assert [slug for page in pages for slug in page] == expected


async def test_total_counts_every_match_not_just_the_page(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    for days in range(1, 6):
        await plain_event(owner, f"Sachsen {days}", region="DE-SN", days_ahead=days)
    await plain_event(owner, "Bayern", region="DE-BY", days_ahead=3)
    await plain_event(owner, "Entwurf", region="DE-SN", publish=False, days_ahead=3)

    body = (await client.get(CATALOGUE, params={"region": "DE-SN", "limit": 2})).json()

    assert len(body["items"]) == 2
    assert body["total"] == 5


# --- refusals ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "value"),
    [
        ("region", "XX"),
        ("region", "de-sn"),
        ("sector", "space"),
        ("kind", "party"),
        ("format", "carrier_pigeon"),
        ("starts_after", "tomorrow"),
        ("starts_after", "2030-02-30"),
        ("starts_before", "31.12.2030"),
    ],
)
async def test_an_invalid_filter_value_is_refused_naming_the_field(
    client: httpx.AsyncClient, name: str, value: str
) -> None:
    response = await client.get(CATALOGUE, params={name: value})

    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"
    body = response.json()
    assert body["code"] == "validation_error"
    assert body["status"] == 422
    assert [error["field"] for error in body["errors"]] == [name]


async def test_several_invalid_filters_are_all_named_at_once(client: httpx.AsyncClient) -> None:
    response = await client.get(
        CATALOGUE, params={"region": "XX", "sector": "space", "starts_before": "soon"}
    )

    assert response.status_code == 422
    assert sorted(error["field"] for error in response.json()["errors"]) == [
        "region",
        "sector",
        "starts_before",
    ]


# --- dates without a time ------------------------------------------------------------------


async def test_a_date_only_starts_after_means_midnight_in_berlin(client: httpx.AsyncClient) -> None:
    owner = await factories.organiser()
    # 23:59 and 00:00 Berlin summer time (UTC+2), either side of 10 July.
    await event_at(owner, "Abends davor", "2030-07-09T21:59:00+00:00")
    midnight = await event_at(owner, "Um Mitternacht", "2030-07-09T22:00:00+00:00")

    assert await listed(client, starts_after="2030-07-10") == [midnight.slug]


async def test_a_date_only_starts_after_in_winter_means_midnight_in_berlin(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    # 23:30 on 9 March and 00:30 on 10 March, Berlin winter time (UTC+1).
    await event_at(owner, "Abends davor", "2030-03-09T22:30:00+00:00")
    after_midnight = await event_at(owner, "Nach Mitternacht", "2030-03-09T23:30:00+00:00")

    assert await listed(client, starts_after="2030-03-10") == [after_midnight.slug]


async def test_a_date_only_starts_before_means_midnight_in_berlin(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    before_midnight = await event_at(owner, "Abends davor", "2030-07-09T21:59:00+00:00")
    await event_at(owner, "Um Mitternacht", "2030-07-09T22:00:00+00:00")

    assert await listed(client, starts_before="2030-07-10") == [before_midnight.slug]
