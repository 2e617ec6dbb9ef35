"""Organiser accounts for admins: the list, invitations by mail, and access granted or taken."""

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
from tests.audit.helpers import entries
from tests.mail_sink import Sink
from tests.notifications.helpers import html_of, text_of
from tests.sessions import sign_in
from treffpunkt.accounts import account_pages
from treffpunkt.accounts.services import (
    CurrentOrganiser,
    check_password,
    create_own_api_token,
    organiser_for_token,
)
from treffpunkt.accounts.tables import Organiser
from treffpunkt.clock import utcnow
from treffpunkt.notifications.worker import drain
from treffpunkt.settings import get_settings

pytestmark = pytest.mark.anyio

ORGANISERS = "/admin/organisers"
INVITEE = "neu@landkreis.example"


@pytest.fixture
async def admin(client: httpx.AsyncClient) -> CurrentOrganiser:
    person = await factories.organiser(admin=True)
    await sign_in(client, person)
    return person


@pytest.fixture
async def other_browser(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as browser:
        yield browser


def invitation(language: str = "de", **changes: str) -> dict[str, str]:
    return {"email": INVITEE, "name": "Nina Neu", "language": language, **changes}


async def invite(client: httpx.AsyncClient, **changes: str) -> httpx.Response:
    """Both steps: the form, then the confirmation page's button."""
    question = await submit(client, ORGANISERS, f"{ORGANISERS}/invite", invitation(**changes))
    assert question.status_code == 200, question.text
    return await submit(client, ORGANISERS, f"{ORGANISERS}/invite/send", invitation(**changes))


async def invitee_id() -> int:
    row = await Organiser.select(Organiser.id).where(Organiser.email == INVITEE).first()
    assert row is not None
    return int(row["id"])


async def change_access(
    client: httpx.AsyncClient, organiser_id: int, change: str
) -> httpx.Response:
    return await submit(
        client, ORGANISERS, f"{ORGANISERS}/{organiser_id}/access", {"change": change}, ENGLISH
    )


async def test_an_organiser_who_is_no_admin_gets_403(client: httpx.AsyncClient) -> None:
    await sign_in(client, await factories.organiser())

    response = await client.get(ORGANISERS)

    assert response.status_code == 403


async def test_an_organiser_who_is_no_admin_cannot_invite(client: httpx.AsyncClient) -> None:
    await sign_in(client, await factories.organiser())

    response = await submit(client, "/organiser/account", f"{ORGANISERS}/invite/send", invitation())

    assert response.status_code == 403
    assert await account_mail_rows() == []


async def test_the_list_shows_every_account_with_its_role_and_status(
    client: httpx.AsyncClient, admin: CurrentOrganiser
) -> None:
    organiser = await factories.organiser()
    gone = await factories.organiser()
    await Organiser.update({Organiser.is_active: False}).where(Organiser.id == gone.id)

    page = await client.get(ORGANISERS, headers=ENGLISH)

    assert page.status_code == 200
    for person in (admin, organiser, gone):
        assert f"<td>{person.email}</td>" in page.text
    assert page.text.count("<td>Admin</td>") == 1
    assert page.text.count("<td>deactivated</td>") == 1


async def test_inviting_asks_for_confirmation_before_anything_happens(
    client: httpx.AsyncClient, admin: CurrentOrganiser
) -> None:
    response = await submit(
        client, ORGANISERS, f"{ORGANISERS}/invite", invitation(), headers=ENGLISH
    )

    assert response.status_code == 200
    assert "Send the invitation?" in response.text
    assert not await Organiser.exists().where(Organiser.email == INVITEE)
    assert await account_mail_rows() == []


async def test_an_invitation_makes_an_account_without_a_usable_password(
    client: httpx.AsyncClient, admin: CurrentOrganiser
) -> None:
    response = await invite(client)

    assert response.status_code == 303
    assert response.headers["location"] == ORGANISERS
    [row] = await account_mail_rows()
    assert (row["kind"], row["recipient"], row["organiser"]) == (
        "organiser_invited",
        INVITEE,
        await invitee_id(),
    )
    assert await check_password(INVITEE, "") is None
    page = await client.get(ORGANISERS, headers=ENGLISH)
    assert f"An invitation is on its way to {INVITEE}." in page.text
    assert "invited, no password yet" in page.text


async def test_the_outbox_row_of_an_invitation_holds_no_secret(
    client: httpx.AsyncClient, admin: CurrentOrganiser
) -> None:
    await invite(client)

    [row] = await account_mail_rows()

    assert set(payload_of(row)) == {"expires_at"}


async def test_an_invitation_to_an_existing_address_is_refused_next_to_the_field(
    client: httpx.AsyncClient, admin: CurrentOrganiser
) -> None:
    response = await submit(
        client, ORGANISERS, f"{ORGANISERS}/invite", invitation(email=admin.email), ENGLISH
    )

    assert response.status_code == 400
    assert (
        f'<p class="field-error" id="email-error">an organiser with the email {admin.email} '
        "exists already</p>"
    ) in response.text
    assert await account_mail_rows() == []


async def test_an_invitation_needs_a_valid_address_and_a_name(
    client: httpx.AsyncClient, admin: CurrentOrganiser
) -> None:
    response = await submit(
        client,
        ORGANISERS,
        f"{ORGANISERS}/invite",
        invitation(email="no address", name=""),
        ENGLISH,
    )

    assert response.status_code == 400
    assert 'id="email-error">must be an email address' in response.text
    assert 'id="name-error">must not be empty' in response.text
    assert '<a href="#email">' in response.text


@pytest.mark.parametrize(
    ("language", "subject", "greeting"),
    [
        ("de", "Sie sind eingeladen, Veranstaltungen auf Treffpunkt zu organisieren", "Guten Tag"),
        ("en", "You are invited to organise events on Treffpunkt", "Hello"),
    ],
)
async def test_the_invitation_reaches_the_invitee_in_the_chosen_language(
    client: httpx.AsyncClient,
    admin: CurrentOrganiser,
    smtp: Sink,
    language: str,
    subject: str,
    greeting: str,
) -> None:
    await invite(client, language=language)

    await drain()

    mail = smtp.only(INVITEE)
    assert mail["Subject"] == subject
    assert text_of(mail).startswith(f"{greeting} Nina Neu,")
    assert link_path(mail).startswith("/password/set/")
    assert link_path(mail) in html_of(mail)


async def test_the_invitation_link_sets_a_password_once(
    client: httpx.AsyncClient, admin: CurrentOrganiser, smtp: Sink, other_browser: httpx.AsyncClient
) -> None:
    await invite(client)
    await drain()
    path = link_path(smtp.only(INVITEE))

    first = await set_password_via(other_browser, path)
    again = await set_password_via(other_browser, path, "another new password")

    assert first.status_code == 303
    assert first.headers["location"] == "/organiser"
    assert again.status_code == 400
    assert await check_password(INVITEE, NEW_PASSWORD) is not None
    assert (await other_browser.get("/organiser")).status_code == 200


async def test_an_expired_invitation_link_is_refused(
    client: httpx.AsyncClient,
    admin: CurrentOrganiser,
    smtp: Sink,
    other_browser: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await invite(client)
    await drain()
    path = link_path(smtp.only(INVITEE))
    eight_days_on = utcnow() + timedelta(days=8)
    monkeypatch.setattr(account_pages, "utcnow", lambda: eight_days_on)

    page = await other_browser.get(path, headers=ENGLISH)
    response = await set_password_via(other_browser, path)

    assert page.status_code == 400
    assert "This link has expired or has already been used." in page.text
    assert '<a class="button" href="/password/forgot">Ask for a new link</a>' in page.text
    assert response.status_code == 400
    assert await check_password(INVITEE, NEW_PASSWORD) is None


async def test_the_invitation_link_works_until_just_before_it_expires(
    client: httpx.AsyncClient,
    admin: CurrentOrganiser,
    smtp: Sink,
    other_browser: httpx.AsyncClient,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    await invite(client)
    await drain()
    path = link_path(smtp.only(INVITEE))
    six_days_on = utcnow() + timedelta(days=6, hours=23)
    monkeypatch.setattr(account_pages, "utcnow", lambda: six_days_on)

    response = await set_password_via(other_browser, path)

    assert response.status_code == 303


async def test_sending_the_invitation_again_asks_first_and_ends_the_earlier_link(
    client: httpx.AsyncClient, admin: CurrentOrganiser, smtp: Sink, other_browser: httpx.AsyncClient
) -> None:
    await invite(client, language="en")
    await drain()
    earlier = link_path(smtp.only(INVITEE))
    resend = f"{ORGANISERS}/{await invitee_id()}/resend"
    question = await client.get(resend, headers=ENGLISH)
    assert "Send the invitation again?" in question.text

    response = await submit(client, resend, resend)
    await drain()

    assert response.status_code == 303
    later = smtp.to(INVITEE)[-1]
    assert later["Subject"] == "You are invited to organise events on Treffpunkt"
    assert (await set_password_via(other_browser, earlier)).status_code == 400
    assert (await set_password_via(other_browser, link_path(later))).status_code == 303


async def test_an_account_with_a_password_gets_no_invitation_again(
    client: httpx.AsyncClient, admin: CurrentOrganiser
) -> None:
    organiser = await factories.organiser()
    resend = f"{ORGANISERS}/{organiser.id}/resend"

    response = await submit(client, ORGANISERS, resend)

    assert response.status_code == 409
    assert await account_mail_rows() == []


async def test_deactivating_ends_sessions_and_tokens(
    client: httpx.AsyncClient, admin: CurrentOrganiser, other_browser: httpx.AsyncClient
) -> None:
    organiser = await factories.organiser()
    token = await create_own_api_token(organiser.id)
    await sign_in(other_browser, organiser)

    response = await change_access(client, organiser.id, "deactivate")

    assert response.status_code == 303
    assert (await other_browser.get("/organiser")).status_code in {302, 303}
    assert await organiser_for_token(token) is None
    assert await check_password(organiser.email, factories.PASSWORD) is None
    page = await client.get(ORGANISERS, headers=ENGLISH)
    assert f"{organiser.email} has been deactivated and signed out everywhere." in page.text


async def test_a_reactivated_account_can_sign_in_again(
    client: httpx.AsyncClient, admin: CurrentOrganiser
) -> None:
    organiser = await factories.organiser()
    await change_access(client, organiser.id, "deactivate")

    response = await change_access(client, organiser.id, "reactivate")

    assert response.status_code == 303
    assert await check_password(organiser.email, factories.PASSWORD) is not None


async def test_an_admin_can_make_another_organiser_admin_and_take_it_back(
    client: httpx.AsyncClient, admin: CurrentOrganiser, other_browser: httpx.AsyncClient
) -> None:
    organiser = await factories.organiser()
    await sign_in(other_browser, organiser)

    await change_access(client, organiser.id, "make_admin")
    assert (await other_browser.get(ORGANISERS)).status_code == 200

    await change_access(client, organiser.id, "remove_admin")
    assert (await other_browser.get(ORGANISERS)).status_code == 403


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ("deactivate", "you cannot deactivate your own account"),
        ("remove_admin", "you cannot remove your own admin rights"),
    ],
)
async def test_an_admin_cannot_lock_themselves_out(
    client: httpx.AsyncClient, admin: CurrentOrganiser, change: str, message: str
) -> None:
    response = await change_access(client, admin.id, change)

    assert response.status_code == 409
    assert f'<p class="form-error" role="alert">{message}</p>' in response.text
    assert (await client.get(ORGANISERS)).status_code == 200


async def test_an_unknown_change_is_refused(
    client: httpx.AsyncClient, admin: CurrentOrganiser
) -> None:
    organiser = await factories.organiser()

    response = await change_access(client, organiser.id, "make_owner")

    assert response.status_code == 400
    assert await check_password(organiser.email, factories.PASSWORD) is not None


async def test_the_invitation_works_for_the_configured_number_of_days(
    client: httpx.AsyncClient, admin: CurrentOrganiser, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("TREFFPUNKT_INVITE_DAYS", "2")
    get_settings.cache_clear()
    try:
        before = utcnow()
        await invite(client)
    finally:
        monkeypatch.undo()
        get_settings.cache_clear()

    [row] = await account_mail_rows()

    expires_at = datetime.fromisoformat(payload_of(row)["expires_at"])
    assert before + timedelta(days=2) <= expires_at <= utcnow() + timedelta(days=2)


async def test_sending_a_confirmed_invitation_for_an_address_taken_meanwhile_is_refused(
    client: httpx.AsyncClient, admin: CurrentOrganiser
) -> None:
    await invite(client)

    response = await submit(
        client, ORGANISERS, f"{ORGANISERS}/invite/send", invitation(), headers=ENGLISH
    )

    assert response.status_code == 400
    assert f'id="email-error">an organiser with the email {INVITEE} exists already' in (
        response.text
    )
    assert len(await account_mail_rows()) == 1


async def test_an_invitation_with_no_name_and_a_taken_address_names_both_problems(
    client: httpx.AsyncClient, admin: CurrentOrganiser
) -> None:
    response = await submit(
        client, ORGANISERS, f"{ORGANISERS}/invite", invitation(email=admin.email, name=""), ENGLISH
    )

    assert response.status_code == 400
    assert 'id="email-error">an organiser with the email' in response.text
    assert 'id="name-error">must not be empty' in response.text


async def test_making_an_admin_of_an_admin_leaves_no_entry_in_the_audit_trail(
    client: httpx.AsyncClient, admin: CurrentOrganiser
) -> None:
    organiser = await factories.organiser(admin=True)

    response = await change_access(client, organiser.id, "make_admin")

    assert response.status_code == 303
    assert await entries(account=organiser.id, action="account.admin_granted") == []
