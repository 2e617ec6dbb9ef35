"""Who may do what with an event: authentication first, then ownership, whatever the body."""

from __future__ import annotations

from typing import Any, NamedTuple

import httpx
import pytest

from tests import factories
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.accounts.tables import Organiser
from treffpunkt.events import services
from treffpunkt.events.tables import Event

pytestmark = pytest.mark.anyio

PROBLEM_JSON = "application/problem+json"
COLLEAGUE = "colleague@example.org"
TITLE = "Breitband für Schulen"
# Would be refused as malformed JSON (400) if the body were read before the caller is checked.
MALFORMED = b'{"title": '

ORGANISER_CALLS: dict[str, tuple[str, str]] = {
    "create": ("POST", "/api/v1/events"),
    "update": ("PATCH", "/api/v1/events/{slug}"),
    "delete": ("DELETE", "/api/v1/events/{slug}"),
    "publish": ("POST", "/api/v1/events/{slug}/publish"),
    "cancel": ("POST", "/api/v1/events/{slug}/cancel"),
    "list_organisers": ("GET", "/api/v1/events/{slug}/organisers"),
    "add_organiser": ("POST", "/api/v1/events/{slug}/organisers"),
    "remove_organiser": ("DELETE", f"/api/v1/events/{{slug}}/organisers/{COLLEAGUE}"),
}
EVENT_CALLS = [name for name, (_, path) in ORGANISER_CALLS.items() if "{slug}" in path]
BODIES = ["valid", "malformed"]


def valid_body(call: str) -> dict[str, Any] | None:
    """A body the call would accept from someone allowed to make it."""
    bodies: dict[str, dict[str, Any]] = {
        "create": factories.event_payload(),
        "update": {"title": "Übernommen"},
        "cancel": {"reason": "Übernommen"},
        "add_organiser": {"email": COLLEAGUE},
    }
    return bodies.get(call)


async def send(
    client: httpx.AsyncClient, call: str, slug: str, body: str, headers: dict[str, str]
) -> httpx.Response:
    method, path = ORGANISER_CALLS[call]
    url = path.format(slug=slug)
    if body == "malformed":
        headers = {**headers, "Content-Type": "application/json"}
        return await client.request(method, url, content=MALFORMED, headers=headers)
    return await client.request(method, url, json=valid_body(call), headers=headers)


class Scene(NamedTuple):
    slug: str
    owner: CurrentOrganiser
    owner_auth: dict[str, str]


@pytest.fixture
async def draft() -> Scene:
    """An owner's draft, and a colleague who could be made co-organiser."""
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, publish=False)
    await factories.organiser(email=COLLEAGUE)
    return Scene(event.slug, owner, auth)


async def assert_untouched(slug: str) -> None:
    event = await services.get_event(slug)
    assert (event.status, event.title, event.sequence) == ("draft", TITLE, 0)
    assert await services.co_organisers(slug) == []
    assert await Event.count() == 1


def assert_problem(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM_JSON
    assert response.json()["code"] == code


def assert_unauthenticated(response: httpx.Response) -> None:
    assert_problem(response, 401, "not_authenticated")
    assert response.headers["www-authenticate"].startswith("Bearer")


async def deactivate(email: str) -> None:
    await Organiser.update({Organiser.is_active: False}).where(Organiser.email == email)


# 401: the caller is checked before anything else


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("call", list(ORGANISER_CALLS))
async def test_an_organiser_call_without_a_token_answers_401(
    client: httpx.AsyncClient, draft: Scene, call: str, body: str
) -> None:
    response = await send(client, call, draft.slug, body, headers={})

    assert_unauthenticated(response)
    await assert_untouched(draft.slug)


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("call", list(ORGANISER_CALLS))
async def test_an_organiser_call_with_an_invalid_token_answers_401(
    client: httpx.AsyncClient, draft: Scene, call: str, body: str
) -> None:
    bad_token = {"Authorization": "Bearer tp_not-a-real-token"}

    response = await send(client, call, draft.slug, body, headers=bad_token)

    assert_unauthenticated(response)
    await assert_untouched(draft.slug)


@pytest.mark.parametrize("call", list(ORGANISER_CALLS))
async def test_an_organiser_call_with_another_auth_scheme_answers_401(
    client: httpx.AsyncClient, draft: Scene, call: str
) -> None:
    basic = {"Authorization": "Basic b3JnYW5pc2VyOnNlY3JldA=="}

    response = await send(client, call, draft.slug, "valid", headers=basic)

    assert_unauthenticated(response)
    await assert_untouched(draft.slug)


async def test_the_token_of_a_deactivated_organiser_answers_401(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner, publish=False)
    await deactivate(owner.email)

    response = await client.patch(f"/api/v1/events/{event.slug}", json={"title": "X"}, headers=auth)

    assert_unauthenticated(response)


@pytest.mark.parametrize("call", EVENT_CALLS)
async def test_a_missing_event_without_a_token_answers_401_not_404(
    client: httpx.AsyncClient, call: str
) -> None:
    response = await send(client, call, "no-such-event", "valid", headers={})

    assert_unauthenticated(response)


# 403 / 404: the caller does not manage the event


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("call", EVENT_CALLS)
async def test_another_organisers_event_answers_403(
    client: httpx.AsyncClient, draft: Scene, call: str, body: str
) -> None:
    _, stranger = await factories.organiser_with_token()

    response = await send(client, call, draft.slug, body, headers=stranger)

    assert_problem(response, 403, "forbidden")
    await assert_untouched(draft.slug)


@pytest.mark.parametrize("body", BODIES)
@pytest.mark.parametrize("call", EVENT_CALLS)
async def test_a_missing_event_answers_404_to_an_organiser(
    client: httpx.AsyncClient, call: str, body: str
) -> None:
    _, auth = await factories.organiser_with_token()

    response = await send(client, call, "no-such-event", body, headers=auth)

    assert_problem(response, 404, "event_not_found")


async def test_a_published_event_of_another_organiser_cannot_be_cancelled(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)
    _, stranger = await factories.organiser_with_token()

    response = await client.post(
        f"/api/v1/events/{event.slug}/cancel", json={"reason": "Sabotage"}, headers=stranger
    )

    assert_problem(response, 403, "forbidden")
    assert (await services.get_event(event.slug)).status == "published"


# Admins


async def test_an_admin_may_change_any_event(client: httpx.AsyncClient, draft: Scene) -> None:
    _, admin = await factories.organiser_with_token(admin=True)

    response = await client.patch(
        f"/api/v1/events/{draft.slug}", json={"title": "Vom Admin"}, headers=admin
    )

    assert response.status_code == 200
    assert response.json()["title"] == "Vom Admin"


async def test_an_admin_may_publish_any_draft(client: httpx.AsyncClient, draft: Scene) -> None:
    _, admin = await factories.organiser_with_token(admin=True)

    response = await client.post(f"/api/v1/events/{draft.slug}/publish", headers=admin)

    assert response.status_code == 200
    assert response.json()["status"] == "published"


async def test_an_admin_may_cancel_any_event(client: httpx.AsyncClient) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)
    _, admin = await factories.organiser_with_token(admin=True)

    response = await client.post(
        f"/api/v1/events/{event.slug}/cancel", json={"reason": "Raum gesperrt"}, headers=admin
    )

    assert response.status_code == 200
    assert response.json()["status"] == "cancelled"


async def test_an_admin_may_delete_any_draft(client: httpx.AsyncClient, draft: Scene) -> None:
    _, admin = await factories.organiser_with_token(admin=True)

    response = await client.delete(f"/api/v1/events/{draft.slug}", headers=admin)

    assert response.status_code == 204
    assert await Event.count() == 0


async def test_an_admin_may_add_co_organisers_to_any_event(
    client: httpx.AsyncClient, draft: Scene
) -> None:
    _, admin = await factories.organiser_with_token(admin=True)

    response = await client.post(
        f"/api/v1/events/{draft.slug}/organisers", json={"email": COLLEAGUE}, headers=admin
    )

    assert response.status_code == 200
    assert response.json() == [COLLEAGUE]


async def test_an_admin_sees_any_draft(client: httpx.AsyncClient, draft: Scene) -> None:
    _, admin = await factories.organiser_with_token(admin=True)

    response = await client.get(f"/api/v1/events/{draft.slug}", headers=admin)

    assert response.status_code == 200
    assert response.json()["status"] == "draft"


# Co-organisers


async def co_organiser(client: httpx.AsyncClient, draft: Scene) -> dict[str, str]:
    """A second organiser, added to the draft by its owner; returns their auth header."""
    person, auth = await factories.organiser_with_token()
    response = await client.post(
        f"/api/v1/events/{draft.slug}/organisers",
        json={"email": person.email},
        headers=draft.owner_auth,
    )
    assert response.status_code == 200
    return auth


async def test_adding_a_co_organiser_answers_the_co_organisers(
    client: httpx.AsyncClient, draft: Scene
) -> None:
    response = await client.post(
        f"/api/v1/events/{draft.slug}/organisers",
        json={"email": COLLEAGUE},
        headers=draft.owner_auth,
    )

    assert response.status_code == 200
    assert response.json() == [COLLEAGUE]


async def test_a_co_organiser_is_found_whatever_the_case_of_the_email(
    client: httpx.AsyncClient, draft: Scene
) -> None:
    response = await client.post(
        f"/api/v1/events/{draft.slug}/organisers",
        json={"email": " Colleague@Example.ORG "},
        headers=draft.owner_auth,
    )

    assert response.json() == [COLLEAGUE]


async def test_adding_a_co_organiser_twice_lists_them_once(
    client: httpx.AsyncClient, draft: Scene
) -> None:
    url = f"/api/v1/events/{draft.slug}/organisers"
    await client.post(url, json={"email": COLLEAGUE}, headers=draft.owner_auth)

    response = await client.post(url, json={"email": COLLEAGUE}, headers=draft.owner_auth)

    assert response.json() == [COLLEAGUE]


async def test_the_co_organisers_can_be_listed(client: httpx.AsyncClient, draft: Scene) -> None:
    url = f"/api/v1/events/{draft.slug}/organisers"
    await client.post(url, json={"email": COLLEAGUE}, headers=draft.owner_auth)

    response = await client.get(url, headers=draft.owner_auth)

    assert response.status_code == 200
    assert response.json() == [COLLEAGUE]


async def test_a_co_organiser_may_change_the_event(client: httpx.AsyncClient, draft: Scene) -> None:
    auth = await co_organiser(client, draft)

    response = await client.patch(
        f"/api/v1/events/{draft.slug}", json={"title": "Gemeinsam geplant"}, headers=auth
    )

    assert response.status_code == 200
    assert response.json()["title"] == "Gemeinsam geplant"


async def test_a_co_organiser_may_publish_the_event(
    client: httpx.AsyncClient, draft: Scene
) -> None:
    auth = await co_organiser(client, draft)

    response = await client.post(f"/api/v1/events/{draft.slug}/publish", headers=auth)

    assert response.status_code == 200
    assert response.json()["status"] == "published"


async def test_a_co_organiser_sees_the_draft(client: httpx.AsyncClient, draft: Scene) -> None:
    auth = await co_organiser(client, draft)

    response = await client.get(f"/api/v1/events/{draft.slug}", headers=auth)

    assert response.status_code == 200
    assert response.json()["status"] == "draft"


async def test_a_co_organiser_of_one_event_may_not_manage_another(
    client: httpx.AsyncClient, draft: Scene
) -> None:
    auth = await co_organiser(client, draft)
    other = await factories.event(draft.owner, publish=False, title="Anderes")

    response = await client.patch(f"/api/v1/events/{other.slug}", json={"title": "X"}, headers=auth)

    assert_problem(response, 403, "forbidden")


async def test_removing_a_co_organiser_answers_the_remaining_co_organisers(
    client: httpx.AsyncClient, draft: Scene
) -> None:
    url = f"/api/v1/events/{draft.slug}/organisers"
    await client.post(url, json={"email": COLLEAGUE}, headers=draft.owner_auth)

    response = await client.delete(f"{url}/{COLLEAGUE}", headers=draft.owner_auth)

    assert response.status_code == 200
    assert response.json() == []


async def test_a_removed_co_organiser_is_forbidden_again(
    client: httpx.AsyncClient, draft: Scene
) -> None:
    person, auth = await factories.organiser_with_token()
    url = f"/api/v1/events/{draft.slug}/organisers"
    await client.post(url, json={"email": person.email}, headers=draft.owner_auth)
    await client.delete(f"{url}/{person.email}", headers=draft.owner_auth)

    response = await client.patch(f"/api/v1/events/{draft.slug}", json={"title": "X"}, headers=auth)

    assert_problem(response, 403, "forbidden")


async def test_adding_an_unknown_email_as_co_organiser_answers_404(
    client: httpx.AsyncClient, draft: Scene
) -> None:
    response = await client.post(
        f"/api/v1/events/{draft.slug}/organisers",
        json={"email": "nobody@example.org"},
        headers=draft.owner_auth,
    )

    assert_problem(response, 404, "organiser_not_found")
    assert await services.co_organisers(draft.slug) == []


async def test_adding_a_deactivated_organiser_as_co_organiser_answers_404(
    client: httpx.AsyncClient, draft: Scene
) -> None:
    await deactivate(COLLEAGUE)

    response = await client.post(
        f"/api/v1/events/{draft.slug}/organisers",
        json={"email": COLLEAGUE},
        headers=draft.owner_auth,
    )

    assert_problem(response, 404, "organiser_not_found")


# Drafts are private


async def test_a_draft_is_not_found_for_anonymous_readers(
    client: httpx.AsyncClient, draft: Scene
) -> None:
    response = await client.get(f"/api/v1/events/{draft.slug}")

    assert_problem(response, 404, "event_not_found")


async def test_a_draft_is_not_found_for_other_organisers(
    client: httpx.AsyncClient, draft: Scene
) -> None:
    _, stranger = await factories.organiser_with_token()

    response = await client.get(f"/api/v1/events/{draft.slug}", headers=stranger)

    assert_problem(response, 404, "event_not_found")


async def test_a_draft_is_visible_to_its_owner(client: httpx.AsyncClient, draft: Scene) -> None:
    response = await client.get(f"/api/v1/events/{draft.slug}", headers=draft.owner_auth)

    assert response.status_code == 200
    assert (response.json()["slug"], response.json()["status"]) == (draft.slug, "draft")


async def test_drafts_never_appear_in_the_catalogue(
    client: httpx.AsyncClient, draft: Scene
) -> None:
    response = await client.get("/api/v1/events")

    assert response.status_code == 200
    assert (response.json()["items"], response.json()["total"]) == ([], 0)


async def test_drafts_do_not_appear_in_the_catalogue_even_for_their_owner(
    client: httpx.AsyncClient, draft: Scene
) -> None:
    response = await client.get("/api/v1/events", headers=draft.owner_auth)

    assert (response.json()["items"], response.json()["total"]) == ([], 0)


async def test_a_search_does_not_find_drafts(client: httpx.AsyncClient, draft: Scene) -> None:
    published = await factories.event(draft.owner)

    response = await client.get("/api/v1/events", params={"q": "Breitband"})

    assert [item["slug"] for item in response.json()["items"]] == [published.slug]
    assert response.json()["total"] == 1
