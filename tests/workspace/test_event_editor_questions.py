"""The custom questions editor: rows to add, move and remove, saved through replace_questions."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from tests import factories
from tests.sessions import sign_in
from tests.workspace.editor_forms import error_of, form_fields, summary_links
from treffpunkt.events.services import EventView
from treffpunkt.registrations.questions import questions_of, replace_questions
from treffpunkt.registrations.schemas import QuestionSpec
from treffpunkt.web.language import LANGUAGE_COOKIE

pytestmark = pytest.mark.anyio

DIET = QuestionSpec(
    key="diet", kind="single_choice", label="Essen", options=["vegan", "vegetarisch", "alles"]
)
TOPIC = QuestionSpec(key="topic", kind="long_text", label="Ihr Thema", required=True)


@pytest.fixture
async def event(client: httpx.AsyncClient) -> EventView:
    owner = await factories.organiser()
    await sign_in(client, owner)
    client.cookies.set(LANGUAGE_COOKIE, "en")
    return await factories.event(owner, publish=False)


def page(event: EventView) -> str:
    return f"/organiser/events/{event.slug}/questions"


def row(index: int, **fields: Any) -> dict[str, Any]:
    return {f"questions-{index}-{name}": value for name, value in fields.items()}


async def send(
    client: httpx.AsyncClient, event: EventView, action: str, rows: dict[str, Any]
) -> httpx.Response:
    """The page's form as shown, with `rows` typed over it, sent by the `action` button."""
    shown = form_fields((await client.get(page(event))).text, page(event))
    return await client.post(page(event), data={**shown, **rows, "action": action})


async def test_two_questions_typed_into_blank_rows_are_saved_in_order(
    client: httpx.AsyncClient, event: EventView
) -> None:
    add_row = await send(client, event, "add", row(0, label="Ihr Thema", kind="long_text"))
    rows = {
        **form_fields(add_row.text, page(event)),
        **row(0, label="Ihr Thema", kind="long_text", required="yes"),
        **row(1, label="Essen", kind="single_choice", options="vegan\nvegetarisch\r\nalles"),
        "action": "save",
    }

    saved = await client.post(page(event), data=rows)

    assert saved.status_code == 303
    assert await questions_of(event.id) == [
        QuestionSpec(key="ihr_thema", kind="long_text", label="Ihr Thema", required=True),
        QuestionSpec(
            key="essen",
            kind="single_choice",
            label="Essen",
            options=["vegan", "vegetarisch", "alles"],
        ),
    ]


async def test_add_another_shows_one_more_row_and_saves_nothing(
    client: httpx.AsyncClient, event: EventView
) -> None:
    response = await send(client, event, "add", row(0, label="Ihr Thema"))

    assert response.status_code == 200
    assert 'name="rows" value="2"' in response.text
    assert 'value="Ihr Thema"' in response.text
    assert await questions_of(event.id) == []


async def test_moving_a_question_up_and_saving_stores_the_new_order(
    client: httpx.AsyncClient, event: EventView
) -> None:
    await replace_questions(event.id, [DIET, TOPIC])
    moved = await send(client, event, "up-1", {})

    saved = await client.post(
        page(event), data={**form_fields(moved.text, page(event)), "action": "save"}
    )

    assert saved.status_code == 303
    assert [q.key for q in await questions_of(event.id)] == ["topic", "diet"]


async def test_moving_a_question_down_shows_it_lower(
    client: httpx.AsyncClient, event: EventView
) -> None:
    await replace_questions(event.id, [DIET, TOPIC])

    moved = await send(client, event, "down-0", {})

    assert moved.text.index('value="Ihr Thema"') < moved.text.index('value="Essen"')


async def test_removing_a_question_and_saving_drops_it_keeping_the_others_keys(
    client: httpx.AsyncClient, event: EventView
) -> None:
    await replace_questions(event.id, [DIET, TOPIC])
    removed = await send(client, event, "remove-0", {})

    await client.post(
        page(event), data={**form_fields(removed.text, page(event)), "action": "save"}
    )

    assert await questions_of(event.id) == [TOPIC]


async def test_a_choice_with_one_option_is_refused_next_to_its_options(
    client: httpx.AsyncClient, event: EventView
) -> None:
    response = await send(
        client, event, "save", row(0, label="Essen", kind="single_choice", options="vegan")
    )

    assert response.status_code == 400
    assert error_of(response.text, "questions-0-options") == "a choice needs at least two options"
    assert summary_links(response.text) == ["questions-0-options"]
    assert ">vegan</textarea>" in response.text
    assert await questions_of(event.id) == []


async def test_options_without_a_question_are_refused_next_to_the_question(
    client: httpx.AsyncClient, event: EventView
) -> None:
    response = await send(client, event, "save", row(0, kind="single_choice", options="a\nb"))

    assert response.status_code == 400
    assert error_of(response.text, "questions-0-label") == "must not be empty"


async def test_text_questions_with_options_are_refused_with_the_services_words(
    client: httpx.AsyncClient, event: EventView
) -> None:
    response = await send(client, event, "save", row(0, label="Thema", options="a\nb"))

    assert error_of(response.text, "questions-0-options") == "only choices have options"


async def test_two_questions_with_the_same_label_get_keys_of_their_own(
    client: httpx.AsyncClient, event: EventView
) -> None:
    add_row = await send(client, event, "add", row(0, label="Thema"))
    rows = {
        **form_fields(add_row.text, page(event)),
        **row(0, label="Thema"),
        **row(1, label="Thema"),
    }

    await client.post(page(event), data={**rows, "action": "save"})

    assert [q.key for q in await questions_of(event.id)] == ["thema", "thema_2"]
