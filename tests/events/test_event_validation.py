"""The scheduling API's validation rules and state guards: what it refuses, and how it says so."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import httpx
import pytest

from tests import factories

pytestmark = pytest.mark.anyio

PROBLEM_JSON = "application/problem+json"
STARTS = "2030-06-03T09:00:00+02:00"
ENDS = "2030-06-03T12:00:00+02:00"
ONLINE_URL = "https://meet.example.org/breitband"


def _at(moment: str, **delta: float) -> str:
    return (datetime.fromisoformat(moment) + timedelta(**delta)).isoformat()


def payload(**overrides: Any) -> dict[str, Any]:
    """A valid in-person workshop at a fixed future time, with the overrides applied."""
    return factories.event_payload(**{"starts_at": STARTS, "ends_at": ENDS, **overrides})


async def create(client: httpx.AsyncClient, **overrides: Any) -> httpx.Response:
    _, auth = await factories.organiser_with_token()
    return await client.post("/api/v1/events", json=payload(**overrides), headers=auth)


def assert_refused(response: httpx.Response, *fields: str) -> None:
    """422 problem details with code validation_error, naming exactly these fields."""
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    body = response.json()
    assert body["code"] == "validation_error"
    assert sorted(error["field"] for error in body["errors"]) == sorted(fields)


def assert_conflict(response: httpx.Response, code: str) -> None:
    assert response.status_code == 409, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == code


# Time


async def test_an_event_that_ends_before_it_starts_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, ends_at=_at(STARTS, hours=-1))

    assert_refused(response, "ends_at")


async def test_an_event_that_ends_when_it_starts_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, ends_at=STARTS)

    assert_refused(response, "ends_at")


@pytest.mark.parametrize(
    "field", ["starts_at", "ends_at", "registration_opens_at", "registration_closes_at"]
)
async def test_a_time_without_utc_offset_is_refused(client: httpx.AsyncClient, field: str) -> None:
    response = await create(client, **{field: "2030-06-01T09:00:00"})

    assert_refused(response, field)


async def test_times_with_any_offset_are_accepted_and_compared_as_instants(
    client: httpx.AsyncClient,
) -> None:
    # 08:00Z is 10:00 in Berlin: after the start at 09:00+02:00 (07:00Z), though "earlier" by digits
    response = await create(client, ends_at="2030-06-03T08:00:00+00:00")

    assert response.status_code == 201
    assert response.json()["ends_at"] == "2030-06-03T10:00:00+02:00"


# Timezone


async def test_an_unknown_timezone_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, timezone="Mars/Olympus_Mons")

    assert_refused(response, "timezone")


async def test_a_timezone_with_a_trailing_space_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, timezone="Europe/Berlin ")

    assert_refused(response, "timezone")


async def test_a_timezone_that_is_a_path_outside_the_zone_database_is_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await create(client, timezone="../../etc/passwd")

    assert_refused(response, "timezone")


async def test_a_timezone_area_without_a_city_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, timezone="Europe")

    assert_refused(response, "timezone")


async def test_a_leap_second_variant_that_is_no_iana_zone_name_is_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await create(client, timezone="right/Europe/Berlin")

    assert_refused(response, "timezone")


async def test_a_real_iana_timezone_other_than_berlin_is_accepted(
    client: httpx.AsyncClient,
) -> None:
    response = await create(client, timezone="America/New_York")

    assert response.status_code == 201
    assert response.json()["timezone"] == "America/New_York"
    assert response.json()["starts_at"] == "2030-06-03T03:00:00-04:00"


# Region and sectors


async def test_an_unknown_region_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, region="DE-XX")

    assert_refused(response, "region")


async def test_an_unknown_sector_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, sectors=["education", "gardening"])

    assert_refused(response, "sectors")


async def test_an_empty_sector_list_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, sectors=[])

    assert_refused(response, "sectors")


async def test_a_sector_listed_twice_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, sectors=["energy", "energy"])

    assert_refused(response, "sectors")


async def test_several_known_sectors_are_accepted(client: httpx.AsyncClient) -> None:
    response = await create(client, sectors=["mobility", "energy"])

    assert response.status_code == 201
    assert response.json()["sectors"] == ["energy", "mobility"]


# Capacity


async def test_a_negative_capacity_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, capacity=-1)

    assert_refused(response, "capacity")


async def test_a_capacity_of_zero_is_allowed_and_leaves_no_seats(
    client: httpx.AsyncClient,
) -> None:
    response = await create(client, capacity=0)

    assert response.status_code == 201
    assert (response.json()["capacity"], response.json()["seats_left"]) == (0, 0)


async def test_a_null_capacity_means_unlimited_seats(client: httpx.AsyncClient) -> None:
    response = await create(client, capacity=None)

    assert response.status_code == 201
    assert (response.json()["capacity"], response.json()["seats_left"]) == (None, None)


# Registration window


async def test_registration_closing_after_the_event_ends_is_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await create(client, registration_closes_at=_at(ENDS, minutes=1))

    assert_refused(response, "registration_closes_at")


async def test_registration_may_close_exactly_when_the_event_ends(
    client: httpx.AsyncClient,
) -> None:
    response = await create(client, registration_closes_at=ENDS)

    assert response.status_code == 201
    assert response.json()["registration_closes_at"] == ENDS


async def test_registration_opening_when_it_closes_is_refused(client: httpx.AsyncClient) -> None:
    moment = _at(STARTS, days=-1)

    response = await create(client, registration_opens_at=moment, registration_closes_at=moment)

    assert_refused(response, "registration_opens_at")


async def test_registration_opening_after_it_closes_is_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await create(
        client,
        registration_opens_at=_at(STARTS, days=-1),
        registration_closes_at=_at(STARTS, days=-2),
    )

    assert_refused(response, "registration_opens_at")


async def test_registration_opening_after_the_event_ends_is_refused(
    client: httpx.AsyncClient,
) -> None:
    response = await create(client, registration_opens_at=_at(ENDS, hours=1))

    assert_refused(response, "registration_opens_at")


# Place: venue and online link


async def test_an_online_event_without_online_url_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, format="online", venue=None)

    assert_refused(response, "online_url")


async def test_a_hybrid_event_without_online_url_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, format="hybrid")

    assert_refused(response, "online_url")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://files.example.org/slides",
        "javascript:alert(1)",
        "meet.example.org/breitband",
        "https://",
    ],
)
async def test_an_online_url_that_is_no_web_address_is_refused(
    client: httpx.AsyncClient, url: str
) -> None:
    response = await create(client, format="online", venue=None, online_url=url)

    assert_refused(response, "online_url")


async def test_an_online_event_needs_no_venue(client: httpx.AsyncClient) -> None:
    response = await create(client, format="online", venue=None, online_url=ONLINE_URL)

    assert response.status_code == 201
    assert (response.json()["venue"], response.json()["online_url"]) == (None, ONLINE_URL)


async def test_an_in_person_event_without_venue_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, venue=None)

    assert_refused(response, "venue")


async def test_a_hybrid_event_without_venue_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, format="hybrid", venue=None, online_url=ONLINE_URL)

    assert_refused(response, "venue")


async def test_a_venue_without_name_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, venue={"street": "Markt 1", "city": "Dresden"})

    assert_refused(response, "venue")


async def test_a_venue_without_city_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, venue={"name": "Rathaus", "street": "Markt 1"})

    assert_refused(response, "venue")


async def test_a_venue_of_blanks_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, venue={"name": "  ", "city": "  "})

    assert_refused(response, "venue")


# Text and shape


async def test_a_title_over_200_characters_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, title="T" * 201)

    assert_refused(response, "title")


async def test_a_title_of_exactly_200_characters_is_accepted(client: httpx.AsyncClient) -> None:
    response = await create(client, title="T" * 200)

    assert response.status_code == 201
    assert response.json()["title"] == "T" * 200


async def test_an_empty_title_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, title="")

    assert_refused(response, "title")


async def test_a_title_of_only_blanks_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, title="   ")

    assert_refused(response, "title")


async def test_an_unknown_json_field_is_refused_and_named(client: httpx.AsyncClient) -> None:
    response = await create(client, organizer="typo@example.org")

    assert_refused(response, "organizer")


async def test_an_unknown_kind_is_refused(client: httpx.AsyncClient) -> None:
    response = await create(client, kind="party")

    assert_refused(response, "kind")


async def test_several_broken_rules_are_reported_together(client: httpx.AsyncClient) -> None:
    response = await create(
        client,
        ends_at=_at(STARTS, hours=-2),
        timezone="Nowhere/Town",
        region="DE-XX",
        format="hybrid",
        venue=None,
        registration_closes_at=_at(ENDS, days=1),
    )

    assert_refused(
        response, "ends_at", "timezone", "region", "online_url", "venue", "registration_closes_at"
    )


async def test_a_refused_event_is_not_stored(client: httpx.AsyncClient) -> None:
    _, auth = await factories.organiser_with_token()
    await client.post("/api/v1/events", json=payload(region="DE-XX"), headers=auth)

    response = await client.post("/api/v1/events", json=payload(), headers=auth)
    await client.post(f"/api/v1/events/{response.json()['slug']}/publish", headers=auth)

    assert (await client.get("/api/v1/events")).json()["total"] == 1


# PATCH


async def draft_and_auth(**overrides: Any) -> tuple[str, dict[str, str]]:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, publish=False, **overrides)
    return event.slug, auth


async def published_and_auth(**overrides: Any) -> tuple[str, dict[str, str]]:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, **overrides)
    return event.slug, auth


async def test_patching_only_ends_at_to_before_the_start_is_refused(
    client: httpx.AsyncClient,
) -> None:
    slug, auth = await published_and_auth(starts_at=STARTS, ends_at=ENDS)

    response = await client.patch(
        f"/api/v1/events/{slug}", json={"ends_at": _at(STARTS, hours=-1)}, headers=auth
    )

    assert_refused(response, "ends_at")


async def test_patching_only_starts_at_to_after_the_end_is_refused(
    client: httpx.AsyncClient,
) -> None:
    slug, auth = await published_and_auth(starts_at=STARTS, ends_at=ENDS)

    response = await client.patch(
        f"/api/v1/events/{slug}", json={"starts_at": _at(ENDS, hours=1)}, headers=auth
    )

    assert_refused(response, "ends_at")


async def test_a_refused_patch_changes_nothing(client: httpx.AsyncClient) -> None:
    slug, auth = await published_and_auth(starts_at=STARTS, ends_at=ENDS)
    await client.patch(
        f"/api/v1/events/{slug}",
        json={"title": "Neu", "ends_at": _at(STARTS, hours=-1)},
        headers=auth,
    )

    event = (await client.get(f"/api/v1/events/{slug}")).json()

    assert (event["title"], event["ends_at"], event["sequence"]) == (
        "Breitband für Schulen",
        ENDS,
        0,
    )


async def test_patching_format_to_online_without_online_url_is_refused(
    client: httpx.AsyncClient,
) -> None:
    slug, auth = await draft_and_auth()

    response = await client.patch(f"/api/v1/events/{slug}", json={"format": "online"}, headers=auth)

    assert_refused(response, "online_url")


async def test_clearing_the_venue_of_an_in_person_event_is_refused(
    client: httpx.AsyncClient,
) -> None:
    slug, auth = await draft_and_auth()

    response = await client.patch(f"/api/v1/events/{slug}", json={"venue": None}, headers=auth)

    assert_refused(response, "venue")


async def test_patching_registration_to_close_after_the_event_is_refused(
    client: httpx.AsyncClient,
) -> None:
    slug, auth = await draft_and_auth(starts_at=STARTS, ends_at=ENDS)

    response = await client.patch(
        f"/api/v1/events/{slug}",
        json={"registration_closes_at": _at(ENDS, hours=1)},
        headers=auth,
    )

    assert_refused(response, "registration_closes_at")


async def test_patching_an_unknown_timezone_is_refused(client: httpx.AsyncClient) -> None:
    slug, auth = await draft_and_auth()

    response = await client.patch(
        f"/api/v1/events/{slug}", json={"timezone": "Nowhere/Town"}, headers=auth
    )

    assert_refused(response, "timezone")


async def test_patching_an_unknown_field_is_refused_and_named(client: httpx.AsyncClient) -> None:
    slug, auth = await draft_and_auth()

    response = await client.patch(f"/api/v1/events/{slug}", json={"colour": "red"}, headers=auth)

    assert_refused(response, "colour")


async def test_patching_a_null_title_is_refused(client: httpx.AsyncClient) -> None:
    slug, auth = await draft_and_auth()

    response = await client.patch(f"/api/v1/events/{slug}", json={"title": None}, headers=auth)

    assert_refused(response, "title")


async def test_patching_capacity_to_null_makes_seats_unlimited(
    client: httpx.AsyncClient,
) -> None:
    slug, auth = await draft_and_auth()

    response = await client.patch(f"/api/v1/events/{slug}", json={"capacity": None}, headers=auth)

    assert response.status_code == 200
    assert (response.json()["capacity"], response.json()["seats_left"]) == (None, None)


async def test_patching_sectors_replaces_them(client: httpx.AsyncClient) -> None:
    slug, auth = await published_and_auth(sectors=["education", "energy"])

    await client.patch(
        f"/api/v1/events/{slug}", json={"sectors": ["health", "mobility"]}, headers=auth
    )

    assert (await client.get(f"/api/v1/events/{slug}")).json()["sectors"] == [
        "health",
        "mobility",
    ]


async def test_patching_a_duplicate_sector_is_refused(client: httpx.AsyncClient) -> None:
    slug, auth = await draft_and_auth()

    response = await client.patch(
        f"/api/v1/events/{slug}", json={"sectors": ["health", "health"]}, headers=auth
    )

    assert_refused(response, "sectors")


async def test_patching_a_cancelled_event_is_refused(client: httpx.AsyncClient) -> None:
    slug, auth = await published_and_auth()
    await client.post(f"/api/v1/events/{slug}/cancel", json={"reason": "Krank"}, headers=auth)

    response = await client.patch(f"/api/v1/events/{slug}", json={"title": "Neu"}, headers=auth)

    assert_conflict(response, "event_cancelled")


# SEQUENCE


async def test_a_venue_change_of_a_published_event_raises_its_sequence(
    client: httpx.AsyncClient,
) -> None:
    slug, auth = await published_and_auth()

    response = await client.patch(
        f"/api/v1/events/{slug}",
        json={"venue": {"name": "Kulturpalast", "city": "Dresden"}},
        headers=auth,
    )

    assert response.status_code == 200
    assert response.json()["venue"]["name"] == "Kulturpalast"
    assert response.json()["sequence"] == 1


async def test_resending_the_unchanged_venue_keeps_the_sequence(
    client: httpx.AsyncClient,
) -> None:
    slug, auth = await published_and_auth()
    venue = (await client.get(f"/api/v1/events/{slug}")).json()["venue"]

    response = await client.patch(f"/api/v1/events/{slug}", json={"venue": venue}, headers=auth)

    assert response.json()["sequence"] == 0


async def test_changes_to_a_draft_do_not_raise_its_sequence(client: httpx.AsyncClient) -> None:
    slug, auth = await draft_and_auth()

    response = await client.patch(
        f"/api/v1/events/{slug}",
        json={
            "starts_at": STARTS,
            "ends_at": ENDS,
            "venue": {"name": "Kulturpalast", "city": "Dresden"},
        },
        headers=auth,
    )

    assert response.status_code == 200
    assert response.json()["sequence"] == 0


async def test_publishing_a_changed_draft_starts_at_sequence_zero(
    client: httpx.AsyncClient,
) -> None:
    slug, auth = await draft_and_auth()
    await client.patch(f"/api/v1/events/{slug}", json={"starts_at": STARTS}, headers=auth)
    await client.patch(f"/api/v1/events/{slug}", json={"ends_at": ENDS}, headers=auth)

    response = await client.post(f"/api/v1/events/{slug}/publish", headers=auth)

    assert (response.json()["status"], response.json()["sequence"]) == ("published", 0)


# Publish, cancel, delete


async def test_publishing_twice_answers_200_and_stays_published(
    client: httpx.AsyncClient,
) -> None:
    slug, auth = await draft_and_auth()
    await client.post(f"/api/v1/events/{slug}/publish", headers=auth)

    response = await client.post(f"/api/v1/events/{slug}/publish", headers=auth)

    assert response.status_code == 200
    assert (response.json()["status"], response.json()["sequence"]) == ("published", 0)


async def test_publishing_a_cancelled_event_is_refused(client: httpx.AsyncClient) -> None:
    slug, auth = await published_and_auth()
    await client.post(f"/api/v1/events/{slug}/cancel", json={"reason": "Krank"}, headers=auth)

    response = await client.post(f"/api/v1/events/{slug}/publish", headers=auth)

    assert_conflict(response, "event_cancelled")


async def test_cancelling_sets_the_status_and_reason_and_raises_the_sequence(
    client: httpx.AsyncClient,
) -> None:
    slug, auth = await published_and_auth()

    response = await client.post(
        f"/api/v1/events/{slug}/cancel", json={"reason": "Die Referentin ist krank."}, headers=auth
    )

    assert response.status_code == 200
    body = response.json()
    assert (body["status"], body["cancellation_reason"], body["sequence"]) == (
        "cancelled",
        "Die Referentin ist krank.",
        1,
    )


async def test_cancelling_after_a_reschedule_raises_the_sequence_once_more(
    client: httpx.AsyncClient,
) -> None:
    slug, auth = await published_and_auth()
    await client.patch(
        f"/api/v1/events/{slug}", json={"starts_at": STARTS, "ends_at": ENDS}, headers=auth
    )

    response = await client.post(
        f"/api/v1/events/{slug}/cancel", json={"reason": "Krank"}, headers=auth
    )

    assert response.json()["sequence"] == 2


async def test_cancelling_without_a_reason_is_refused(client: httpx.AsyncClient) -> None:
    slug, auth = await published_and_auth()

    response = await client.post(f"/api/v1/events/{slug}/cancel", json={}, headers=auth)

    assert_refused(response, "reason")


async def test_cancelling_with_an_empty_reason_is_refused(client: httpx.AsyncClient) -> None:
    slug, auth = await published_and_auth()

    response = await client.post(f"/api/v1/events/{slug}/cancel", json={"reason": ""}, headers=auth)

    assert_refused(response, "reason")


async def test_cancelling_with_a_reason_of_only_blanks_is_refused(
    client: httpx.AsyncClient,
) -> None:
    slug, auth = await published_and_auth()

    response = await client.post(
        f"/api/v1/events/{slug}/cancel", json={"reason": "   "}, headers=auth
    )

    assert_refused(response, "reason")


async def test_cancelling_a_draft_is_refused(client: httpx.AsyncClient) -> None:
    slug, auth = await draft_and_auth()

    response = await client.post(
        f"/api/v1/events/{slug}/cancel", json={"reason": "Krank"}, headers=auth
    )

    assert_conflict(response, "event_not_published")


async def test_cancelling_a_cancelled_event_again_is_refused(client: httpx.AsyncClient) -> None:
    slug, auth = await published_and_auth()
    await client.post(f"/api/v1/events/{slug}/cancel", json={"reason": "Krank"}, headers=auth)

    response = await client.post(
        f"/api/v1/events/{slug}/cancel", json={"reason": "Wirklich"}, headers=auth
    )

    assert_conflict(response, "event_cancelled")


async def test_deleting_a_published_event_is_refused(client: httpx.AsyncClient) -> None:
    slug, auth = await published_and_auth()

    response = await client.delete(f"/api/v1/events/{slug}", headers=auth)

    assert_conflict(response, "event_not_draft")


async def test_deleting_a_draft_answers_204_and_the_event_is_gone(
    client: httpx.AsyncClient,
) -> None:
    slug, auth = await draft_and_auth()

    response = await client.delete(f"/api/v1/events/{slug}", headers=auth)
    after = await client.get(f"/api/v1/events/{slug}", headers=auth)

    assert response.status_code == 204
    assert after.status_code == 404
    assert after.headers["content-type"] == PROBLEM_JSON
    assert after.json()["code"] == "event_not_found"
