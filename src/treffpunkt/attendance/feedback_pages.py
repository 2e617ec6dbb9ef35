"""Organisers' pages after the event: the feedback results, the feedback questions, and the
thank-you mail to everyone who came.

The questions are edited as rows like the custom registration questions (`question_form`);
thanking shows the very mail and how many get it first, and queues it only on confirmation.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from treffpunkt.attendance import feedback, services
from treffpunkt.attendance.controllers import attendance_summary
from treffpunkt.attendance.feedback import (
    MAX_QUESTIONS,
    MIN_QUESTIONS,
    FeedbackKind,
    FeedbackQuestionSpec,
)
from treffpunkt.clock import utcnow
from treffpunkt.errors import Conflict, ValidationFailed
from treffpunkt.events.services import EventView, get_event
from treffpunkt.i18n import current_language
from treffpunkt.inputs import PathLine
from treffpunkt.notifications.previews import preview_mail
from treffpunkt.registrations.controllers import form_text
from treffpunkt.web.auth import manages_event
from treffpunkt.web.prg import outcome_for, see_other
from treffpunkt.workspace import question_form
from treffpunkt.workspace.question_form import Row

KINDS: tuple[str, ...] = FeedbackKind.__args__  # type: ignore[attr-defined]
NO_STORE = {"Cache-Control": "no-store"}


def _blank_row() -> Row:
    return {**question_form.blank_row(), "kind": "rating"}


def _row_of(question: FeedbackQuestionSpec) -> Row:
    return {
        **question_form.blank_row(),
        "key": question.key,
        "label": question.label,
        "kind": question.kind,
        "required": question.required,
    }


def _payload(row: Row) -> dict[str, Any]:
    return {"kind": row["kind"], "label": row["label"].strip(), "required": row["required"]}


def _results_path(slug: str) -> str:
    return f"/organiser/events/{slug}/feedback"


async def _questions_page(
    event: EventView,
    rows: list[Row],
    *,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Template:
    return Template(
        template_name="attendance/feedback_questions.html",
        context={
            "event": event,
            "rows": rows,
            "errors": errors or {},
            "refusal": refusal,
            "anchor": question_form.anchor,
            "kinds": KINDS,
            "saved": saved,
            "low": MIN_QUESTIONS,
            "high": MAX_QUESTIONS,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


async def _thank_you_page(
    event: EventView, *, refusal: Conflict | None = None, status_code: int = 200
) -> Template:
    """The thank-you mail as attendees would read it, and how many get it; nothing is queued."""
    now = utcnow()
    preview = None
    if refusal is None:
        try:
            preview = await preview_mail(
                event.slug,
                "thank_you",
                lambda: feedback.thank_attendees(event, now=now),
                language=current_language.get(),
                now=now,
            )
        except Conflict as refused:
            refusal, status_code = refused, 409
    return Template(
        template_name="attendance/feedback_thank_you.html",
        context={
            "event": event,
            "preview": preview,
            "refusal": refusal.translated() if refusal else None,
            "came": (await services.counters(event.id)).checked_in,
            "questions": await feedback.feedback_questions(event.id),
        },
        status_code=status_code,
        headers=NO_STORE,
    )


class FeedbackOrganiserPagesController(Controller):
    """What attendees said, the questions they are asked, and thanking them; for managers."""

    path = "/organiser/events/{slug:str}/feedback"
    guards = (manages_event,)
    include_in_schema = False

    @get("/")
    async def results(self, request: Request[Any, Any, Any], slug: PathLine) -> Template:
        event = await get_event(slug)
        now = utcnow()
        responses, questions = await feedback.feedback_results(event.id)
        return Template(
            template_name="attendance/feedback_results.html",
            context={
                "event": event,
                "responses": responses,
                "results": questions,
                "summary": await attendance_summary(event, now=now),
                "over": event.is_finished(now),
                "to_thank": await feedback.people_to_thank(event.id),
                "outcome": outcome_for(request),
            },
            headers=NO_STORE,
        )

    @get("/questions")
    async def questions(self, request: Request[Any, Any, Any], slug: PathLine) -> Template:
        """The questions as they stand; a new set starts with blank rows up to the minimum."""
        event = await get_event(slug)
        rows = [_row_of(q) for q in await feedback.feedback_questions(event.id)]
        rows = question_form.with_blanks(
            rows, MIN_QUESTIONS - len(rows), blank=_blank_row, limit=MAX_QUESTIONS
        )
        saved = bool((outcome_for(request) or {}).get("saved"))
        return await _questions_page(event, rows, saved=saved)

    @post("/questions")
    async def change_questions(
        self, request: Request[Any, Any, Any], slug: PathLine
    ) -> Template | Redirect:
        """Add, move and remove re-render the rows; only save stores them."""
        form = await request.form()
        event = await get_event(slug)
        rows = question_form.submitted_rows(form)
        rearranged = question_form.rearranged(
            rows, form_text(form, "action"), blank=_blank_row, limit=MAX_QUESTIONS
        )
        if rearranged is not None:
            return await _questions_page(event, rearranged)
        filled: list[int] = []
        try:
            specs, filled = question_form.specs_from(rows, FeedbackQuestionSpec, _payload)
            await feedback.replace_feedback_questions(event, specs)
        except ValidationFailed as failed:
            errors = question_form.row_errors(failed, filled)
            return await _questions_page(event, rows, errors=errors, status_code=400)
        except Conflict as refused:
            return await _questions_page(event, rows, refusal=refused.translated(), status_code=409)
        return see_other(request, f"{_results_path(slug)}/questions", {"saved": True})

    @get("/thank-you")
    async def thank_you_preview(self, slug: PathLine) -> Template:
        return await _thank_you_page(await get_event(slug))

    @post("/thank-you")
    async def thank(self, request: Request[Any, Any, Any], slug: PathLine) -> Template | Redirect:
        event = await get_event(slug)
        try:
            count = await feedback.thank_attendees(event, now=utcnow())
        except Conflict as refused:
            return await _thank_you_page(event, refusal=refused, status_code=409)
        return see_other(request, _results_path(slug), {"thanked": count})
