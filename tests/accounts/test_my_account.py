"""My account: changing the password, signing other browsers out, and my own API tokens."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar

from tests import factories
from tests.accounts.helpers import ENGLISH, NEW_PASSWORD, submit
from tests.sessions import sign_in
from treffpunkt.accounts.services import CurrentOrganiser, check_password, create_own_api_token
from treffpunkt.accounts.tables import ApiToken

pytestmark = pytest.mark.anyio

ACCOUNT = "/organiser/account"


@pytest.fixture
async def me(client: httpx.AsyncClient) -> CurrentOrganiser:
    person = await factories.organiser()
    await sign_in(client, person)
    return person


@pytest.fixture
async def elsewhere(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """A second browser (its own cookies) on the same app."""
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://testserver"
    ) as browser:
        yield browser


async def change_password(
    client: httpx.AsyncClient, current: str, new: str, repeat: str | None = None
) -> httpx.Response:
    return await submit(
        client,
        ACCOUNT,
        f"{ACCOUNT}/password",
        {
            "current_password": current,
            "password": new,
            "password_repeat": new if repeat is None else repeat,
        },
        headers=ENGLISH,
    )


async def api_status(client: httpx.AsyncClient, token: str) -> int:
    """What the API says to the token: 200 while it works, 401 once it does not."""
    response = await client.post(
        "/api/v1/events", json={}, headers={"Authorization": f"Bearer {token}"}
    )
    return 401 if response.status_code == 401 else 200


async def test_the_account_page_asks_a_visitor_to_sign_in(client: httpx.AsyncClient) -> None:
    response = await client.get(ACCOUNT)

    assert response.status_code in {302, 303}
    assert response.headers["location"] == f"/login?next={ACCOUNT}"


async def test_the_account_page_names_the_signed_in_organiser(
    client: httpx.AsyncClient, me: CurrentOrganiser
) -> None:
    response = await client.get(ACCOUNT, headers=ENGLISH)

    assert response.status_code == 200
    assert "<h1>My account</h1>" in response.text
    assert f"Signed in as {me.email}." in response.text
    assert response.headers["cache-control"] == "no-store"


async def test_a_wrong_current_password_is_refused_next_to_its_field(
    client: httpx.AsyncClient, me: CurrentOrganiser
) -> None:
    response = await change_password(client, "not my password", NEW_PASSWORD)

    assert response.status_code == 400
    assert (
        '<p class="field-error" id="current_password-error">is not your current password</p>'
        in (response.text)
    )
    assert re.search(
        r'<input id="current_password"[^>]*aria-invalid="true" '
        r'aria-describedby="current_password-error"',
        response.text,
    )
    assert '<a href="#current_password">Current password: is not your current password</a>' in (
        response.text
    )
    assert await check_password(me.email, factories.PASSWORD) is not None


async def test_a_new_password_follows_the_length_rule(
    client: httpx.AsyncClient, me: CurrentOrganiser
) -> None:
    response = await change_password(client, factories.PASSWORD, "short")

    assert response.status_code == 400
    assert "must be at least 10 characters long" in response.text
    assert await check_password(me.email, "short") is None


async def test_the_new_password_must_be_repeated_exactly(
    client: httpx.AsyncClient, me: CurrentOrganiser
) -> None:
    response = await change_password(client, factories.PASSWORD, NEW_PASSWORD, "a brand new typo")

    assert response.status_code == 400
    assert '<p class="field-error" id="password_repeat-error">does not match the new password' in (
        response.text
    )
    assert await check_password(me.email, NEW_PASSWORD) is None


async def test_a_changed_password_replaces_the_old_one(
    client: httpx.AsyncClient, me: CurrentOrganiser
) -> None:
    response = await change_password(client, factories.PASSWORD, NEW_PASSWORD)

    assert response.status_code == 303
    assert response.headers["location"] == ACCOUNT
    assert await check_password(me.email, NEW_PASSWORD) is not None
    assert await check_password(me.email, factories.PASSWORD) is None


async def test_changing_the_password_keeps_this_browser_signed_in_and_says_so(
    client: httpx.AsyncClient, me: CurrentOrganiser
) -> None:
    await change_password(client, factories.PASSWORD, NEW_PASSWORD)

    page = await client.get(ACCOUNT, headers=ENGLISH)

    assert page.status_code == 200
    assert "Your password has been changed. Every other browser has been signed out." in page.text


async def test_changing_the_password_signs_every_other_browser_out(
    client: httpx.AsyncClient, elsewhere: httpx.AsyncClient, me: CurrentOrganiser
) -> None:
    await sign_in(elsewhere, me)
    assert (await elsewhere.get(ACCOUNT)).status_code == 200

    await change_password(client, factories.PASSWORD, NEW_PASSWORD)

    later = await elsewhere.get(ACCOUNT)
    assert later.status_code in {302, 303}
    assert later.headers["location"] == f"/login?next={ACCOUNT}"


async def test_a_new_token_is_shown_once_after_the_redirect(
    client: httpx.AsyncClient, me: CurrentOrganiser
) -> None:
    response = await submit(
        client, ACCOUNT, f"{ACCOUNT}/tokens", {"label": "CRM import"}, headers=ENGLISH
    )
    assert response.status_code == 303
    assert response.headers["location"] == f"{ACCOUNT}#tokens"

    first = await client.get(ACCOUNT, headers=ENGLISH)
    shown = re.search(r'<code class="ticket-code" id="new-token">(tp_[\w-]+)</code>', first.text)
    again = await client.get(ACCOUNT, headers=ENGLISH)

    assert shown, first.text
    assert "Copy it now: it will not be shown again." in first.text
    assert shown.group(1) not in again.text
    assert "new-token" not in again.text
    assert await api_status(client, shown.group(1)) == 200


async def test_my_tokens_are_listed_with_label_and_status(
    client: httpx.AsyncClient, me: CurrentOrganiser
) -> None:
    await create_own_api_token(me.id, "CRM import")
    await create_own_api_token(me.id, "Website")
    await ApiToken.update({ApiToken.revoked_at: ApiToken.created_at}).where(
        ApiToken.label == "Website"
    )

    page = await client.get(ACCOUNT, headers=ENGLISH)

    rows = re.findall(r"<tr>\s*<td>([^<]*)</td>.*?</tr>", page.text, re.S)
    assert rows == ["CRM import", "Website"]
    assert page.text.count("revoked on ") == 1
    assert page.text.count("<td>never</td>") == 2


async def test_another_organisers_tokens_are_not_listed(
    client: httpx.AsyncClient, me: CurrentOrganiser
) -> None:
    other = await factories.organiser()
    await create_own_api_token(other.id, "Someone else's import")

    page = await client.get(ACCOUNT, headers=ENGLISH)

    assert "Someone else" not in page.text
    assert "You have no API tokens." in page.text


async def test_revoking_a_token_asks_first_then_ends_it(
    client: httpx.AsyncClient, me: CurrentOrganiser
) -> None:
    token = await create_own_api_token(me.id, "CRM import")
    [row] = await ApiToken.select(ApiToken.id)
    confirm = f"{ACCOUNT}/tokens/{row['id']}/revoke"

    question = await client.get(confirm, headers=ENGLISH)
    assert question.status_code == 200
    assert "Revoke the API token?" in question.text
    assert await api_status(client, token) == 200

    response = await submit(client, confirm, confirm)

    assert response.status_code == 303
    assert await api_status(client, token) == 401
    page = await client.get(ACCOUNT, headers=ENGLISH)
    assert "The API token has been revoked." in page.text


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_another_organisers_token_can_be_neither_seen_nor_revoked(
    client: httpx.AsyncClient, me: CurrentOrganiser, method: str
) -> None:
    other = await factories.organiser()
    token = await create_own_api_token(other.id, "Someone else's import")
    [row] = await ApiToken.select(ApiToken.id)
    path = f"{ACCOUNT}/tokens/{row['id']}/revoke"

    if method == "GET":
        response = await client.get(path)
    else:
        response = await submit(client, ACCOUNT, path)

    assert response.status_code == 404
    assert await api_status(client, token) == 200
