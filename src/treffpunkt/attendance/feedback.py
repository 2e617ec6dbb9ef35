"""After the event: thanking attendees, and the short feedback form they answer once."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Annotated, Any, Literal

from msgspec import Meta, Struct
from piccolo.columns.combination import And

from treffpunkt.attendance.tables import FeedbackQuestion, FeedbackResponse
from treffpunkt.audit.actors import REGISTRANT
from treffpunkt.audit.services import record, withheld
from treffpunkt.db import write_transaction
from treffpunkt.errors import N_, Conflict, ErrorCollector
from treffpunkt.events.services import EventView
from treffpunkt.inputs import Line
from treffpunkt.notifications.outbox import enqueue_to_registrations
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.services import RegistrationView, lock_event
from treffpunkt.registrations.tables import Registration

MIN_QUESTIONS, MAX_QUESTIONS = 3, 5
RATINGS = range(1, 6)
TEXT_LIMIT = 2_000
FeedbackKind = Literal["rating", "text"]


class FeedbackQuestionSpec(Struct, kw_only=True, forbid_unknown_fields=True):
    """A rating from 1 (poor) to 5 (excellent), or free text."""

    key: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,59}$")]
    kind: FeedbackKind
    label: Annotated[Line, Meta(min_length=1, max_length=300)]
    required: bool = False


@dataclass
class QuestionResult:
    key: str
    label: str
    kind: str
    answers: int = 0
    average: float | None = None
    distribution: dict[int, int] = field(default_factory=dict)
    texts: list[str] = field(default_factory=list)


async def feedback_questions(event_id: int) -> list[FeedbackQuestionSpec]:
    rows = (
        await FeedbackQuestion.select()
        .where(FeedbackQuestion.event == event_id)
        .order_by(FeedbackQuestion.position)
    )
    return [
        FeedbackQuestionSpec(key=r["key"], kind=r["kind"], label=r["label"], required=r["required"])
        for r in rows
    ]


async def replace_feedback_questions(
    event: EventView, questions: list[FeedbackQuestionSpec]
) -> list[FeedbackQuestionSpec]:
    problems = ErrorCollector()
    if not MIN_QUESTIONS <= len(questions) <= MAX_QUESTIONS:
        problems.add(
            "questions",
            N_("ask between %(low)d and %(high)d questions"),
            low=MIN_QUESTIONS,
            high=MAX_QUESTIONS,
        )
    if len({q.key for q in questions}) != len(questions):
        problems.add("questions", N_("every question needs its own key"))
    problems.raise_if_any()
    async with write_transaction():
        await lock_event(event.id)
        if await FeedbackResponse.exists().where(FeedbackResponse.event == event.id):
            raise Conflict(
                N_("people have answered already; the questions can no longer change"),
                code="feedback_answered",
            )
        before = [q.key for q in await feedback_questions(event.id)]
        await record(
            "event.feedback_questions_replaced",
            event=event,
            changes={"questions": [before, [q.key for q in questions]]},
        )
        await FeedbackQuestion.delete().where(FeedbackQuestion.event == event.id)
        await FeedbackQuestion.insert(
            *[
                FeedbackQuestion(
                    event=event.id,
                    key=q.key,
                    position=i,
                    kind=q.kind,
                    label=q.label.strip(),
                    required=q.required,
                )
                for i, q in enumerate(questions)
            ]
        )
    return await feedback_questions(event.id)


def _came_and_not_thanked(event_id: int) -> And:
    thanked = OutboxMessage.select(OutboxMessage.registration).where(
        (OutboxMessage.event == event_id) & (OutboxMessage.kind == "thank_you")
    )
    return (
        (Registration.event == event_id)
        & Registration.checked_in_at.is_not_null()
        & Registration.erased_at.is_null()
        & Registration.id.not_in(thanked)
    )


async def people_to_thank(event_id: int) -> int:
    """How many who came have no thank-you yet: the pages offer thanking only when some do."""
    return int(await Registration.count().where(_came_and_not_thanked(event_id)))


async def thank_attendees(event: EventView, *, now: datetime) -> int:
    """A thank-you with the feedback link to everyone who came, once each; how many."""
    if not event.is_finished(now):
        raise Conflict(N_("thank attendees once the event is over"), code="event_not_over")
    async with write_transaction():
        # Under the event's lock: two clicks at once must not thank anyone twice.
        await lock_event(event.id)
        rows = await Registration.select(
            Registration.id, Registration.email, Registration.language
        ).where(_came_and_not_thanked(event.id))
        await enqueue_to_registrations("thank_you", event_id=event.id, rows=rows, payload=None)
    return len(rows)


def checked_feedback(
    questions: list[FeedbackQuestionSpec], answers: dict[str, Any]
) -> dict[str, Any]:
    problems = ErrorCollector()
    clean: dict[str, Any] = {}
    for question in questions:
        value = answers.get(question.key)
        if isinstance(value, str):
            value = value.strip()
        name = f"answers.{question.key}"
        if value in (None, ""):
            if question.required:
                problems.add(name, N_("is required"))
            continue
        if question.kind == "rating":
            rating = int(value) if isinstance(value, str) and value.isdigit() else value
            if not isinstance(rating, int) or isinstance(rating, bool) or rating not in RATINGS:
                problems.add(name, N_("must be a rating from 1 to 5"))
            else:
                clean[question.key] = rating
        elif not isinstance(value, str) or len(value) > TEXT_LIMIT:
            problems.add(name, N_("must be at most %(limit)d characters long"), limit=TEXT_LIMIT)
        else:
            clean[question.key] = value.strip()
    for key in sorted(set(answers) - {q.key for q in questions}):
        problems.add(f"answers.{key}", N_("is not a question of this event"))
    problems.raise_if_any()
    return clean


async def answer_feedback(
    registration: RegistrationView, answers: dict[str, Any], *, now: datetime
) -> None:
    """Store one attendee's answers; a second answer is refused."""
    if registration.checked_in_at is None:
        raise Conflict(N_("only people who came can give feedback"), code="not_attended")
    questions = await feedback_questions(registration.event)
    if not questions:
        raise Conflict(N_("this event asks no feedback"), code="no_feedback")
    clean = checked_feedback(questions, answers)
    async with write_transaction():
        # Under the event's lock, so a double submit stores one answer and refuses the rest.
        await lock_event(registration.event)
        if await FeedbackResponse.exists().where(FeedbackResponse.registration == registration.id):
            raise Conflict(N_("you have given your feedback already"), code="feedback_given")
        await FeedbackResponse.insert(
            FeedbackResponse(
                event=registration.event,
                registration=registration.id,
                answers=json.dumps(clean),
                created_at=now,
            )
        )
        await record(
            "registration.feedback_given",
            event=registration.event,
            registration_id=registration.id,
            changes=withheld(set(clean)),
            actor=REGISTRANT,
            now=now,
        )


async def has_answered(registration_id: int) -> bool:
    return bool(
        await FeedbackResponse.exists().where(FeedbackResponse.registration == registration_id)
    )


async def feedback_results(event_id: int) -> tuple[int, list[QuestionResult]]:
    """How many answered, and per question counts, average and distribution, or the texts."""
    questions = await feedback_questions(event_id)
    rows = (
        await FeedbackResponse.select(FeedbackResponse.answers)
        .where(FeedbackResponse.event == event_id)
        .order_by(FeedbackResponse.id)
        .output(load_json=True)
    )
    results = []
    for question in questions:
        result = QuestionResult(key=question.key, label=question.label, kind=question.kind)
        values = [row["answers"][question.key] for row in rows if question.key in row["answers"]]
        result.answers = len(values)
        if question.kind == "rating":
            result.distribution = {rating: values.count(rating) for rating in RATINGS}
            result.average = round(sum(values) / len(values), 2) if values else None
        else:
            result.texts = values
        results.append(result)
    return len(rows), results
