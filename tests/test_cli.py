"""The `treffpunkt` command, run as a real process against the test database."""

from __future__ import annotations

import asyncio
import os
import re
import subprocess
import sys

import httpx

from tests import factories
from treffpunkt.accounts.services import CurrentOrganiser, organiser_by_email
from treffpunkt.clock import utcnow
from treffpunkt.events import services
from treffpunkt.events.services import CatalogueQuery, EventView
from treffpunkt.events.tables import Event

EMAIL = "ada@example.org"
SECTORS = {"education", "energy", "health", "mobility", "administration"}
FORMATS = {"in_person", "online", "hybrid"}


def treffpunkt(*args: str) -> subprocess.CompletedProcess[str]:
    """Run the console script the way an operator would, on the tests' database."""
    return subprocess.run(
        [sys.executable, "-m", "treffpunkt", *args],
        env={**os.environ},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def organiser(email: str) -> CurrentOrganiser | None:
    return asyncio.run(organiser_by_email(email))


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
