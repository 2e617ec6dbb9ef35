"""Organisers' feedback pages: the feedback questions edited as rows, and the thank-you mail to
everyone who came, previewed first and queued on confirmation."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Any

import httpx
import pytest

from tests import factories
from tests.notifications.helpers import sign_up
from tests.registrations.helpers import move_event_into_the_past
from tests.sessions import hidden_value, sign_in
from tests.workspace.editor_forms import error_of, form_fields, summary_links
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.attendance.feedback import (
    FeedbackQuestionSpec,
    answer_feedback,
    feedback_questions,
    replace_feedback_questions,
)
from treffpunkt.attendance.services import check_in_by_id
from treffpunkt.events.services import EventView, get_event
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.services import by_id, token_for
from treffpunkt.registrations.tables import Registration
from treffpunkt.web.language import LANGUAGE_COOKIE

pytestmark = pytest.mark.anyio

OVERALL = FeedbackQuestionSpec(key="overall", kind="rating", label="How was it?", required=True)
VENUE = FeedbackQuestionSpec(key="venue", kind="rating", label="How was the venue?")
COMMENTS = FeedbackQuestionSpec(key="comments", kind="text", label="Anything else?")


async def signed_in_owner(client: httpx.AsyncClient) -> CurrentOrganiser:
    owner = await factories.organiser()
    await sign_in(client, owner)
    client.cookies.set(LANGUAGE_COOKIE, "en")
    return owner


@pytest.fixture
async def event(client: httpx.AsyncClient) -> EventView:
    return await factories.event(await signed_in_owner(client))


async def finished_event(
    owner: CurrentOrganiser, *, came: tuple[str, ...], questions: bool = True
) -> EventView:
    """An event that is over: Anna, Ben and Cem had seats; those in `came` were checked in."""
    event = await factories.event(owner)
    for name in ("anna", "ben", "cem"):
        outcome = await sign_up(event.slug, f"{name}@example.org", name=name.title())
        if name in came:
            await check_in_by_id(
                event.slug, outcome.registration_id, now=event.starts_at + timedelta(minutes=5)
            )
    if questions:
        await replace_feedback_questions(event, [OVERALL, VENUE, COMMENTS])
    await move_event_into_the_past(event.slug)
    return await get_event(event.slug)


@pytest.fixture
async def anna_and_ben_came(client: httpx.AsyncClient) -> EventView:
    return await finished_event(await signed_in_owner(client), came=("anna", "ben"))


def questions_url(event: EventView) -> str:
    return f"/organiser/events/{event.slug}/feedback/questions"


def thank_you_url(event: EventView) -> str:
    return f"/organiser/events/{event.slug}/feedback/thank-you"


def results_url(event: EventView) -> str:
    return f"/organiser/events/{event.slug}/feedback"


def row(index: int, **fields: Any) -> dict[str, Any]:
    return {f"questions-{index}-{name}": value for name, value in fields.items()}


async def send(
    client: httpx.AsyncClient, event: EventView, action: str, rows: dict[str, Any]
) -> httpx.Response:
    """The questions form as shown, with `rows` typed over it, sent by the `action` button."""
    url = questions_url(event)
    shown = form_fields((await client.get(url)).text, url)
    return await client.post(url, data={**shown, **rows, "action": action})


async def confirm_thanks(client: httpx.AsyncClient, event: EventView) -> httpx.Response:
    """The confirmation step's form, sent as the browser would."""
    url = thank_you_url(event)
    return await client.post(url, data=form_fields((await client.get(url)).text, url))


async def csrf_token(client: httpx.AsyncClient) -> str:
    """The signed-in organiser's CSRF token, read from a page that has a form."""
    return hidden_value((await client.get("/organiser/events/new")).text, "_csrf_token")


async def registration_id(email: str) -> int:
    row = await Registration.select(Registration.id).where(Registration.email == email).first()
    assert row is not None
    return int(row["id"])


async def thank_you_recipients() -> list[str]:
    rows = await OutboxMessage.select(OutboxMessage.recipient).where(
        OutboxMessage.kind == "thank_you"
    )
    return sorted(row["recipient"] for row in rows)


def text(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html)).strip()


def labels_shown(html: str) -> list[str]:
    return re.findall(
        r'name="questions-\d+-label" type="text" maxlength="300" value="([^"]*)"', html
    )


# --- the questions ------------------------------------------------------------------------------


async def test_a_new_set_of_questions_starts_with_three_blank_rating_rows(
    client: httpx.AsyncClient, event: EventView
) -> None:
    response = await client.get(questions_url(event))

    assert response.status_code == 200
    shown = form_fields(response.text, questions_url(event))
    assert shown["rows"] == "3"
    assert [shown[f"questions-{i}-kind"] for i in range(3)] == ["rating"] * 3
    assert labels_shown(response.text) == ["", "", ""]


async def test_the_page_shows_the_current_questions_in_their_order(
    client: httpx.AsyncClient, event: EventView
) -> None:
    await replace_feedback_questions(event, [COMMENTS, OVERALL, VENUE])

    response = await client.get(questions_url(event))

    assert labels_shown(response.text) == ["Anything else?", "How was it?", "How was the venue?"]
    shown = form_fields(response.text, questions_url(event))
    assert shown["questions-0-kind"] == "text"
    assert shown["questions-1-required"] == "yes"


async def test_three_questions_typed_into_the_blank_rows_are_saved_with_keys_from_their_labels(
    client: httpx.AsyncClient, event: EventView
) -> None:
    typed = {
        **row(0, label="Wie war es insgesamt?", kind="rating", required="yes"),
        **row(1, label="Wie war der Ort?", kind="rating"),
        **row(2, label="Was sollen wir besser machen?", kind="text"),
    }

    saved = await send(client, event, "save", typed)

    assert saved.status_code == 303
    assert saved.headers["location"] == questions_url(event)
    assert await feedback_questions(event.id) == [
        FeedbackQuestionSpec(
            key="wie_war_es_insgesamt", kind="rating", label="Wie war es insgesamt?", required=True
        ),
        FeedbackQuestionSpec(key="wie_war_der_ort", kind="rating", label="Wie war der Ort?"),
        FeedbackQuestionSpec(
            key="was_sollen_wir_besser_machen", kind="text", label="Was sollen wir besser machen?"
        ),
    ]


async def test_after_saving_the_page_says_the_questions_are_saved(
    client: httpx.AsyncClient, event: EventView
) -> None:
    typed = {**row(0, label="A"), **row(1, label="B"), **row(2, label="C", kind="text")}
    await send(client, event, "save", typed)

    response = await client.get(questions_url(event))

    assert "The questions are saved." in response.text


async def test_two_questions_are_refused_next_to_the_questions_with_a_summary(
    client: httpx.AsyncClient, event: EventView
) -> None:
    response = await send(client, event, "save", {**row(0, label="A"), **row(1, label="B")})

    assert response.status_code == 400
    assert error_of(response.text, "questions") == "ask between 3 and 5 questions"
    assert summary_links(response.text) == ["questions"]
    assert labels_shown(response.text) == ["A", "B", ""]
    assert await feedback_questions(event.id) == []


async def test_a_label_too_long_is_refused_next_to_that_label(
    client: httpx.AsyncClient, event: EventView
) -> None:
    typed = {**row(0, label="A"), **row(1, label="B" * 301), **row(2, label="C")}

    response = await send(client, event, "save", typed)

    assert response.status_code == 400
    assert error_of(response.text, "questions-1-label").startswith("must be at most 300")
    assert summary_links(response.text) == ["questions-1-label"]
    assert 'id="questions-1-label" name="questions-1-label"' in response.text
    assert 'aria-invalid="true" aria-describedby="questions-1-label-error"' in response.text
    assert await feedback_questions(event.id) == []


async def test_moving_a_question_up_and_saving_stores_the_new_order_with_the_same_keys(
    client: httpx.AsyncClient, event: EventView
) -> None:
    await replace_feedback_questions(event, [OVERALL, VENUE, COMMENTS])
    moved = await send(client, event, "up-2", {})

    saved = await client.post(
        questions_url(event),
        data={**form_fields(moved.text, questions_url(event)), "action": "save"},
    )

    assert saved.status_code == 303
    assert await feedback_questions(event.id) == [OVERALL, COMMENTS, VENUE]


async def test_moving_shows_the_rows_in_the_new_order_and_saves_nothing(
    client: httpx.AsyncClient, event: EventView
) -> None:
    await replace_feedback_questions(event, [OVERALL, VENUE, COMMENTS])

    moved = await send(client, event, "down-0", {})

    assert moved.status_code == 200
    assert labels_shown(moved.text) == ["How was the venue?", "How was it?", "Anything else?"]
    assert await feedback_questions(event.id) == [OVERALL, VENUE, COMMENTS]


async def test_removing_a_question_and_saving_drops_it(
    client: httpx.AsyncClient, event: EventView
) -> None:
    fourth = FeedbackQuestionSpec(key="food", kind="rating", label="How was the food?")
    await replace_feedback_questions(event, [OVERALL, VENUE, fourth, COMMENTS])
    removed = await send(client, event, "remove-1", {})

    await client.post(
        questions_url(event),
        data={**form_fields(removed.text, questions_url(event)), "action": "save"},
    )

    assert await feedback_questions(event.id) == [OVERALL, fourth, COMMENTS]


async def test_add_another_offers_rows_up_to_five_and_no_more(
    client: httpx.AsyncClient, event: EventView
) -> None:
    fourth = FeedbackQuestionSpec(key="food", kind="rating", label="How was the food?")
    await replace_feedback_questions(event, [OVERALL, VENUE, fourth, COMMENTS])

    added = await send(client, event, "add", {})

    assert form_fields(added.text, questions_url(event))["rows"] == "5"
    assert 'value="add"' not in added.text


async def test_questions_people_have_answered_cannot_change_and_the_page_says_so(
    client: httpx.AsyncClient, anna_and_ben_came: EventView
) -> None:
    event = anna_and_ben_came
    anna = await by_id(event.slug, await registration_id("anna@example.org"))
    await answer_feedback(anna, {"overall": 5}, now=event.ends_at)

    response = await send(client, event, "up-1", {})
    refused = await client.post(
        questions_url(event),
        data={**form_fields(response.text, questions_url(event)), "action": "save"},
    )

    assert refused.status_code == 409
    assert "people have answered already; the questions can no longer change" in refused.text
    assert await feedback_questions(event.id) == [OVERALL, VENUE, COMMENTS]


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_another_organiser_may_not_open_or_change_the_questions(
    client: httpx.AsyncClient, method: str
) -> None:
    event = await factories.event(await factories.organiser())
    await signed_in_owner(client)
    typed = {**row(0, label="A"), **row(1, label="B"), **row(2, label="C"), "rows": "3"}
    form = {**typed, "_csrf_token": await csrf_token(client), "action": "save"}

    response = await client.request(
        method, questions_url(event), data=form if method == "POST" else None
    )

    assert response.status_code == 403
    assert await feedback_questions(event.id) == []


async def test_saving_questions_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, event: EventView
) -> None:
    typed = {**row(0, label="A"), **row(1, label="B"), **row(2, label="C"), "rows": "3"}

    response = await client.post(questions_url(event), data={**typed, "action": "save"})

    assert response.status_code == 403
    assert await feedback_questions(event.id) == []


# --- thanking everyone who came -----------------------------------------------------------------


async def test_the_thank_you_step_shows_the_mail_and_how_many_get_it(
    client: httpx.AsyncClient, anna_and_ben_came: EventView
) -> None:
    response = await client.get(thank_you_url(anna_and_ben_came))

    assert response.status_code == 200
    assert re.search(r'id="recipients">\s*2 people will get this mail.\s*<', response.text)
    assert re.search(r'id="preview-subject">\s*Thank you for coming: ', response.text)
    assert "/feedback/…" in response.text
    assert "Send the thank-you to 2 people" in response.text


async def test_the_thank_you_step_queues_nothing(
    client: httpx.AsyncClient, anna_and_ben_came: EventView
) -> None:
    mails_before = await OutboxMessage.count()

    await client.get(thank_you_url(anna_and_ben_came))

    assert await OutboxMessage.count() == mails_before
    assert await thank_you_recipients() == []


async def test_the_thank_you_step_keeps_the_attendees_feedback_link_to_themselves(
    client: httpx.AsyncClient, anna_and_ben_came: EventView
) -> None:
    response = await client.get(thank_you_url(anna_and_ben_came))

    for email in ("anna@example.org", "ben@example.org"):
        assert await token_for(await registration_id(email)) not in response.text


async def test_confirming_queues_one_thank_you_for_each_person_who_came(
    client: httpx.AsyncClient, anna_and_ben_came: EventView
) -> None:
    response = await confirm_thanks(client, anna_and_ben_came)

    assert response.status_code == 303
    assert response.headers["location"] == results_url(anna_and_ben_came)
    assert await thank_you_recipients() == ["anna@example.org", "ben@example.org"]


async def test_after_confirming_the_results_page_says_how_many_get_the_mail(
    client: httpx.AsyncClient, anna_and_ben_came: EventView
) -> None:
    await confirm_thanks(client, anna_and_ben_came)

    response = await client.get(results_url(anna_and_ben_came))

    status = re.search(r'role="status">(.*?)</div>', response.text, re.S)
    assert status
    assert text(status.group(1)) == "2 people will get the thank-you mail."


async def test_thanking_a_second_time_queues_none_and_says_so(
    client: httpx.AsyncClient, anna_and_ben_came: EventView
) -> None:
    url = thank_you_url(anna_and_ben_came)
    form = form_fields((await client.get(url)).text, url)
    await client.post(url, data=form)

    again = await client.post(url, data=form)
    results = await client.get(results_url(anna_and_ben_came))

    assert again.status_code == 303
    assert await thank_you_recipients() == ["anna@example.org", "ben@example.org"]
    assert "Nobody was left to thank: no mail went out." in results.text
    assert "Everyone who came has been thanked already." in results.text
    assert f'href="{url}"' not in results.text


async def test_once_everyone_is_thanked_the_step_says_so_instead_of_offering_to_send(
    client: httpx.AsyncClient, anna_and_ben_came: EventView
) -> None:
    await confirm_thanks(client, anna_and_ben_came)

    response = await client.get(thank_you_url(anna_and_ben_came))

    assert re.search(
        r'id="recipients">\s*Everyone who came has been thanked already.\s*<', response.text
    )
    assert "Send the thank-you" not in response.text
    assert "preview-text" not in response.text


async def test_when_nobody_came_the_pages_say_so_instead_of_offering_the_button(
    client: httpx.AsyncClient,
) -> None:
    event = await finished_event(await signed_in_owner(client), came=())

    step = await client.get(thank_you_url(event))
    results = await client.get(results_url(event))

    assert "Nobody was checked in, so there is nobody to thank." in step.text
    assert "Send the thank-you" not in step.text
    assert "Nobody was checked in, so there is nobody to thank." in results.text
    assert f'href="{thank_you_url(event)}"' not in results.text


async def test_the_results_page_and_the_hub_offer_thanking_those_who_came(
    client: httpx.AsyncClient, anna_and_ben_came: EventView
) -> None:
    event = anna_and_ben_came
    link = f'href="{thank_you_url(event)}">Thank everyone who came</a>'

    results = await client.get(results_url(event))
    hub = await client.get(f"/organiser/events/{event.slug}")

    assert link in results.text
    assert link in hub.text.split('id="actions-title"', 1)[1].split("</section>", 1)[0]


async def test_before_the_event_is_over_the_results_page_offers_no_thanks(
    client: httpx.AsyncClient, event: EventView
) -> None:
    response = await client.get(results_url(event))

    assert "Once the event is over, you can thank everyone who came." in response.text
    assert f'href="{thank_you_url(event)}"' not in response.text


async def test_thanking_before_the_event_is_over_is_refused_with_the_services_words(
    client: httpx.AsyncClient, event: EventView
) -> None:
    step = await client.get(thank_you_url(event))
    confirmed = await client.post(
        thank_you_url(event), data={"_csrf_token": await csrf_token(client)}
    )

    assert step.status_code == 409
    assert "thank attendees once the event is over" in step.text
    assert confirmed.status_code == 409
    assert "thank attendees once the event is over" in confirmed.text
    assert await thank_you_recipients() == []


async def test_the_results_page_and_the_hub_link_to_the_questions(
    client: httpx.AsyncClient, event: EventView
) -> None:
    link = f'href="{questions_url(event)}">Feedback questions</a>'

    assert link in (await client.get(results_url(event))).text
    assert link in (await client.get(f"/organiser/events/{event.slug}")).text


@pytest.mark.parametrize("method", ["GET", "POST"])
async def test_another_organiser_may_not_thank_the_attendees(
    client: httpx.AsyncClient, method: str
) -> None:
    event = await finished_event(await factories.organiser(), came=("anna",))
    await signed_in_owner(client)
    form = {"_csrf_token": await csrf_token(client)}

    response = await client.request(
        method, thank_you_url(event), data=form if method == "POST" else None
    )

    assert response.status_code == 403
    assert await thank_you_recipients() == []


async def test_thanking_without_the_csrf_token_is_refused(
    client: httpx.AsyncClient, anna_and_ben_came: EventView
) -> None:
    response = await client.post(thank_you_url(anna_and_ben_came), data={})

    assert response.status_code == 403
    assert await thank_you_recipients() == []
