"""The organiser's roster: totals, filters, search, sorting and paging."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests import factories
from tests.registrations.helpers import (
    error_fields,
    id_of,
    organiser_call,
    problem_code,
    register_ok,
    roster,
    token_of,
)
from treffpunkt.events.services import EventView
from treffpunkt.notices.services import privacy_version

pytestmark = pytest.mark.anyio


async def event_with_people(client: httpx.AsyncClient) -> tuple[EventView, dict[str, str]]:
    """Five people, registered in this order, at an event with room for three."""
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=3, waitlist=True)
    people = [
        ("Clara Weber", "clara@example.org", "Stadtwerke Chemnitz", "municipal_company"),
        ("Anton Berg", "anton@uni-leipzig.de", "Universität Leipzig", "research_education"),
        ("Emil Fischer", "emil@example.org", "IHK Dresden", "business_association"),
        ("Berta Schmidt", "berta@example.org", "Landkreis Görlitz", "public_administration"),
        ("Dora Klein", "dora@example.org", "Klein GmbH", "business"),
    ]
    for name, email, organisation, group in people:
        await register_ok(
            client,
            event.slug,
            name=name,
            email=email,
            organisation=organisation,
            stakeholder_group=group,
        )
    return event, auth


def names(page: dict[str, Any]) -> list[str]:
    return [row["name"] for row in page["items"]]


async def test_total_counts_every_registration_in_any_status(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, capacity=1, waitlist=True)
    for email in ("seated@", "declined@", "cancelled@", "waiting@"):
        await register_ok(client, event.slug, email=f"{email}example.org")
    declined = await id_of(client, event.slug, auth, "declined@example.org")
    await organiser_call(client, event.slug, auth, declined, "decline")
    token = await token_of(client, event.slug, auth, "cancelled@example.org")
    await client.delete(f"/api/v1/registrations/{token}")
    await client.patch(
        f"/api/v1/events/{event.slug}", json={"requires_approval": True}, headers=auth
    )
    await register_ok(client, event.slug, email="pending@example.org")

    page = await roster(client, event.slug, auth)

    assert page["total"] == 5
    assert sorted(row["status"] for row in page["items"]) == [
        "cancelled",
        "confirmed",
        "declined",
        "pending",
        "waitlisted",
    ]


async def test_total_counts_everyone_even_beyond_the_page(client: httpx.AsyncClient) -> None:
    event, auth = await event_with_people(client)

    page = await roster(client, event.slug, auth, limit=2)

    assert (len(page["items"]), page["total"], page["limit"], page["offset"]) == (2, 5, 2, 0)


async def test_filtering_by_status_lists_and_counts_only_that_status(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await event_with_people(client)

    page = await roster(client, event.slug, auth, status="waitlisted")

    assert names(page) == ["Berta Schmidt", "Dora Klein"]
    assert [row["waitlist_position"] for row in page["items"]] == [1, 2]
    assert page["total"] == 2


async def test_filtering_by_stakeholder_group(client: httpx.AsyncClient) -> None:
    event, auth = await event_with_people(client)

    page = await roster(client, event.slug, auth, stakeholder_group="research_education")

    assert names(page) == ["Anton Berg"]
    assert page["total"] == 1


@pytest.mark.parametrize(
    ("q", "expected"),
    [
        pytest.param("schmidt", ["Berta Schmidt"], id="name-any-case"),
        pytest.param("uni-leipzig", ["Anton Berg"], id="email"),
        pytest.param("IHK", ["Emil Fischer"], id="organisation"),
        pytest.param("leipzig", ["Anton Berg"], id="organisation-or-email"),
        pytest.param("example.org klein", ["Dora Klein"], id="every-word-must-match"),
        pytest.param("nobody", [], id="no-match"),
    ],
)
async def test_searching_matches_name_email_and_organisation(
    client: httpx.AsyncClient, q: str, expected: list[str]
) -> None:
    event, auth = await event_with_people(client)

    page = await roster(client, event.slug, auth, q=q)

    assert names(page) == expected
    assert page["total"] == len(expected)


async def test_search_treats_wildcards_as_text(client: httpx.AsyncClient) -> None:
    event, auth = await event_with_people(client)

    page = await roster(client, event.slug, auth, q="%")

    assert page["total"] == 5


async def test_sorting_by_name(client: httpx.AsyncClient) -> None:
    event, auth = await event_with_people(client)

    page = await roster(client, event.slug, auth, sort="name")

    assert names(page) == [
        "Anton Berg",
        "Berta Schmidt",
        "Clara Weber",
        "Dora Klein",
        "Emil Fischer",
    ]


async def test_sorting_by_name_ignores_case(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    for name in ("Zoe Adler", "anton berg", "Berta Schmidt"):
        await register_ok(client, event.slug, name=name)

    page = await roster(client, event.slug, auth, sort="name")

    assert names(page) == ["anton berg", "Berta Schmidt", "Zoe Adler"]


async def test_searching_ignores_the_case_of_umlauts(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    await register_ok(client, event.slug, name="Jörg Ärmel", organisation="Ökostrom GmbH")

    page = await roster(client, event.slug, auth, q="ökostrom")

    assert names(page) == ["Jörg Ärmel"]


async def test_sorting_newest_first(client: httpx.AsyncClient) -> None:
    event, auth = await event_with_people(client)

    page = await roster(client, event.slug, auth, sort="-created_at")

    assert names(page) == [
        "Dora Klein",
        "Berta Schmidt",
        "Emil Fischer",
        "Anton Berg",
        "Clara Weber",
    ]


async def test_the_default_order_is_oldest_first(client: httpx.AsyncClient) -> None:
    event, auth = await event_with_people(client)

    page = await roster(client, event.slug, auth)

    assert names(page) == [
        "Clara Weber",
        "Anton Berg",
        "Emil Fischer",
        "Berta Schmidt",
        "Dora Klein",
    ]


async def test_paging_with_limit_and_offset(client: httpx.AsyncClient) -> None:
    event, auth = await event_with_people(client)

    page = await roster(client, event.slug, auth, limit=2, offset=2)

    assert names(page) == ["Emil Fischer", "Berta Schmidt"]
    assert (page["total"], page["limit"], page["offset"]) == (5, 2, 2)


async def test_paging_past_the_end_is_empty(client: httpx.AsyncClient) -> None:
    event, auth = await event_with_people(client)

    page = await roster(client, event.slug, auth, offset=10)

    assert (page["items"], page["total"]) == ([], 5)


@pytest.mark.parametrize(
    ("params", "field"),
    [
        pytest.param({"status": "attending"}, "status", id="status"),
        pytest.param({"sort": "email"}, "sort", id="sort"),
        pytest.param({"stakeholder_group": "lobby"}, "stakeholder_group", id="group"),
    ],
)
async def test_invalid_roster_filters_are_refused(
    client: httpx.AsyncClient, params: dict[str, str], field: str
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await client.get(
        f"/api/v1/events/{event.slug}/registrations", params=params, headers=auth
    )

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert error_fields(response) == [field]


@pytest.mark.parametrize("params", [{"limit": "0"}, {"limit": "101"}, {"offset": "-1"}])
async def test_out_of_range_paging_is_refused(
    client: httpx.AsyncClient, params: dict[str, str]
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await client.get(
        f"/api/v1/events/{event.slug}/registrations", params=params, headers=auth
    )

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"


async def test_the_roster_row_carries_the_registration_fields(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    await register_ok(
        client,
        event.slug,
        name="Anna Schmidt",
        email="anna@example.org",
        organisation="Stadt Leipzig",
        stakeholder_group="politics",
        role="Stadträtin",
        notes="Rollstuhl",
        language="en",
    )

    (row,) = (await roster(client, event.slug, auth))["items"]

    created_at = row.pop("created_at")
    assert isinstance(row.pop("id"), int)
    assert created_at
    assert row.pop("consent_at") == created_at
    assert row.pop("consent_version") == privacy_version()
    assert row == {
        "name": "Anna Schmidt",
        "email": "anna@example.org",
        "organisation": "Stadt Leipzig",
        "stakeholder_group": "politics",
        "role": "Stadträtin",
        "notes": "Rollstuhl",
        "answers": {},
        "language": "en",
        "status": "confirmed",
        "waitlist_position": None,
        "checked_in_at": None,
        "added_by_organiser": False,
        "attendance": None,
        "mail_problem": None,
        "unconfirmed_until": None,
    }


@pytest.mark.parametrize("path", ["registrations", "registrations.csv"])
async def test_the_roster_needs_a_token(client: httpx.AsyncClient, path: str) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await client.get(f"/api/v1/events/{event.slug}/{path}")

    assert response.status_code == 401
    assert problem_code(response) == "not_authenticated"


@pytest.mark.parametrize("path", ["registrations", "registrations.csv"])
async def test_the_roster_of_someone_elses_event_is_forbidden(
    client: httpx.AsyncClient, path: str
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)
    await register_ok(client, event.slug, email="anna@example.org")
    _, stranger = await factories.organiser_with_token()

    response = await client.get(f"/api/v1/events/{event.slug}/{path}", headers=stranger)

    assert response.status_code == 403
    assert problem_code(response) == "forbidden"
    assert "anna@example.org" not in response.text


async def test_an_admin_may_read_any_roster(client: httpx.AsyncClient) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)
    await register_ok(client, event.slug, email="anna@example.org")
    _, admin = await factories.organiser_with_token(admin=True)

    page = await roster(client, event.slug, admin)

    assert [row["email"] for row in page["items"]] == ["anna@example.org"]
