"""The registrant's pages: download my data, erase my data (confirm, POST, see the outcome)."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.privacy.helpers import anna_registered, registration_row
from tests.sessions import hidden_value

pytestmark = pytest.mark.anyio


async def erase_through_the_page(client: httpx.AsyncClient, token: str) -> httpx.Response:
    confirm = await client.get(f"/registrations/{token}/erase")
    assert confirm.status_code == 200
    return await client.post(
        f"/registrations/{token}/erase",
        data={"_csrf_token": hidden_value(confirm.text, "_csrf_token")},
    )


async def test_the_manage_page_offers_download_and_erasure(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)

    page = await client.get(f"/registrations/{anna.token}")

    assert f'href="/registrations/{anna.token}/my-data.json"' in page.text
    assert f'href="/registrations/{anna.token}/erase"' in page.text


async def test_download_my_data_is_a_json_attachment_of_the_export(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client)

    response = await client.get(f"/registrations/{anna.token}/my-data.json")

    assert response.status_code == 200
    assert response.headers["content-disposition"].startswith("attachment;")
    assert response.headers["cache-control"] == "no-store"
    exported = (await client.get(f"/api/v1/registrations/{anna.token}/export")).json()
    assert json.loads(response.content) == exported


async def test_the_confirmation_page_says_what_erasure_does_and_changes_nothing(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client)

    page = await client.get(f"/registrations/{anna.token}/erase")

    assert page.status_code == 200
    assert f'action="/registrations/{anna.token}/erase"' in page.text
    assert (await registration_row(anna.registration_id))["erased_at"] is None


async def test_erasing_through_the_page_redirects_to_the_outcome(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client)

    response = await erase_through_the_page(client, anna.token)

    assert response.status_code == 303
    assert response.headers["location"] == "/privacy/erased"
    assert (await registration_row(anna.registration_id))["erased_at"] is not None


async def test_the_outcome_page_says_the_data_is_gone_and_a_cancel_is_coming(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client)
    await erase_through_the_page(client, anna.token)

    page = await client.get("/privacy/erased")

    assert page.status_code == 200
    assert "Ihre Daten wurden gelöscht" in page.text
    assert "Kalender" in page.text
    assert "Anna" not in page.text


async def test_the_outcome_page_without_an_erasure_leads_to_the_catalogue(
    client: httpx.AsyncClient,
) -> None:
    response = await client.get("/privacy/erased")

    assert response.status_code == 303
    assert response.headers["location"] == "/events"


async def test_after_erasure_the_pages_of_the_link_are_gone(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)
    await erase_through_the_page(client, anna.token)

    for path in ("", "/erase", "/my-data.json", "/cancel", "/ticket"):
        response = await client.get(f"/registrations/{anna.token}{path}")
        assert response.status_code == 404, path


async def test_the_erase_form_needs_the_csrf_token(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)

    response = await client.post(f"/registrations/{anna.token}/erase")

    assert response.status_code == 403
    assert (await registration_row(anna.registration_id))["erased_at"] is None
