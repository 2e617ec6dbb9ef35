"""What one credential reaches, and nothing more: a secret link its own registration, a check-in
code its own event, an organiser's registration ids only the events they manage.

The authorisation matrix (test_authorisation_matrix.py) asks who may call a route; these ask
whether a credential that may call it can be turned on someone else's data.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from litestar import Litestar
from litestar.routes import HTTPRoute

from tests import factories
from tests.notifications.helpers import sign_up
from tests.sessions import sign_in
from treffpunkt.accounts.services import CurrentOrganiser, create_api_token
from treffpunkt.attendance.codes import check_in_code
from treffpunkt.attendance.tickets import ticket_svg
from treffpunkt.clock import utcnow
from treffpunkt.events.services import EventView
from treffpunkt.registrations.services import token_for
from treffpunkt.registrations.tables import Registration
from treffpunkt.web.app import CSRF_COOKIE, create_app

pytestmark = pytest.mark.anyio

REGISTRATION_ID = "{registration_id:int}"


@dataclass(frozen=True)
class Registered:
    id: int
    token: str
    email: str


@dataclass(frozen=True)
class Scene:
    """Organiser A runs events X and Y; organiser B runs Z. Anna and Bob are at X, Carla at Y."""

    a: CurrentOrganiser
    a_auth: dict[str, str]
    b: CurrentOrganiser
    b_auth: dict[str, str]
    x: EventView
    y: EventView
    z: EventView
    anna: Registered
    bob: Registered
    carla: Registered


async def at_the_door(owner: CurrentOrganiser, title: str) -> EventView:
    """Starting within the hour, so the door is open."""
    starts_at = (utcnow() + timedelta(minutes=50)).replace(microsecond=0)
    return await factories.event(
        owner,
        title=title,
        starts_at=starts_at.isoformat(),
        ends_at=(starts_at + timedelta(hours=2)).isoformat(),
    )


async def registered(event: EventView, email: str, name: str) -> Registered:
    outcome = await sign_up(event.slug, email, name=name)
    return Registered(outcome.registration_id, await token_for(outcome.registration_id), email)


@pytest.fixture
async def scene() -> Scene:
    a = await factories.organiser(email="a@kreis.example")
    b = await factories.organiser(email="b@kreis.example")
    x = await at_the_door(a, "Ereignis X")
    y = await at_the_door(a, "Ereignis Y")
    z = await at_the_door(b, "Ereignis Z")
    return Scene(
        a=a,
        a_auth={"Authorization": f"Bearer {await create_api_token(a.email)}"},
        b=b,
        b_auth={"Authorization": f"Bearer {await create_api_token(b.email)}"},
        x=x,
        y=y,
        z=z,
        anna=await registered(x, "anna@example.org", "Anna Schmidt"),
        bob=await registered(x, "bob@example.org", "Bob Becker"),
        carla=await registered(y, "carla@example.org", "Carla Cramer"),
    )


async def stored(registration: Registered) -> dict[str, Any]:
    row = await Registration.select().where(Registration.id == registration.id).first()
    assert row is not None
    return dict(row)


def csrf(client: httpx.AsyncClient) -> dict[str, str]:
    """The header a page's form would carry, from the CSRF cookie signing in left behind."""
    return {"x-csrftoken": client.cookies[CSRF_COOKIE]}


# --- secret links ------------------------------------------------------------------------------


async def test_a_secret_link_reads_only_its_own_registration(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    token = scene.anna.token

    api = (await client.get(f"/api/v1/registrations/{token}")).json()
    page = (await client.get(f"/registrations/{token}")).text
    ticket = await client.get(f"/registrations/{token}/ticket.svg")

    assert (api["email"], api["event"]["slug"]) == ("anna@example.org", scene.x.slug)
    assert "Anna Schmidt" in page
    assert "Bob Becker" not in page
    assert "Carla Cramer" not in page
    assert ticket.content == ticket_svg(check_in_code(scene.x.id, scene.anna.id))


async def test_a_secret_link_changes_and_cancels_only_its_own_registration(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    bob_before, carla_before = await stored(scene.bob), await stored(scene.carla)

    changed = await client.patch(
        f"/api/v1/registrations/{scene.anna.token}", json={"name": "Anna Neu"}
    )
    cancelled = await client.delete(f"/api/v1/registrations/{scene.anna.token}")

    assert changed.status_code == 200, changed.text
    assert cancelled.json()["status"] == "cancelled"
    assert (await stored(scene.anna))["name"] == "Anna Neu"
    assert await stored(scene.bob) == bob_before
    assert await stored(scene.carla) == carla_before


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/registrations/{token}",
        "/registrations/{token}",
        "/registrations/{token}/cancel",
        "/registrations/{token}/calendar.ics",
        "/registrations/{token}/ticket",
        "/registrations/{token}/ticket.png",
        "/registrations/{token}/ticket.svg",
        "/feedback/{token}",
    ],
)
async def test_a_link_altered_in_one_character_opens_nothing(
    client: httpx.AsyncClient, scene: Scene, path: str
) -> None:
    token = scene.anna.token
    altered = token[:-1] + ("A" if token[-1] != "A" else "B")

    assert (await client.get(path.format(token=token))).status_code == 200
    assert (await client.get(path.format(token=altered))).status_code == 404


# --- check-in codes ----------------------------------------------------------------------------


async def test_a_check_in_code_of_one_event_is_refused_at_another_event_of_the_same_organiser(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    code = check_in_code(scene.x.id, scene.anna.id)

    response = await client.post(
        f"/api/v1/events/{scene.y.slug}/check-ins", json={"code": code}, headers=scene.a_auth
    )

    assert response.status_code == 409
    assert response.json()["code"] == "wrong_event"
    assert (await stored(scene.anna))["checked_in_at"] is None


async def test_a_check_in_code_of_another_organisers_event_is_refused_at_the_door_page(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    await sign_in(client, scene.b)
    code = check_in_code(scene.x.id, scene.anna.id)

    response = await client.post(
        f"/organiser/events/{scene.z.slug}/check-in", data={"code": code}, headers=csrf(client)
    )

    assert response.status_code == 409
    assert (await stored(scene.anna))["checked_in_at"] is None


async def test_a_check_in_code_cannot_be_used_by_an_organiser_who_does_not_run_its_event(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    code = check_in_code(scene.x.id, scene.anna.id)

    response = await client.post(
        f"/api/v1/events/{scene.x.slug}/check-ins", json={"code": code}, headers=scene.b_auth
    )

    assert response.status_code == 403
    assert (await stored(scene.anna))["checked_in_at"] is None


# --- registration ids --------------------------------------------------------------------------


def routes_by_registration_id(app: Litestar) -> list[tuple[str, str]]:
    """Every route that names a registration by its id, from the app itself."""
    return sorted(
        (method, route.path)
        for route in app.routes
        if isinstance(route, HTTPRoute) and REGISTRATION_ID in route.path
        for method in route.route_handler_map
        if method not in ("HEAD", "OPTIONS")
    )


BY_ID = routes_by_registration_id(create_app())


@pytest.mark.parametrize(("method", "path"), BY_ID, ids=[f"{m} {p}" for m, p in BY_ID])
async def test_a_registration_id_of_another_event_reaches_nothing(
    client: httpx.AsyncClient, scene: Scene, method: str, path: str
) -> None:
    """B runs Z and names Anna (of A's event X) in a call about Z: no such registration."""
    url = (
        path.replace("{slug:str}", scene.z.slug)
        .replace(REGISTRATION_ID, str(scene.anna.id))
        .replace("{action:str}", "cancel")
    )
    headers = scene.b_auth
    if not url.startswith("/api/"):
        await sign_in(client, scene.b)
        headers = csrf(client)
    before = await stored(scene.anna)

    response = await client.request(method, url, headers=headers)

    assert response.status_code == 404, response.text
    assert await stored(scene.anna) == before


@pytest.mark.parametrize("registration_id", ["in JSON", "in the door's form"])
async def test_checking_in_by_the_id_of_another_events_registration_reaches_nothing(
    client: httpx.AsyncClient, scene: Scene, registration_id: str
) -> None:
    if registration_id == "in JSON":
        response = await client.post(
            f"/api/v1/events/{scene.z.slug}/check-ins",
            json={"registration_id": scene.anna.id},
            headers=scene.b_auth,
        )
    else:
        await sign_in(client, scene.b)
        response = await client.post(
            f"/organiser/events/{scene.z.slug}/check-in",
            data={"registration_id": str(scene.anna.id)},
            headers=csrf(client),
        )

    assert response.status_code == 404
    assert (await stored(scene.anna))["checked_in_at"] is None


# --- lists -------------------------------------------------------------------------------------


async def test_the_dashboard_lists_only_the_events_an_organiser_runs(
    client: httpx.AsyncClient, scene: Scene
) -> None:
    await sign_in(client, scene.b)

    page = (await client.get("/organiser")).text

    assert scene.z.title in page
    assert scene.x.title not in page
    assert scene.y.title not in page
