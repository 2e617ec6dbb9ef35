"""Custom questions: organisers set them, registrants answer them, the roster shows them."""

from __future__ import annotations

import csv
import io
from typing import Any

import httpx
import pytest

from tests import factories
from tests.registrations.helpers import (
    error_fields,
    problem_code,
    register,
    register_ok,
    registration_count,
    roster,
    token_of,
)
from treffpunkt.events.services import EventView
from treffpunkt.registrations.questions import replace_questions
from treffpunkt.registrations.schemas import QuestionSpec

pytestmark = pytest.mark.anyio

QUESTIONS: list[dict[str, Any]] = [
    {"key": "diet", "kind": "short_text", "label": "Ernährung"},
    {
        "key": "topics",
        "kind": "multiple_choice",
        "label": "Themen",
        "options": ["Glasfaser", "WLAN", "Förderung"],
    },
    {
        "key": "slot",
        "kind": "single_choice",
        "label": "Zeitfenster",
        "options": ["Vormittag", "Nachmittag"],
        "required": True,
    },
    {"key": "motivation", "kind": "long_text", "label": "Motivation", "help_text": "Warum?"},
    {"key": "parking", "kind": "yes_no", "label": "Parkplatz benötigt"},
]
STORED_QUESTIONS = [
    {"help_text": "", "options": [], "required": False, **question} for question in QUESTIONS
]


async def event_with_questions() -> tuple[EventView, dict[str, str]]:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    await replace_questions(event.id, [QuestionSpec(**q) for q in QUESTIONS])
    return event, auth


async def put_questions(
    client: httpx.AsyncClient, slug: str, auth: dict[str, str], questions: list[dict[str, Any]]
) -> httpx.Response:
    return await client.put(f"/api/v1/events/{slug}/questions", json=questions, headers=auth)


async def test_putting_questions_answers_them_in_full(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await put_questions(client, event.slug, auth, QUESTIONS)

    assert response.status_code == 200
    assert response.json() == STORED_QUESTIONS


async def test_questions_are_public_to_read(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    await put_questions(client, event.slug, auth, QUESTIONS)

    response = await client.get(f"/api/v1/events/{event.slug}/questions")

    assert response.status_code == 200
    assert response.json() == STORED_QUESTIONS


async def test_putting_questions_replaces_the_old_ones(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    await put_questions(client, event.slug, auth, QUESTIONS)

    await put_questions(client, event.slug, auth, [QUESTIONS[4]])

    response = await client.get(f"/api/v1/events/{event.slug}/questions")
    assert response.json() == [STORED_QUESTIONS[4]]


async def test_putting_questions_without_a_token_answers_401(client: httpx.AsyncClient) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await put_questions(client, event.slug, {}, QUESTIONS)

    assert response.status_code == 401
    assert problem_code(response) == "not_authenticated"


async def test_putting_questions_on_someone_elses_event_is_forbidden(
    client: httpx.AsyncClient,
) -> None:
    owner, _ = await factories.organiser_with_token()
    event = await factories.event(owner)
    _, stranger = await factories.organiser_with_token()

    response = await put_questions(client, event.slug, stranger, QUESTIONS)

    assert response.status_code == 403
    assert problem_code(response) == "forbidden"
    assert (await client.get(f"/api/v1/events/{event.slug}/questions")).json() == []


@pytest.mark.parametrize(
    ("questions", "field"),
    [
        pytest.param(
            [
                {"key": "diet", "kind": "short_text", "label": "Ernährung"},
                {"key": "diet", "kind": "long_text", "label": "Noch einmal"},
            ],
            "questions[1].key",
            id="duplicate-key",
        ),
        pytest.param(
            [{"key": "slot", "kind": "single_choice", "label": "Wann?", "options": ["Früh"]}],
            "questions[0].options",
            id="single-choice-with-one-option",
        ),
        pytest.param(
            [{"key": "topics", "kind": "multiple_choice", "label": "Was?", "options": []}],
            "questions[0].options",
            id="multiple-choice-without-options",
        ),
        pytest.param(
            [{"key": "diet", "kind": "short_text", "label": "Essen", "options": ["a", "b"]}],
            "questions[0].options",
            id="options-on-a-text-question",
        ),
        pytest.param(
            [{"key": "parking", "kind": "yes_no", "label": "Parken?", "options": ["ja", "nein"]}],
            "questions[0].options",
            id="options-on-a-yes-no-question",
        ),
        pytest.param(
            [{"key": "slot", "kind": "single_choice", "label": "Wann?", "options": ["a", "a"]}],
            "questions[0].options",
            id="option-twice",
        ),
    ],
)
async def test_putting_invalid_questions_is_refused_naming_the_field(
    client: httpx.AsyncClient, questions: list[dict[str, Any]], field: str
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await put_questions(client, event.slug, auth, questions)

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert error_fields(response) == [field]
    assert (await client.get(f"/api/v1/events/{event.slug}/questions")).json() == []


@pytest.mark.parametrize(
    "question",
    [
        pytest.param({"key": "Diet", "kind": "short_text", "label": "x"}, id="upper-case-key"),
        pytest.param({"key": "diet", "kind": "essay", "label": "x"}, id="unknown-kind"),
        pytest.param({"key": "diet", "kind": "short_text", "label": ""}, id="empty-label"),
    ],
)
async def test_putting_malformed_questions_is_refused(
    client: httpx.AsyncClient, question: dict[str, Any]
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await put_questions(client, event.slug, auth, [question])

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"


VALID = {"slot": "Vormittag"}


@pytest.mark.parametrize(
    ("answers", "field"),
    [
        pytest.param({**VALID, "diet": True}, "answers.diet", id="short-text-given-a-bool"),
        pytest.param({**VALID, "diet": 5}, "answers.diet", id="short-text-given-a-number"),
        pytest.param({**VALID, "diet": "x" * 201}, "answers.diet", id="short-text-too-long"),
        pytest.param(
            {**VALID, "motivation": ["a"]}, "answers.motivation", id="long-text-given-a-list"
        ),
        pytest.param(
            {**VALID, "motivation": "x" * 2_001}, "answers.motivation", id="long-text-too-long"
        ),
        pytest.param({"slot": "Abends"}, "answers.slot", id="single-choice-not-an-option"),
        pytest.param({"slot": ["Vormittag"]}, "answers.slot", id="single-choice-given-a-list"),
        pytest.param(
            {**VALID, "topics": ["Glasfaser", "Kabel"]},
            "answers.topics",
            id="multiple-choice-not-an-option",
        ),
        pytest.param(
            {**VALID, "topics": "Glasfaser"}, "answers.topics", id="multiple-choice-given-text"
        ),
        pytest.param(
            {**VALID, "topics": ["WLAN", "WLAN"]}, "answers.topics", id="multiple-choice-twice"
        ),
        pytest.param({**VALID, "parking": "yes"}, "answers.parking", id="yes-no-given-text"),
        pytest.param({"diet": "vegan"}, "answers.slot", id="required-missing"),
        pytest.param({"slot": ""}, "answers.slot", id="required-empty"),
        pytest.param({**VALID, "shoe_size": "42"}, "answers.shoe_size", id="unknown-key"),
    ],
)
async def test_invalid_answers_are_refused_naming_the_answer(
    client: httpx.AsyncClient, answers: dict[str, Any], field: str
) -> None:
    event, _ = await event_with_questions()

    response = await register(client, event.slug, answers=answers)

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert error_fields(response) == [field]
    assert await registration_count() == 0


async def test_answers_at_the_length_limits_are_accepted(client: httpx.AsyncClient) -> None:
    event, _ = await event_with_questions()

    response = await register(
        client, event.slug, answers={**VALID, "diet": "x" * 200, "motivation": "y" * 2_000}
    )

    assert response.status_code == 201


async def test_valid_answers_are_stored_canonically_in_the_roster(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await event_with_questions()

    await register_ok(
        client,
        event.slug,
        answers={
            "diet": "  vegetarisch  ",
            "topics": ["Förderung", "Glasfaser"],
            "slot": "Nachmittag",
            "motivation": "Wir planen den Ausbau.",
            "parking": False,
        },
    )

    rows = (await roster(client, event.slug, auth))["items"]
    assert [row["answers"] for row in rows] == [
        {
            "diet": "vegetarisch",
            "topics": ["Glasfaser", "Förderung"],
            "slot": "Nachmittag",
            "motivation": "Wir planen den Ausbau.",
            "parking": False,
        }
    ]


async def test_unanswered_optional_questions_are_left_out(client: httpx.AsyncClient) -> None:
    event, auth = await event_with_questions()

    await register_ok(client, event.slug, answers={"slot": "Vormittag", "diet": "", "topics": []})

    rows = (await roster(client, event.slug, auth))["items"]
    assert [row["answers"] for row in rows] == [{"slot": "Vormittag"}]


async def test_the_csv_has_one_column_per_question_headed_by_its_label(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await event_with_questions()
    await register_ok(
        client,
        event.slug,
        answers={"topics": ["WLAN", "Glasfaser"], "slot": "Vormittag", "parking": True},
    )

    response = await client.get(f"/api/v1/events/{event.slug}/registrations.csv", headers=auth)

    header, row = list(csv.reader(io.StringIO(response.content.decode("utf-8-sig")), delimiter=";"))
    labels = ["Ernährung", "Themen", "Zeitfenster", "Motivation", "Parkplatz benötigt"]
    assert header[-5:] == labels
    assert row[-5:] == ["", "Glasfaser, WLAN", "Vormittag", "", "yes"]


async def test_self_service_change_revalidates_answers(client: httpx.AsyncClient) -> None:
    event, auth = await event_with_questions()
    await register_ok(client, event.slug, email="anna@example.org", answers=VALID)
    token = await token_of(client, event.slug, auth, "anna@example.org")

    response = await client.patch(
        f"/api/v1/registrations/{token}", json={"answers": {"slot": "Mitternacht"}}
    )

    assert response.status_code == 422
    assert error_fields(response) == ["answers.slot"]
    assert (await client.get(f"/api/v1/registrations/{token}")).json()["answers"] == VALID


async def test_self_service_change_stores_valid_answers_canonically(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await event_with_questions()
    await register_ok(client, event.slug, email="anna@example.org", answers=VALID)
    token = await token_of(client, event.slug, auth, "anna@example.org")

    response = await client.patch(
        f"/api/v1/registrations/{token}",
        json={"answers": {"slot": "Nachmittag", "topics": ["WLAN", "Glasfaser"]}},
    )

    assert response.status_code == 200
    assert response.json()["answers"] == {"slot": "Nachmittag", "topics": ["Glasfaser", "WLAN"]}
