"""Logs name ids, never people: no address, name, organisation, password, token or secret link.

One person goes through everything that logs: registering (and failing to), the mail worker
delivering and being refused, an organiser signing in (and failing to), a request that breaks,
export, erasure and retention. Every line the app logs (structlog and the standard library,
at the configured level) is captured, and none may hold any of their data or secrets.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
import structlog
from structlog.processors import format_exc_info

from tests import factories
from tests.mail_sink import Sink
from tests.privacy.test_retention import ended
from tests.registrations.helpers import id_of, token_of
from tests.sessions import hidden_value
from treffpunkt.accounts.services import create_api_token, set_password
from treffpunkt.notifications.worker import drain
from treffpunkt.privacy.retention import keep_retention
from treffpunkt.registrations import services
from treffpunkt.registrations.tables import Registration
from treffpunkt.settings import get_settings
from treffpunkt.web.redaction import mask_addresses

pytestmark = pytest.mark.anyio

PERSON = {
    "name": "Zacharias Quellenschutz",
    "email": "zacharias.quellenschutz@example.org",
    "organisation": "Stadtwerke Vertraulichkeit",
    "role": "Geheimrat",
    "notes": "Rollstuhl, bitte Rampe",
    "stakeholder_group": "municipal_company",
    "consent": True,
}
REFUSED = "verweigert.empfang@example.org"
PASSWORD = "ein-sehr-geheimes-Passwort-4711"
WRONG_PASSWORD = "falsches-Passwort-0815"


@pytest.fixture
def everything_logged(caplog: pytest.LogCaptureFixture) -> Iterator[tuple[list[Any], Any]]:
    """structlog's entries (tracebacks rendered) and the standard library's records."""
    caplog.set_level(logging.INFO)
    # The test client's own log line names the URL it called; it is not the app's log.
    caplog.set_level(logging.WARNING, logger="httpx")
    with structlog.testing.capture_logs(processors=[format_exc_info]) as entries:
        yield entries, caplog


async def register_through_the_form(client: httpx.AsyncClient, slug: str) -> None:
    page = await client.get(f"/events/{slug}")
    response = await client.post(
        f"/events/{slug}/register",
        data={**PERSON, "consent": "yes", "_csrf_token": hidden_value(page.text, "_csrf_token")},
    )
    assert response.status_code == 303, response.text


async def sign_in_twice(client: httpx.AsyncClient, email: str) -> None:
    """Once with a wrong password, then with the right one."""
    for password, signed_in in ((WRONG_PASSWORD, False), (PASSWORD, True)):
        page = await client.get("/login")
        response = await client.post(
            "/login",
            data={
                "_csrf_token": hidden_value(page.text, "_csrf_token"),
                "email": email,
                "password": password,
            },
        )
        assert (response.status_code == 303) is signed_in


async def test_nothing_anyone_does_puts_personal_data_or_secrets_into_the_log(
    client: httpx.AsyncClient,
    smtp: Sink,
    everything_logged: tuple[list[Any], Any],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    entries, caplog = everything_logged
    owner_email = "orga.vertraulich@kreis.example"
    owner = await factories.organiser(email=owner_email)
    await set_password(owner_email, PASSWORD)
    organiser_token = await create_api_token(owner_email)
    auth = {"Authorization": f"Bearer {organiser_token}"}
    event = await factories.event(owner, capacity=5)
    smtp.refused[REFUSED] = f"550 5.1.1 <{REFUSED}>: no such user"

    # Registering: the form, the API, a refusal, and a second one whose mail is refused.
    await register_through_the_form(client, event.slug)
    bad = await client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={**PERSON, "email": "zacharias@@example.org"},
    )
    assert bad.status_code == 422
    await client.post(
        f"/api/v1/events/{event.slug}/registrations",
        json={**PERSON, "email": REFUSED, "name": "Verweigerte Person"},
    )
    # The mail worker delivers, and is refused.
    await drain()
    assert smtp.to(PERSON["email"])
    # An organiser signs in, wrongly then rightly, and reads the roster with a token.
    await sign_in_twice(client, owner_email)
    await client.get(f"/api/v1/events/{event.slug}/registrations", headers=auth)
    # The person's link: read, a request that breaks, export, erasure.
    registration_id = await id_of(client, event.slug, auth, PERSON["email"])
    row = (
        await Registration.select(Registration.link_nonce, Registration.token_hash)
        .where(Registration.id == registration_id)
        .first()
    )
    assert row is not None
    token = await token_of(client, event.slug, auth, PERSON["email"])
    await client.get(f"/registrations/{token}")

    async def broken(_: str) -> None:
        raise RuntimeError("the database went away")

    with monkeypatch.context() as patched:
        patched.setattr(services, "by_token", broken)
        assert (await client.get(f"/api/v1/registrations/{token}")).status_code == 500
    await client.get(f"/api/v1/registrations/{token}/export")
    await client.post(f"/api/v1/registrations/{token}/erase")
    await drain()
    # Retention of everyone else, after the event.
    await ended(event, days_ago=200)
    await keep_retention(datetime.now(UTC) + timedelta(seconds=1))

    log = "\n".join(repr(entry) for entry in entries) + "\n" + caplog.text
    personal = [
        PERSON["name"],
        "Quellenschutz",
        PERSON["email"],
        PERSON["organisation"],
        PERSON["role"],
        PERSON["notes"],
        REFUSED,
        "Verweigerte Person",
        owner_email,
        PASSWORD,
        WRONG_PASSWORD,
        organiser_token,
        token,
        row["link_nonce"],
        row["token_hash"],
        get_settings().secret_key,
    ]
    assert "the database went away" in log  # the capture saw the app's error log
    assert [secret for secret in personal if secret in log] == []


async def test_an_unexpected_error_naming_an_address_is_written_without_it(
    client: httpx.AsyncClient,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """As PostgreSQL's unique violations do: the traceback's text names the address."""
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    await register_through_the_form(client, event.slug)
    token = await token_of(client, event.slug, auth, PERSON["email"])

    async def broken(_: str) -> None:
        raise RuntimeError(f"Key (event, email)=(1, {PERSON['email']}) already exists.")

    monkeypatch.setattr(services, "by_token", broken)
    capsys.readouterr()

    response = await client.get(f"/api/v1/registrations/{token}")

    written = capsys.readouterr().out
    assert response.status_code == 500
    assert "already exists" in written
    assert PERSON["email"] not in written
    assert "<address>" in written


def test_the_mask_takes_every_address_out_of_a_log_entry() -> None:
    entry = {"event": "failed", "exception": "to anna@köln.de and b.c+d@sub.example.org"}

    assert mask_addresses(None, "error", entry) == {
        "event": "failed",
        "exception": "to <address> and <address>",
    }
