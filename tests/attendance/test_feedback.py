"""After the event: feedback questions, thanking attendees, the feedback form and its results."""

from __future__ import annotations

import asyncio
import contextlib
import re
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest

from tests import factories
from tests.audit.helpers import entries
from tests.registrations.helpers import (
    error_fields,
    from_now,
    id_of,
    iso,
    move_event_into_the_past,
    outbox,
    problem_code,
    register_ok,
)
from tests.sessions import hidden_value, sign_in
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.attendance.codes import check_in_code
from treffpunkt.attendance.tables import FeedbackResponse
from treffpunkt.events.services import EventView
from treffpunkt.notifications.messages import render
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.services import token_for

pytestmark = pytest.mark.anyio

ENGLISH = {"Accept-Language": "en"}
CSRF_COOKIE = "treffpunkt_csrf"
QUESTIONS: list[dict[str, Any]] = [
    {"key": "overall", "kind": "rating", "label": "How was it overall?", "required": True},
    {"key": "venue", "kind": "rating", "label": "How was the venue?"},
    {"key": "comments", "kind": "text", "label": "Anything else?"},
]
ANSWERS = {  # who answers what in the results tests; Clara did not come
    "anna": {"overall": "5", "venue": "3", "comments": "Sehr gut"},
    "bernd": {"overall": "4", "venue": "5", "comments": ""},
    "emil": {"overall": "4", "venue": "", "comments": "Mehr Pausen"},
}
PEOPLE = ("anna", "bernd", "clara", "emil")
CAME = ("anna", "bernd", "emil")


@dataclass(frozen=True)
class Finished:
    """An event Anna, Bernd and Emil came to and Clara missed, with three feedback questions."""

    owner: CurrentOrganiser
    auth: dict[str, str]
    event: EventView
    ids: dict[str, int]

    @property
    def api(self) -> str:
        return f"/api/v1/events/{self.event.slug}"


def question(number: int, kind: str = "rating") -> dict[str, Any]:
    return {"key": f"q{number}", "kind": kind, "label": f"Question {number}"}


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


async def event_with_attendees(client: httpx.AsyncClient, *, over: bool = True) -> Finished:
    owner, auth = await factories.organiser_with_token()
    starts_at = from_now(hours=1)
    event = await factories.event(
        owner, starts_at=iso(starts_at), ends_at=iso(starts_at + timedelta(hours=3))
    )
    ids = {}
    for who in PEOPLE:
        email = f"{who}@example.org"
        await register_ok(client, event.slug, name=who.title(), email=email, language="en")
        ids[who] = await id_of(client, event.slug, auth, email)
    for who in CAME:
        response = await client.post(
            f"/api/v1/events/{event.slug}/check-ins",
            json={"code": check_in_code(event.id, ids[who])},
            headers=auth,
        )
        assert response.status_code == 200, response.text
    put = await client.put(
        f"/api/v1/events/{event.slug}/feedback-questions", json=QUESTIONS, headers=auth
    )
    assert put.status_code == 200, put.text
    if over:
        await move_event_into_the_past(event.slug)
    return Finished(owner, auth, event, ids)


async def answer(
    client: httpx.AsyncClient, at: Finished, who: str, answers: dict[str, str]
) -> httpx.Response:
    """Open the feedback page from the mail's link, then send the form as a browser would."""
    token = await token_for(at.ids[who])
    page = await client.get(f"/feedback/{token}", headers=ENGLISH)
    assert page.status_code == 200
    csrf = client.cookies[CSRF_COOKIE]
    if 'name="_csrf_token"' in page.text:
        csrf = hidden_value(page.text, "_csrf_token")
    form = {"_csrf_token": csrf, **{f"answers.{k}": v for k, v in answers.items()}}
    return await client.post(f"/feedback/{token}", data=form, headers=ENGLISH)


async def stored_answers() -> list[dict[str, Any]]:
    return list(
        await FeedbackResponse.select(FeedbackResponse.registration, FeedbackResponse.answers)
        .order_by(FeedbackResponse.id)
        .output(load_json=True)
    )


async def thank_you_recipients() -> list[str]:
    return [row["recipient"] for row in await outbox() if row["kind"] == "thank_you"]


class HeldInserts:
    """Holds a table's INSERTs until `expected` have arrived (or a second has passed).

    It widens the window between a service's "done already?" check and its INSERT, so that
    a double submission races every time instead of now and then.
    """

    def __init__(self, expected: int) -> None:
        self.expected = expected
        self.arrived = 0
        self.all_there = asyncio.Event()

    def wrap(self, query: Any) -> Any:
        held = self

        class Held:
            def __getattr__(self, name: str) -> Any:
                attribute = getattr(query, name)
                if callable(attribute):
                    return lambda *args, **kwargs: held.wrap(attribute(*args, **kwargs))
                return attribute

            def __await__(self) -> Any:
                return held.run(query).__await__()

        return Held()

    async def run(self, query: Any) -> Any:
        self.arrived += 1
        if self.arrived >= self.expected:
            self.all_there.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self.all_there.wait(), timeout=1)
        return await query


# --- the questions ------------------------------------------------------------------------------


@pytest.mark.parametrize("count", [3, 5])
async def test_three_to_five_feedback_questions_are_taken(
    client: httpx.AsyncClient, count: int
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)
    questions = [question(n) for n in range(1, count + 1)]

    response = await client.put(
        f"/api/v1/events/{event.slug}/feedback-questions", json=questions, headers=auth
    )

    assert response.status_code == 200
    expected = [{**q, "required": False} for q in questions]
    assert response.json() == expected
    listed = await client.get(f"/api/v1/events/{event.slug}/feedback-questions", headers=auth)
    assert listed.json() == expected


@pytest.mark.parametrize("count", [0, 2, 6])
async def test_fewer_than_three_or_more_than_five_questions_are_refused(
    client: httpx.AsyncClient, count: int
) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await client.put(
        f"/api/v1/events/{event.slug}/feedback-questions",
        json=[question(n) for n in range(1, count + 1)],
        headers=auth,
    )

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert error_fields(response) == ["questions"]
    listed = await client.get(f"/api/v1/events/{event.slug}/feedback-questions", headers=auth)
    assert listed.json() == []


async def test_two_questions_with_one_key_are_refused(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await client.put(
        f"/api/v1/events/{event.slug}/feedback-questions",
        json=[question(1), question(2), {**question(3), "key": "q1"}],
        headers=auth,
    )

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"
    assert error_fields(response) == ["questions"]


async def test_a_question_of_an_unknown_kind_is_refused(client: httpx.AsyncClient) -> None:
    owner, auth = await factories.organiser_with_token()
    event = await factories.event(owner)

    response = await client.put(
        f"/api/v1/events/{event.slug}/feedback-questions",
        json=[question(1), question(2), question(3, kind="multiple_choice")],
        headers=auth,
    )

    assert response.status_code == 422
    assert problem_code(response) == "validation_error"


async def test_questions_can_no_longer_change_once_someone_answered(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_attendees(client)
    assert (await answer(client, at, "anna", ANSWERS["anna"])).status_code == 303

    response = await client.put(
        f"{at.api}/feedback-questions",
        json=[question(1), question(2), question(3)],
        headers=at.auth,
    )

    assert response.status_code == 409
    assert problem_code(response) == "feedback_answered"
    listed = await client.get(f"{at.api}/feedback-questions", headers=at.auth)
    assert [q["key"] for q in listed.json()] == ["overall", "venue", "comments"]


async def test_feedback_questions_of_another_organisers_event_are_forbidden(
    client: httpx.AsyncClient,
) -> None:
    owner = await factories.organiser()
    event = await factories.event(owner)
    _, stranger = await factories.organiser_with_token()

    response = await client.put(
        f"/api/v1/events/{event.slug}/feedback-questions",
        json=[question(1), question(2), question(3)],
        headers=stranger,
    )

    assert response.status_code == 403


# --- thanking attendees -------------------------------------------------------------------------


async def test_thank_you_before_the_end_is_refused(client: httpx.AsyncClient) -> None:
    at = await event_with_attendees(client, over=False)

    response = await client.post(f"{at.api}/thank-you", headers=at.auth)

    assert response.status_code == 409
    assert problem_code(response) == "event_not_over"
    assert await thank_you_recipients() == []


async def test_thank_you_after_the_end_goes_to_everyone_who_came(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_attendees(client)

    response = await client.post(f"{at.api}/thank-you", headers=at.auth)

    assert response.status_code == 202
    assert response.json() == {"recipients": 3}
    assert sorted(await thank_you_recipients()) == [
        "anna@example.org",
        "bernd@example.org",
        "emil@example.org",
    ]


async def test_thank_you_a_second_time_sends_nobody_again(client: httpx.AsyncClient) -> None:
    at = await event_with_attendees(client)
    await client.post(f"{at.api}/thank-you", headers=at.auth)

    response = await client.post(f"{at.api}/thank-you", headers=at.auth)

    assert response.status_code == 202
    assert response.json() == {"recipients": 0}
    assert len(await thank_you_recipients()) == 3


async def test_thank_you_sent_twice_at_once_thanks_everyone_once(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A double click on "thank attendees" must not mail anyone twice (invariant 4)."""
    at = await event_with_attendees(client)
    holder = HeldInserts(expected=2)
    insert = OutboxMessage.insert
    monkeypatch.setattr(
        OutboxMessage, "insert", lambda *rows, **kw: holder.wrap(insert(*rows, **kw))
    )

    responses = await asyncio.gather(
        *[client.post(f"{at.api}/thank-you", headers=at.auth) for _ in range(2)]
    )

    assert sorted(r.json()["recipients"] for r in responses) == [0, 3]
    assert sorted(await thank_you_recipients()) == [
        "anna@example.org",
        "bernd@example.org",
        "emil@example.org",
    ]


async def test_thank_you_mail_carries_the_feedback_link(client: httpx.AsyncClient) -> None:
    at = await event_with_attendees(client)
    await client.post(f"{at.api}/thank-you", headers=at.auth)
    row = (
        await OutboxMessage.select()
        .where((OutboxMessage.kind == "thank_you") & (OutboxMessage.registration == at.ids["anna"]))
        .first()
    )
    assert row is not None

    mail, name, recipient = await render(row, now=datetime.now(UTC))

    link = f"http://testserver/feedback/{await token_for(at.ids['anna'])}"
    assert link in mail.text
    assert f'href="{link}"' in mail.html
    assert (name, recipient) == ("Anna", "anna@example.org")


async def test_thank_you_for_another_organisers_event_is_forbidden(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_attendees(client)
    _, stranger = await factories.organiser_with_token()

    response = await client.post(f"{at.api}/thank-you", headers=stranger)

    assert response.status_code == 403
    assert await thank_you_recipients() == []


# --- the feedback form --------------------------------------------------------------------------


async def test_feedback_page_shows_the_questions_to_an_attendee(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_attendees(client)

    response = await client.get(f"/feedback/{await token_for(at.ids['anna'])}", headers=ENGLISH)

    assert response.status_code == 200
    assert re.findall(r'name="(answers\.\w+)"', response.text) == [
        *["answers.overall"] * 5,
        *["answers.venue"] * 5,
        "answers.comments",
    ]
    assert "How was it overall? (required)" in text(response.text)


async def test_an_answer_is_stored_and_answered_303_see_other_to_the_feedback_page(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_attendees(client)

    response = await answer(client, at, "anna", ANSWERS["anna"])

    assert response.status_code == 303
    assert response.headers["location"] == f"/feedback/{await token_for(at.ids['anna'])}"
    assert await stored_answers() == [
        {
            "registration": at.ids["anna"],
            "answers": {"overall": 5, "venue": 3, "comments": "Sehr gut"},
        }
    ]


async def test_an_attendee_answers_and_sees_the_thank_you(client: httpx.AsyncClient) -> None:
    at = await event_with_attendees(client)
    response = await answer(client, at, "anna", ANSWERS["anna"])

    page = await client.get(response.headers["location"], headers=ENGLISH)

    assert page.status_code == 200
    assert '<div class="notice notice-ok" role="status"><p>Thank you for your feedback!</p>' in (
        page.text
    )


async def test_reloading_after_answering_says_the_feedback_was_given_and_stores_nothing_more(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_attendees(client)
    response = await answer(client, at, "anna", ANSWERS["anna"])
    await client.get(response.headers["location"], headers=ENGLISH)

    reloaded = await client.get(response.headers["location"], headers=ENGLISH)

    assert "You have given your feedback already. Thank you!" in reloaded.text
    assert "Thank you for your feedback!" not in reloaded.text
    assert len(await stored_answers()) == 1


async def test_a_second_answer_is_refused(client: httpx.AsyncClient) -> None:
    at = await event_with_attendees(client)
    await answer(client, at, "anna", ANSWERS["anna"])

    response = await answer(client, at, "anna", {"overall": "1", "venue": "1", "comments": "x"})

    assert response.status_code == 409
    assert '<p class="form-error" role="alert">you have given your feedback already</p>' in (
        response.text
    )
    assert [row["answers"]["overall"] for row in await stored_answers()] == [5]


async def test_a_double_submitted_answer_is_stored_once_and_the_rest_refused_with_409(
    client: httpx.AsyncClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Someone taps "Send" several times: one answer counts, the others are told so, no 500."""
    at = await event_with_attendees(client)
    token = await token_for(at.ids["anna"])
    page = await client.get(f"/feedback/{token}", headers=ENGLISH)
    form = {"_csrf_token": hidden_value(page.text, "_csrf_token"), "answers.overall": "5"}
    holder = HeldInserts(expected=5)
    insert = FeedbackResponse.insert
    monkeypatch.setattr(
        FeedbackResponse, "insert", lambda *rows, **kw: holder.wrap(insert(*rows, **kw))
    )

    responses = await asyncio.gather(
        *[client.post(f"/feedback/{token}", data=form, headers=ENGLISH) for _ in range(5)]
    )

    assert sorted(r.status_code for r in responses) == [303, 409, 409, 409, 409]
    assert len(await stored_answers()) == 1


async def test_an_invalid_rating_is_refused_with_the_message_at_the_field(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_attendees(client)

    response = await answer(client, at, "anna", {**ANSWERS["anna"], "venue": "7"})

    assert response.status_code == 422
    assert (
        '<fieldset id="answer-venue" tabindex="-1" aria-invalid="true" '
        'aria-describedby="answers-venue-error">' in response.text
    )
    assert (
        '<p class="field-error" id="answers-venue-error">must be a rating from 1 to 5</p>'
        in response.text
    )
    assert await stored_answers() == []


async def test_a_refused_form_keeps_the_answers_given(client: httpx.AsyncClient) -> None:
    at = await event_with_attendees(client)

    response = await answer(client, at, "anna", {**ANSWERS["anna"], "venue": "7"})

    assert '<input type="radio" name="answers.overall" value="5" checked>' in response.text
    assert ">Sehr gut</textarea>" in response.text


async def test_a_missing_required_answer_is_refused(client: httpx.AsyncClient) -> None:
    at = await event_with_attendees(client)

    response = await answer(client, at, "anna", {"venue": "3", "comments": "Gut"})

    assert response.status_code == 422
    assert '<p class="field-error" id="answers-overall-error">is required</p>' in response.text
    assert await stored_answers() == []


async def test_a_required_text_answer_of_only_spaces_is_refused(
    client: httpx.AsyncClient,
) -> None:
    """Like the registration form, where a name of spaces "must not be empty"."""
    at = await event_with_attendees(client)
    required_text = [*QUESTIONS[:2], {**QUESTIONS[2], "required": True}]
    put = await client.put(f"{at.api}/feedback-questions", json=required_text, headers=at.auth)
    assert put.status_code == 200, put.text

    response = await answer(client, at, "anna", {"overall": "4", "comments": "   "})

    assert response.status_code == 422
    assert '<p class="field-error" id="answers-comments-error">is required</p>' in response.text
    assert await stored_answers() == []


async def test_a_no_show_cannot_answer(client: httpx.AsyncClient) -> None:
    at = await event_with_attendees(client)

    response = await answer(client, at, "clara", ANSWERS["anna"])

    assert response.status_code == 409
    assert '<p class="form-error" role="alert">only people who came can give feedback</p>' in (
        response.text
    )
    assert await stored_answers() == []


async def test_a_no_show_sees_no_feedback_form(client: httpx.AsyncClient) -> None:
    at = await event_with_attendees(client)

    response = await client.get(f"/feedback/{await token_for(at.ids['clara'])}", headers=ENGLISH)

    assert response.status_code == 200
    assert "Feedback is open to those who took part." in response.text
    assert 'name="answers.' not in response.text


async def test_feedback_form_without_the_csrf_token_is_refused(client: httpx.AsyncClient) -> None:
    at = await event_with_attendees(client)
    token = await token_for(at.ids["anna"])
    await client.get(f"/feedback/{token}")

    response = await client.post(f"/feedback/{token}", data={"answers.overall": "5"})

    assert response.status_code == 403
    assert await stored_answers() == []


async def test_feedback_page_of_an_unknown_link_is_not_found(client: httpx.AsyncClient) -> None:
    response = await client.get("/feedback/not-a-real-token", headers=ENGLISH)

    assert response.status_code == 404


# --- results ------------------------------------------------------------------------------------


async def answered_by_everyone_who_came(client: httpx.AsyncClient) -> Finished:
    at = await event_with_attendees(client)
    for who, answers in ANSWERS.items():
        assert (await answer(client, at, who, answers)).status_code == 303
    return at


async def test_feedback_results_count_average_and_distribute_exactly(
    client: httpx.AsyncClient,
) -> None:
    at = await answered_by_everyone_who_came(client)

    response = await client.get(f"{at.api}/feedback", headers=at.auth)

    assert response.status_code == 200
    assert response.json() == {
        "responses": 3,
        "questions": [
            {
                "key": "overall",
                "label": "How was it overall?",
                "kind": "rating",
                "answers": 3,
                "average": 4.33,
                "distribution": {"1": 0, "2": 0, "3": 0, "4": 2, "5": 1},
                "texts": [],
            },
            {
                "key": "venue",
                "label": "How was the venue?",
                "kind": "rating",
                "answers": 2,
                "average": 4.0,
                "distribution": {"1": 0, "2": 0, "3": 1, "4": 0, "5": 1},
                "texts": [],
            },
            {
                "key": "comments",
                "label": "Anything else?",
                "kind": "text",
                "answers": 2,
                "average": None,
                "distribution": {},
                "texts": ["Sehr gut", "Mehr Pausen"],
            },
        ],
    }


async def test_feedback_results_without_answers_have_no_average(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_attendees(client)

    response = await client.get(f"{at.api}/feedback", headers=at.auth)

    assert response.json()["responses"] == 0
    assert [(q["answers"], q["average"]) for q in response.json()["questions"]] == [
        (0, None),
        (0, None),
        (0, None),
    ]


async def test_feedback_results_of_another_organisers_event_are_forbidden(
    client: httpx.AsyncClient,
) -> None:
    at = await answered_by_everyone_who_came(client)
    _, stranger = await factories.organiser_with_token()

    response = await client.get(f"{at.api}/feedback", headers=stranger)

    assert response.status_code == 403


async def test_feedback_results_page_shows_averages_distributions_and_texts(
    client: httpx.AsyncClient,
) -> None:
    at = await answered_by_everyone_who_came(client)
    await sign_in(client, at.owner)

    response = await client.get(f"/organiser/events/{at.event.slug}/feedback", headers=ENGLISH)

    assert response.status_code == 200
    sections = re.findall(r'<section class="feedback-result">(.*?)</section>', response.text, re.S)
    assert [text(section) for section in sections] == [
        "How was it overall? 3 answers · average 4.33 of 5 Distribution of ratings "
        "Rating Answers 1 0 2 0 3 0 4 2 5 1",
        "How was the venue? 2 answers · average 4.0 of 5 Distribution of ratings "
        "Rating Answers 1 0 2 0 3 1 4 0 5 1",
        "Anything else? Sehr gut Mehr Pausen",
    ]


async def test_feedback_results_page_shows_the_attendance_summary(
    client: httpx.AsyncClient,
) -> None:
    at = await answered_by_everyone_who_came(client)
    await sign_in(client, at.owner)

    response = await client.get(f"/organiser/events/{at.event.slug}/feedback", headers=ENGLISH)

    facts = re.search(r'<dl class="facts">(.*?)</dl>', response.text, re.S)
    assert facts
    assert text(facts.group(1)) == (
        "Confirmed 4 Checked in 3 No-shows 1 Attendance rate 75.0 % Answers 3"
    )


async def test_giving_feedback_is_in_the_events_history_without_the_answers(
    client: httpx.AsyncClient,
) -> None:
    at = await event_with_attendees(client)

    await answer(client, at, "anna", ANSWERS["anna"])

    recorded = await entries(registration_id=at.ids["anna"], action="registration.feedback_given")
    assert [(entry["actor_kind"], entry["changes"]) for entry in recorded] == [
        ("registrant", {"comments": None, "overall": None, "venue": None})
    ]
