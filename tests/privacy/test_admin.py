"""Admins: the privacy page (due, done, find, export, erase) and the `treffpunkt privacy` commands."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import httpx
import pytest

from tests import factories
from tests.privacy.helpers import anna_registered, registration_row
from tests.privacy.test_retention import ended
from tests.registrations.helpers import id_of, register_ok
from tests.sessions import hidden_value, sign_in
from tests.test_cli import in_a_thread
from treffpunkt.privacy.retention import keep_retention

pytestmark = pytest.mark.anyio


async def as_admin(client: httpx.AsyncClient) -> str:
    """Sign an admin in; the CSRF token of the privacy page."""
    await sign_in(client, await factories.organiser(admin=True, email="admin@kreis.example"))
    page = await client.get("/admin/privacy")
    assert page.status_code == 200
    return hidden_value(page.text, "_csrf_token")


async def test_the_page_is_for_admins_only(client: httpx.AsyncClient) -> None:
    await sign_in(client, await factories.organiser())

    assert (await client.get("/admin/privacy")).status_code in (403, 404)


async def test_the_admin_navigation_links_the_page(client: httpx.AsyncClient) -> None:
    await as_admin(client)

    assert 'href="/admin/privacy"' in (await client.get("/organiser")).text


async def test_the_page_shows_what_is_due_and_what_was_done(client: httpx.AsyncClient) -> None:
    done = await anna_registered(client)
    await ended(done.event, days_ago=190)
    await keep_retention(datetime.now(UTC))
    overdue = await factories.event(await factories.organiser(), title="Altes Treffen in Görlitz")
    await register_ok(client, overdue.slug)
    await ended(overdue, days_ago=181)
    await as_admin(client)

    page = (await client.get("/admin/privacy")).text

    due_section = page.split('id="due-heading"')[1].split('id="coming-heading"')[0]
    done_section = page.split('id="done-heading"')[1].split('id="find-heading"')[0]
    assert "Altes Treffen in Görlitz" in due_section
    assert done.event.title in done_section


async def test_finding_an_address_lists_its_registrations_without_putting_it_in_a_url(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client)
    csrf = await as_admin(client)

    response = await client.post(
        "/admin/privacy/find", data={"_csrf_token": csrf, "email": " Anna@Example.org "}
    )

    assert response.status_code == 200
    assert anna.event.title in response.text
    assert "anna@example.org" in response.text


async def test_the_export_of_an_address_is_a_json_download(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)
    csrf = await as_admin(client)

    response = await client.post(
        "/admin/privacy/export", data={"_csrf_token": csrf, "email": "anna@example.org"}
    )

    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    body = json.loads(response.content)
    assert [r["registration"]["id"] for r in body["registrations"]] == [anna.registration_id]


async def test_erasing_an_address_asks_first_then_erases_and_says_how_many(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client)
    csrf = await as_admin(client)

    confirm = await client.post(
        "/admin/privacy/erase/confirm", data={"_csrf_token": csrf, "email": "anna@example.org"}
    )
    assert confirm.status_code == 200
    assert (await registration_row(anna.registration_id))["erased_at"] is None
    erased = await client.post(
        "/admin/privacy/erase", data={"_csrf_token": csrf, "email": "anna@example.org"}
    )

    assert erased.status_code == 303
    assert erased.headers["location"] == "/admin/privacy"
    assert (await registration_row(anna.registration_id))["erased_at"] is not None
    page = await client.get("/admin/privacy")
    assert "1 Anmeldung wurde gelöscht." in page.text


async def test_cli_export_prints_every_registration_and_the_organiser_account(
    client: httpx.AsyncClient,
) -> None:
    organiser = await factories.organiser(email="anna@example.org")
    event = await factories.event(organiser)
    other = await factories.event(organiser)
    await register_ok(client, event.slug, email="anna@example.org")
    await register_ok(client, other.slug, email="Anna@example.org")

    run = await in_a_thread("privacy", "export", "--email", "ANNA@example.org")

    assert run.returncode == 0, run.stderr
    body = json.loads(run.stdout)
    assert body["email"] == "anna@example.org"
    assert sorted(r["event"]["slug"] for r in body["registrations"]) == sorted(
        [event.slug, other.slug]
    )
    assert body["organiser"]["email"] == "anna@example.org"
    assert "password_hash" not in body["organiser"]


async def test_cli_export_of_an_unknown_address_is_empty(client: httpx.AsyncClient) -> None:
    run = await in_a_thread("privacy", "export", "--email", "nobody@example.org")

    assert run.returncode == 0, run.stderr
    assert json.loads(run.stdout) == {
        "email": "nobody@example.org",
        "registrations": [],
        "organiser": None,
    }


async def test_cli_erase_erases_every_registration_without_asking_off_a_terminal(
    client: httpx.AsyncClient,
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    other = await factories.event(owner)
    await register_ok(client, event.slug, email="anna@example.org")
    await register_ok(client, other.slug, email="anna@example.org")
    first = await id_of(client, event.slug, auth, "anna@example.org")

    run = await in_a_thread("privacy", "erase", "--email", "anna@example.org")

    assert run.returncode == 0, run.stderr
    assert run.stdout.splitlines()[-1] == "erased 2 registration(s)"
    assert f"erased registration {first} at {event.slug}" in run.stdout
    assert (await registration_row(first))["erased_at"] is not None


async def test_cli_due_shows_due_and_done(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)
    await ended(anna.event, days_ago=181)

    before = await in_a_thread("privacy", "due")
    await keep_retention(datetime.now(UTC))
    after = await in_a_thread("privacy", "due")

    assert before.returncode == 0, before.stderr
    assert "due now: 1 event(s)" in before.stdout
    assert anna.event.slug in before.stdout
    assert "due now: 0 event(s)" in after.stdout
    assert f"{anna.event.slug}  retention  1 registration(s)" in after.stdout
