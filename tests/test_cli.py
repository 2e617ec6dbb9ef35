"""The `treffpunkt` command, run as a real process against the test database."""

from __future__ import annotations

import asyncio
import functools
import os
import re
import subprocess
import sys

import anyio.to_thread
import httpx
import pytest

from tests import factories
from tests.sessions import sign_in
from treffpunkt.accounts.services import CurrentOrganiser, check_password, organiser_by_email
from treffpunkt.clock import utcnow
from treffpunkt.events import services
from treffpunkt.events.services import CatalogueQuery, EventView
from treffpunkt.events.tables import Event

EMAIL = "ada@example.org"
SECTORS = {"education", "energy", "health", "mobility", "administration"}
FORMATS = {"in_person", "online", "hybrid"}


def treffpunkt(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """Run the console script the way an operator would, on the tests' database."""
    return subprocess.run(
        [sys.executable, "-m", "treffpunkt", *args],
        env={**os.environ},
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


async def in_a_thread(*args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
    """The command, from an async test, without blocking the app's event loop."""
    return await anyio.to_thread.run_sync(functools.partial(treffpunkt, *args, stdin=stdin))


def organiser(email: str) -> CurrentOrganiser | None:
    return asyncio.run(organiser_by_email(email))


def signs_in(email: str, password: str) -> bool:
    return asyncio.run(check_password(email, password)) is not None


def create_organiser(email: str = EMAIL) -> None:
    created = treffpunkt("users", "create", "--email", email, "--password", factories.PASSWORD)
    assert created.returncode == 0, created.stderr


async def may_create_events(client: httpx.AsyncClient, auth: dict[str, str]) -> int:
    """The status an organiser call answers with these credentials."""
    response = await client.post("/api/v1/events", json=factories.event_payload(), headers=auth)
    return response.status_code


async def _event_count() -> int:
    return int(await Event.count())


def event_count() -> int:
    return asyncio.run(_event_count())


def public_catalogue() -> list[EventView]:
    events, _ = asyncio.run(services.list_events(CatalogueQuery(limit=100), now=utcnow()))
    return events


# --- users create ----------------------------------------------------------------------------


def test_users_create_creates_an_organiser() -> None:
    result = treffpunkt("users", "create", "--email", EMAIL, "--password", factories.PASSWORD)

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"created organiser {EMAIL}\n"
    created = organiser(EMAIL)
    assert created is not None
    assert created.is_admin is False


def test_users_create_with_admin_flag_creates_an_admin() -> None:
    result = treffpunkt(
        "users", "create", "--email", EMAIL, "--password", factories.PASSWORD, "--admin"
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"created admin {EMAIL}\n"
    created = organiser(EMAIL)
    assert created is not None
    assert created.is_admin is True


def test_users_create_normalises_the_email() -> None:
    result = treffpunkt(
        "users", "create", "--email", "  Ada@Example.ORG ", "--password", factories.PASSWORD
    )

    assert result.returncode == 0, result.stderr
    assert organiser(EMAIL) is not None


def test_users_create_refuses_a_duplicate_email() -> None:
    treffpunkt("users", "create", "--email", EMAIL, "--password", factories.PASSWORD)

    result = treffpunkt(
        "users", "create", "--email", EMAIL.upper(), "--password", "another long password"
    )

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == f"error: an organiser with the email {EMAIL} exists already\n"


def test_users_create_refuses_a_short_password() -> None:
    result = treffpunkt("users", "create", "--email", EMAIL, "--password", "short")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "error: password: must be at least 10 characters long\n"
    assert organiser(EMAIL) is None


def test_users_create_refuses_an_address_without_at_sign() -> None:
    result = treffpunkt("users", "create", "--email", "ada", "--password", factories.PASSWORD)

    assert result.returncode == 1
    assert result.stderr == "error: email: must be an email address\n"


def test_users_create_refuses_an_address_with_a_line_break() -> None:
    result = treffpunkt(
        "users", "create", "--email", f"{EMAIL}\nBcc: x@example.org", "--password", "long enough!"
    )

    assert result.returncode == 1
    assert result.stderr == "error: email: must be an email address\n"
    assert organiser(EMAIL) is None


def test_users_create_stores_an_international_domain_in_unicode() -> None:
    result = treffpunkt(
        "users", "create", "--email", "Ada@Köln.de", "--password", factories.PASSWORD
    )

    assert result.returncode == 0, result.stderr
    assert result.stdout == "created organiser ada@köln.de\n"


def test_users_create_reads_the_password_from_stdin() -> None:
    result = treffpunkt("users", "create", "--email", EMAIL, stdin=f"{factories.PASSWORD}\n")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"created organiser {EMAIL}\n"
    assert signs_in(EMAIL, factories.PASSWORD)


# --- users set-password ----------------------------------------------------------------------

NEW_PASSWORD = "a brand new passphrase"


def test_users_set_password_reads_the_new_password_from_stdin() -> None:
    create_organiser()

    result = treffpunkt("users", "set-password", "--email", EMAIL, stdin=f"{NEW_PASSWORD}\n")

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"changed the password of {EMAIL}\n"
    assert signs_in(EMAIL, NEW_PASSWORD)
    assert not signs_in(EMAIL, factories.PASSWORD)


def test_users_set_password_refuses_a_short_password() -> None:
    create_organiser()

    result = treffpunkt("users", "set-password", "--email", EMAIL, stdin="short\n")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "error: password: must be at least 10 characters long\n"
    assert signs_in(EMAIL, factories.PASSWORD)


@pytest.mark.anyio
async def test_users_set_password_ends_open_browser_sessions(client: httpx.AsyncClient) -> None:
    await sign_in(client, await factories.organiser(email=EMAIL))
    assert (await client.get("/organiser")).status_code == 200

    result = await in_a_thread("users", "set-password", "--email", EMAIL, stdin=NEW_PASSWORD)

    assert result.returncode == 0, result.stderr
    assert (await client.get("/organiser")).headers["location"] == "/login?next=/organiser"


# --- users deactivate ------------------------------------------------------------------------


def test_users_deactivate_stops_signing_in() -> None:
    create_organiser()

    result = treffpunkt("users", "deactivate", "--email", EMAIL)

    assert result.returncode == 0, result.stderr
    assert result.stdout == f"deactivated {EMAIL}\n"
    assert not signs_in(EMAIL, factories.PASSWORD)


@pytest.mark.anyio
async def test_users_deactivate_makes_the_api_tokens_answer_401(
    client: httpx.AsyncClient,
) -> None:
    who, auth = await factories.organiser_with_token()
    assert await may_create_events(client, auth) == 201

    result = await in_a_thread("users", "deactivate", "--email", who.email)

    assert result.returncode == 0, result.stderr
    assert await may_create_events(client, auth) == 401


@pytest.mark.anyio
async def test_users_deactivate_ends_open_browser_sessions(client: httpx.AsyncClient) -> None:
    await sign_in(client, await factories.organiser(email=EMAIL))
    assert (await client.get("/organiser")).status_code == 200

    result = await in_a_thread("users", "deactivate", "--email", EMAIL)

    assert result.returncode == 0, result.stderr
    assert (await client.get("/organiser")).headers["location"] == "/login?next=/organiser"


# --- tokens create ---------------------------------------------------------------------------


def test_tokens_create_prints_exactly_one_line_that_is_the_token() -> None:
    treffpunkt("users", "create", "--email", EMAIL, "--password", factories.PASSWORD)

    result = treffpunkt("tokens", "create", "--email", EMAIL)

    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"tp_[A-Za-z0-9_-]{43}\n", result.stdout)
    assert result.stderr == ""


def test_tokens_create_makes_a_new_token_each_time() -> None:
    treffpunkt("users", "create", "--email", EMAIL, "--password", factories.PASSWORD)

    first = treffpunkt("tokens", "create", "--email", EMAIL).stdout
    second = treffpunkt("tokens", "create", "--email", EMAIL).stdout

    assert first != second


def test_a_created_token_works_as_bearer_on_the_api(live_server: str) -> None:
    treffpunkt("users", "create", "--email", EMAIL, "--password", factories.PASSWORD)
    token = treffpunkt("tokens", "create", "--email", EMAIL).stdout.strip()

    response = httpx.post(
        f"{live_server}/api/v1/events",
        json=factories.event_payload(),
        headers={"Authorization": f"Bearer {token}"},
    )

    assert response.status_code == 201, response.text
    assert response.json()["status"] == "draft"


def test_tokens_create_for_an_unknown_email_fails() -> None:
    result = treffpunkt("tokens", "create", "--email", "nobody@example.org")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "error: no active organiser with the email nobody@example.org\n"


# --- tokens list and revoke ------------------------------------------------------------------


def test_tokens_list_shows_each_token_without_its_secret() -> None:
    create_organiser()
    first = treffpunkt("tokens", "create", "--email", EMAIL).stdout.strip()
    treffpunkt("tokens", "create", "--email", EMAIL)
    treffpunkt("tokens", "revoke", "--token", first)

    result = treffpunkt("tokens", "list", "--email", EMAIL)

    assert result.returncode == 0, result.stderr
    header, *rows = result.stdout.splitlines()
    assert header.split() == ["id", "created", "last", "used", "revoked"]
    moment = r"\d{4}-\d\d-\d\d \d\d:\d\d UTC"
    assert len(rows) == 2
    assert re.fullmatch(rf"\s*\d+  {moment}  -\s+  {moment}", rows[0])
    assert re.fullmatch(rf"\s*\d+  {moment}  -\s+  -", rows[1])
    assert first not in result.stdout


@pytest.mark.anyio
async def test_tokens_revoke_makes_the_token_answer_401_at_once(
    client: httpx.AsyncClient,
) -> None:
    _, auth = await factories.organiser_with_token()
    assert await may_create_events(client, auth) == 201
    token = auth["Authorization"].removeprefix("Bearer ")

    result = await in_a_thread("tokens", "revoke", "--token", token)

    assert result.returncode == 0, result.stderr
    assert re.fullmatch(r"revoked token \d+\n", result.stdout)
    assert await may_create_events(client, auth) == 401


@pytest.mark.anyio
async def test_tokens_revoke_by_id_leaves_the_other_tokens_working(
    client: httpx.AsyncClient,
) -> None:
    create_organiser()
    kept = {
        "Authorization": f"Bearer {treffpunkt('tokens', 'create', '--email', EMAIL).stdout.strip()}"
    }
    revoked = {
        "Authorization": f"Bearer {treffpunkt('tokens', 'create', '--email', EMAIL).stdout.strip()}"
    }
    listed = treffpunkt("tokens", "list", "--email", EMAIL).stdout.splitlines()
    newest = listed[-1].split()[0]

    result = await in_a_thread("tokens", "revoke", "--id", newest)

    assert result.stdout == f"revoked token {newest}\n"
    assert await may_create_events(client, revoked) == 401
    assert await may_create_events(client, kept) == 201


@pytest.mark.parametrize(
    "command", [("users", "set-password"), ("users", "deactivate"), ("tokens", "list")]
)
def test_an_operator_command_for_an_unknown_email_fails(command: tuple[str, str]) -> None:
    result = treffpunkt(*command, "--email", "nobody@example.org", stdin=f"{NEW_PASSWORD}\n")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "error: no organiser with the email nobody@example.org\n"


def test_tokens_revoke_an_unknown_token_fails() -> None:
    result = treffpunkt("tokens", "revoke", "--token", "tp_not-a-real-token")

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr == "error: no such API token\n"


def test_tokens_revoke_needs_a_token_or_an_id() -> None:
    result = treffpunkt("tokens", "revoke")

    assert result.returncode == 2
    assert result.stderr.endswith("Error: give either --token or --id\n")


# --- demo ------------------------------------------------------------------------------------


def test_demo_run_twice_adds_nothing_the_second_time() -> None:
    first = treffpunkt("demo")
    after_first = event_count()

    second = treffpunkt("demo")

    assert (first.returncode, second.returncode) == (0, 0)
    assert event_count() == after_first
    assert second.stdout.startswith(f"demo data: 0 new events, {after_first} already there;")


def test_demo_loads_a_varied_public_programme() -> None:
    assert treffpunkt("demo").returncode == 0

    events = public_catalogue()

    assert len(events) >= 12
    assert len({event.region for event in events}) >= 6
    assert {sector for event in events for sector in event.sectors} == SECTORS
    assert {event.format for event in events} == FORMATS
    assert [event.status for event in events].count("cancelled") == 1
    assert {event.status for event in events} == {"published", "cancelled"}


def test_demo_creates_its_organiser_once() -> None:
    treffpunkt("demo")
    treffpunkt("demo")

    demo = organiser("demo@treffpunkt.example")
    assert demo is not None
    assert demo.is_admin is True


# --- migrate ---------------------------------------------------------------------------------


def test_migrate_twice_succeeds() -> None:
    first = treffpunkt("migrate")
    second = treffpunkt("migrate")

    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
