"""Export by the secret link: everything stored about one registration, and no secret."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests.privacy.helpers import ANNA, anna_registered, feedback_given
from tests.registrations.helpers import problem_code
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio


async def exported(client: httpx.AsyncClient, token: str) -> dict[str, Any]:
    response = await client.get(f"/api/v1/registrations/{token}/export")
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def test_the_export_holds_every_stored_column_but_the_secrets(
    client: httpx.AsyncClient,
) -> None:
    anna = await anna_registered(client)

    body = await exported(client, anna.token)

    columns = {column._meta.name for column in Registration._meta.columns}
    assert set(body["registration"]) == columns - {"token_hash", "link_nonce"}
    assert {key: body["registration"][key] for key in ANNA} == ANNA


async def test_the_export_holds_no_part_of_the_secret_link(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)
    row = await Registration.select(Registration.token_hash, Registration.link_nonce).first()
    assert row is not None

    response = await client.get(f"/api/v1/registrations/{anna.token}/export")

    for secret in (anna.token, row["token_hash"], row["link_nonce"]):
        assert secret not in response.text


async def test_the_export_names_each_answer_with_its_question(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)

    body = await exported(client, anna.token)

    assert body["answers"] == [{"key": "diet", "question": "Essenswünsche", "answer": "ohne Nüsse"}]


async def test_the_export_summarises_the_event(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)

    body = await exported(client, anna.token)

    assert body["event"]["slug"] == anna.event.slug
    assert body["event"]["title"] == anna.event.title
    assert body["event"]["url"] == f"http://testserver/events/{anna.event.slug}"


async def test_the_export_lists_the_mails_without_their_content(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)

    body = await exported(client, anna.token)

    assert [(m["kind"], m["recipient"], m["status"]) for m in body["mails"]] == [
        ("registration_confirmed", "anna@example.org", "pending")
    ]
    assert set(body["mails"][0]) == {
        "kind",
        "recipient",
        "language",
        "status",
        "attempts",
        "created_at",
        "sent_at",
    }


async def test_the_export_holds_the_check_in(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client, checked_in=True)

    body = await exported(client, anna.token)

    assert body["check_in"]["checked_in_at"] is not None


async def test_the_export_holds_the_feedback_given(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)
    await feedback_given(anna, "Die Pausen")

    body = await exported(client, anna.token)

    assert body["feedback"]["answers"] == [
        {"key": "best", "question": "Was war gut?", "answer": "Die Pausen"}
    ]


async def test_without_feedback_the_export_says_none(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)

    assert (await exported(client, anna.token))["feedback"] is None


async def test_an_unknown_link_exports_nothing(client: httpx.AsyncClient) -> None:
    response = await client.get("/api/v1/registrations/kZ3qVb7XwN2pLr5TgH8sYcAA/export")

    assert response.status_code == 404
    assert problem_code(response) == "registration_not_found"


async def test_the_export_is_never_cached(client: httpx.AsyncClient) -> None:
    anna = await anna_registered(client)

    response = await client.get(f"/api/v1/registrations/{anna.token}/export")

    assert response.headers["cache-control"] == "no-store"
