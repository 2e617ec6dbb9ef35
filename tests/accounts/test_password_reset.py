"""Forgotten passwords: one answer for every address, a mail with a one-use link, a throttle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import httpx
import pytest
from litestar import Litestar

from tests import factories
from tests.accounts.helpers import (
    ENGLISH,
    NEW_PASSWORD,
    account_mail_rows,
    link_path,
    payload_of,
    set_password_via,
    submit,
)
from tests.mail_sink import Sink
from tests.notifications.helpers import Clock, text_of
from tests.sessions import sign_in
from treffpunkt.accounts import account_pages, links
from treffpunkt.accounts.services import CurrentOrganiser, check_password, deactivate_organiser
from treffpunkt.clock import utcnow
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.notifications.worker import drain

pytestmark = pytest.mark.anyio

FORGOT = "/password/forgot"


@pytest.fixture
async def person(client: httpx.AsyncClient) -> CurrentOrganiser:
    return await factories.organiser()


@pytest.fixture
async def other_browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as browser:
        yield browser


async def ask_for_reset(
    client: httpx.AsyncClient, email: str, headers: dict[str, str] | None = None
) -> httpx.Response:
    return await submit(client, FORGOT, FORGOT, {"email": email}, headers=headers)


async def reset_link(client: httpx.AsyncClient, smtp: Sink, email: str) -> str:
    await ask_for_reset(client, email)
    await drain()
    return link_path(smtp.to(email)[-1])


async def test_the_sign_in_page_links_to_the_forgotten_password_form(
    client: httpx.AsyncClient,
) -> None:
    page = await client.get("/login", headers=ENGLISH)

    assert '<a href="/password/forgot">Forgot your password?</a>' in page.text


async def test_the_answer_does_not_tell_whether_an_account_exists(
    client: httpx.AsyncClient, person: CurrentOrganiser
) -> None:
    known = await ask_for_reset(client, person.email, ENGLISH)
    known_page = await client.get(known.headers["location"], headers=ENGLISH)
    unknown = await ask_for_reset(client, "nobody@example.org", ENGLISH)
    unknown_page = await client.get(unknown.headers["location"], headers=ENGLISH)

    assert (known.status_code, known.headers["location"], known.content) == (
        unknown.status_code,
        unknown.headers["location"],
        unknown.content,
    )
    assert (known_page.status_code, known_page.text) == (
        unknown_page.status_code,
        unknown_page.text,
    )
    assert "If an active organiser account uses this address" in known_page.text


async def test_only_an_existing_account_gets_a_reset_mail(
    client: httpx.AsyncClient, person: CurrentOrganiser
) -> None:
    await ask_for_reset(client, "nobody@example.org")
    await ask_for_reset(client, person.email.upper())

    rows = await account_mail_rows()

    assert [(r["kind"], r["recipient"]) for r in rows] == [("password_reset", person.email)]


async def test_the_reset_link_expires_after_an_hour(
    client: httpx.AsyncClient, person: CurrentOrganiser
) -> None:
    before = utcnow()
    await ask_for_reset(client, person.email)

    [row] = await account_mail_rows()

    expires_at = datetime.fromisoformat(payload_of(row)["expires_at"])
    assert before + timedelta(hours=1) <= expires_at <= utcnow() + timedelta(hours=1)


@pytest.mark.parametrize(
    ("headers", "subject"),
    [
        ({}, "Neues Passwort für Treffpunkt festlegen"),
        (ENGLISH, "Set a new password for Treffpunkt"),
    ],
)
async def test_the_reset_mail_speaks_the_language_of_the_browser_that_asked(
    client: httpx.AsyncClient,
    person: CurrentOrganiser,
    smtp: Sink,
    headers: dict[str, str],
    subject: str,
) -> None:
    await ask_for_reset(client, person.email, headers)

    await drain()

    mail = smtp.only(person.email)
    assert mail["Subject"] == subject
    assert "/password/set/" in text_of(mail)


async def test_a_second_request_within_the_pause_sends_no_second_mail(
    client: httpx.AsyncClient, person: CurrentOrganiser, smtp: Sink
) -> None:
    await ask_for_reset(client, person.email)
    second = await ask_for_reset(client, person.email)
    await drain()

    assert second.status_code == 303
    assert len(smtp.to(person.email)) == 1


async def test_after_the_pause_another_reset_mail_is_sent(
    client: httpx.AsyncClient, person: CurrentOrganiser, monkeypatch: pytest.MonkeyPatch
) -> None:
    await ask_for_reset(client, person.email)
    later = utcnow() + links.RESET_PAUSE + timedelta(seconds=1)
    monkeypatch.setattr(account_pages, "utcnow", lambda: later)

    await ask_for_reset(client, person.email)

    assert len(await account_mail_rows()) == 2


async def test_a_deactivated_account_gets_no_reset_mail(
    client: httpx.AsyncClient, person: CurrentOrganiser
) -> None:
    await deactivate_organiser(person.email)

    response = await ask_for_reset(client, person.email)

    assert response.status_code == 303
    assert await account_mail_rows() == []


async def test_a_reset_mail_for_an_account_deactivated_before_sending_is_skipped(
    client: httpx.AsyncClient, person: CurrentOrganiser, smtp: Sink
) -> None:
    await ask_for_reset(client, person.email)
    await deactivate_organiser(person.email)

    result = await drain()

    assert (result.sent, result.skipped) == (0, 1)
    [row] = await account_mail_rows()
    assert row["last_error"] == "password_reset no longer applies: the account is deactivated"


async def test_a_reset_mail_not_sent_before_its_link_expired_is_skipped(
    client: httpx.AsyncClient, person: CurrentOrganiser, smtp: Sink, worker_clock: Clock
) -> None:
    await ask_for_reset(client, person.email)
    worker_clock.advance(timedelta(hours=2))

    result = await drain()

    assert (result.sent, result.skipped) == (0, 1)
    assert smtp.to(person.email) == []


async def test_the_reset_link_sets_the_password_signs_in_and_opens_my_events(
    client: httpx.AsyncClient, person: CurrentOrganiser, smtp: Sink
) -> None:
    path = await reset_link(client, smtp, person.email)

    form = await client.get(path, headers=ENGLISH)
    response = await set_password_via(client, path)

    assert form.status_code == 200
    assert f"For the organiser account {person.email}." in form.text
    assert response.status_code == 303
    assert response.headers["location"] == "/organiser"
    assert (await client.get("/organiser")).status_code == 200
    assert await check_password(person.email, NEW_PASSWORD) is not None
    assert await check_password(person.email, factories.PASSWORD) is None


async def test_the_reset_link_works_once(
    client: httpx.AsyncClient, person: CurrentOrganiser, smtp: Sink
) -> None:
    path = await reset_link(client, smtp, person.email)
    await set_password_via(client, path)

    again = await set_password_via(client, path, "yet another password")
    page = await client.get(path, headers=ENGLISH)

    assert again.status_code == 400
    assert page.status_code == 400
    assert "This link has expired or has already been used." in page.text
    assert await check_password(person.email, NEW_PASSWORD) is not None


async def test_setting_a_password_by_link_ends_every_other_session(
    client: httpx.AsyncClient,
    person: CurrentOrganiser,
    smtp: Sink,
    other_browser: httpx.AsyncClient,
) -> None:
    await sign_in(other_browser, person)
    path = await reset_link(client, smtp, person.email)

    await set_password_via(client, path)

    assert (await other_browser.get("/organiser")).status_code in {302, 303}


async def test_a_password_changed_otherwise_ends_an_unused_reset_link(
    client: httpx.AsyncClient, person: CurrentOrganiser, smtp: Sink
) -> None:
    path = await reset_link(client, smtp, person.email)
    await sign_in(client, person)
    await submit(
        client,
        "/organiser/account",
        "/organiser/account/password",
        {
            "current_password": factories.PASSWORD,
            "password": "changed on the page",
            "password_repeat": "changed on the page",
        },
    )

    response = await set_password_via(client, path)

    assert response.status_code == 400
    assert await check_password(person.email, "changed on the page") is not None


async def test_the_reset_link_holds_the_password_rules(
    client: httpx.AsyncClient, person: CurrentOrganiser, smtp: Sink
) -> None:
    path = await reset_link(client, smtp, person.email)

    response = await submit(
        client, path, path, {"password": "short", "password_repeat": "short"}, ENGLISH
    )

    assert response.status_code == 400
    assert '<p class="field-error" id="password-error">must be at least 10 characters long' in (
        response.text
    )
    assert (await set_password_via(client, path)).status_code == 303


async def test_an_expired_reset_link_is_refused(
    client: httpx.AsyncClient,
    person: CurrentOrganiser,
    smtp: Sink,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    path = await reset_link(client, smtp, person.email)
    later = utcnow() + timedelta(hours=1, minutes=1)
    monkeypatch.setattr(account_pages, "utcnow", lambda: later)

    response = await set_password_via(client, path)

    assert response.status_code == 400
    assert await check_password(person.email, NEW_PASSWORD) is None


@pytest.mark.parametrize(
    "token",
    [
        "1.9999999999.forged",
        "not-a-link",
        "99999999999.1.x",
        "1.1.x",
    ],
)
async def test_a_forged_link_is_refused(
    client: httpx.AsyncClient, person: CurrentOrganiser, token: str
) -> None:
    response = await client.get(f"/password/set/{token}", headers=ENGLISH)

    assert response.status_code == 400
    assert "This link has expired or has already been used." in response.text


async def test_a_link_with_another_accounts_id_is_refused(
    client: httpx.AsyncClient, person: CurrentOrganiser, smtp: Sink
) -> None:
    other = await factories.organiser()
    path = await reset_link(client, smtp, person.email)
    _, expiry, mac = path.rsplit("/", 1)[1].split(".")

    response = await set_password_via(client, f"/password/set/{other.id}.{expiry}.{mac}")

    assert response.status_code == 400
    assert await check_password(other.email, NEW_PASSWORD) is None


async def test_a_deactivated_account_cannot_use_a_reset_link_or_sign_in(
    client: httpx.AsyncClient, person: CurrentOrganiser, smtp: Sink
) -> None:
    path = await reset_link(client, smtp, person.email)
    await deactivate_organiser(person.email)

    response = await set_password_via(client, path)

    assert response.status_code == 400
    assert await check_password(person.email, NEW_PASSWORD) is None
    assert await check_password(person.email, factories.PASSWORD) is None


async def test_the_admin_mailbox_shows_account_mail_without_an_event(
    client: httpx.AsyncClient, person: CurrentOrganiser, no_smtp: None
) -> None:
    await ask_for_reset(client, person.email, ENGLISH)
    [row] = await account_mail_rows()
    await sign_in(client, await factories.organiser(admin=True))

    listing = await client.get("/admin/mailbox")
    message = await client.get(f"/admin/mailbox/{row['id']}")

    assert listing.status_code == 200
    assert "password_reset" in listing.text
    assert message.status_code == 200
    assert "Set a new password for Treffpunkt" in message.text


async def test_account_mail_rows_are_not_tied_to_an_event(
    client: httpx.AsyncClient, person: CurrentOrganiser
) -> None:
    await ask_for_reset(client, person.email)

    row = await OutboxMessage.select(OutboxMessage.event, OutboxMessage.organiser).first()

    assert row == {"event": None, "organiser": person.id}


async def test_reset_throttle_counts_by_account_not_by_spelling(
    client: httpx.AsyncClient, person: CurrentOrganiser
) -> None:
    await ask_for_reset(client, person.email)
    await ask_for_reset(client, person.email.upper())

    assert len(await account_mail_rows()) == 1


async def test_reset_requests_share_the_sign_in_limit_per_minute(
    limited_client: httpx.AsyncClient,
) -> None:
    for _ in range(10):
        assert (await ask_for_reset(limited_client, "nobody@example.org")).status_code == 303

    response = await ask_for_reset(limited_client, "nobody@example.org")

    assert response.status_code == 429
