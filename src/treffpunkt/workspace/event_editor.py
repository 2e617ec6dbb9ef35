"""Organisers' pages to create and edit events, their custom questions, duplicates and series.

Each handler reads the form into the API's Structs (`event_form`, `question_form`), calls the
service the API calls, and renders; a form with errors comes back as typed, with status 400.
"""

from __future__ import annotations

import json
from typing import Any

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from treffpunkt.clock import utcnow
from treffpunkt.errors import N_, Conflict, ErrorCollector, ValidationFailed
from treffpunkt.events.schemas import Format, Kind
from treffpunkt.events.services import EventView, create_event, get_event, regions, sectors
from treffpunkt.i18n import current_language
from treffpunkt.inputs import PathLine
from treffpunkt.notifications.previews import MailPreview
from treffpunkt.registrations.event_copies import (
    MAX_SERIES,
    Repeat,
    SeriesRule,
    create_series,
    duplicate_event,
    plan_series,
)
from treffpunkt.registrations.event_edits import save_unless_it_mails
from treffpunkt.registrations.questions import questions_of, replace_questions
from treffpunkt.registrations.schemas import QUESTION_KINDS
from treffpunkt.web.auth import current_organiser, manages_event, requires_organiser
from treffpunkt.web.prg import outcome_for, see_other
from treffpunkt.workspace import event_form, question_form

KINDS: tuple[str, ...] = Kind.__args__  # type: ignore[attr-defined]
FORMATS: tuple[str, ...] = Format.__args__  # type: ignore[attr-defined]
NO_STORE = {"Cache-Control": "no-store"}
# Conflicts that are about one field, shown next to it like a validation error.
CONFLICT_FIELDS = {"capacity_below_taken": "capacity"}
REPEATS: dict[str, Repeat] = {"weekly": "weekly", "monthly": "monthly", "dates": "dates"}


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def hub(slug: str) -> str:
    return f"/organiser/events/{slug}"


async def _form_page(
    *,
    event: EventView | None,
    values: dict[str, Any],
    original: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    saved: bool = False,
    duplicated: bool = False,
    status_code: int = 200,
) -> Template:
    return Template(
        template_name="workspace/event_form.html",
        context={
            "event": event,
            "values": values,
            "original": json.dumps(original) if original is not None else "",
            "errors": errors or {},
            "anchor": event_form.anchor,
            "form_error": form_error,
            "saved": saved,
            "duplicated": duplicated,
            "regions": await regions(),
            "sectors": await sectors(),
            "kinds": KINDS,
            "formats": FORMATS,
            "timezones": event_form.timezone_choices(),
        },
        status_code=status_code,
        headers=NO_STORE,
    )


async def _refused(
    refusal: ValidationFailed | Conflict,
    *,
    event: EventView | None,
    values: dict[str, Any],
    original: dict[str, Any] | None = None,
) -> Template:
    """The form again, as typed, with the service's words next to the fields they concern."""
    if isinstance(refusal, ValidationFailed):
        errors = refusal.by_field()
        return await _form_page(
            event=event, values=values, original=original, errors=errors, status_code=400
        )
    if refusal.code in CONFLICT_FIELDS:
        errors = {CONFLICT_FIELDS[refusal.code]: refusal.translated()}
        return await _form_page(
            event=event, values=values, original=original, errors=errors, status_code=409
        )
    return await _form_page(
        event=event,
        values=values,
        original=original,
        form_error=refusal.translated(),
        status_code=409,
    )


def _preview_page(
    event: EventView, preview: MailPreview, values: dict[str, Any], original: dict[str, Any] | None
) -> Template:
    return Template(
        template_name="workspace/event_change_preview.html",
        context={
            "event": event,
            "preview": preview,
            "values": values,
            "original": json.dumps(original) if original is not None else "",
        },
        headers=NO_STORE,
    )


class EventEditorController(Controller):
    """The event form: a new draft, or changes to an event the organiser manages."""

    path = "/organiser/events"
    include_in_schema = False

    @get("/new", guards=[requires_organiser])
    async def new_form(self) -> Template:
        return await _form_page(event=None, values=event_form.blank_values())

    @post("/new", guards=[requires_organiser])
    async def create(self, request: Request[Any, Any, Any]) -> Template | Redirect:
        values = event_form.submitted_values(await request.form())
        try:
            created = await create_event(
                event_form.event_create(values), current_organiser(request), now=utcnow()
            )
        except ValidationFailed as refusal:
            return await _refused(refusal, event=None, values=values)
        return see_other(request, hub(created.slug))

    @get("/{slug:str}/edit", guards=[manages_event])
    async def edit_form(self, request: Request[Any, Any, Any], slug: PathLine) -> Template:
        event = await get_event(slug)
        values = event_form.values_of(event)
        outcome = outcome_for(request) or {}
        return await _form_page(
            event=event,
            values=values,
            original=values,
            saved=bool(outcome.get("saved")),
            duplicated=bool(outcome.get("duplicated")),
        )

    @post("/{slug:str}/edit", guards=[manages_event])
    async def save(self, request: Request[Any, Any, Any], slug: PathLine) -> Template | Redirect:
        """Saves, or first shows the update mail the change would send to registrants."""
        form = await request.form()
        event = await get_event(slug)
        values = event_form.submitted_values(form)
        original = event_form.original_values(form)
        if _text(form, "action") == "back":
            return await _form_page(event=event, values=values, original=original)
        try:
            preview = await save_unless_it_mails(
                slug,
                event_form.event_update(values, original),
                confirmed=_text(form, "confirmed") == "yes",
                language=current_language.get(),
                now=utcnow(),
            )
        except (ValidationFailed, Conflict) as refusal:
            return await _refused(refusal, event=event, values=values, original=original)
        if preview is not None:
            return _preview_page(event, preview, values, original)
        return see_other(request, f"{hub(slug)}/edit", {"saved": True})

    @post("/{slug:str}/duplicate", guards=[manages_event])
    async def duplicate(self, request: Request[Any, Any, Any], slug: PathLine) -> Redirect:
        copy = await duplicate_event(slug, current_organiser(request), now=utcnow())
        return see_other(request, f"{hub(copy.slug)}/edit", {"duplicated": True})


async def _questions_page(
    event: EventView,
    rows: list[dict[str, Any]],
    *,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    status_code: int = 200,
) -> Template:
    return Template(
        template_name="workspace/questions.html",
        context={
            "event": event,
            "rows": rows,
            "errors": errors or {},
            "kinds": QUESTION_KINDS,
            "anchor": question_form.anchor,
            "saved": saved,
            "max_rows": question_form.MAX_ROWS,
        },
        status_code=status_code,
        headers=NO_STORE,
    )


class QuestionEditorController(Controller):
    """An event's custom registration questions, edited as a list of rows."""

    path = "/organiser/events/{slug:str}/questions"
    guards = (manages_event,)
    include_in_schema = False

    @get("/")
    async def questions(self, request: Request[Any, Any, Any], slug: PathLine) -> Template:
        event = await get_event(slug)
        rows = [question_form.row_of(q) for q in await questions_of(event.id)]
        saved = bool((outcome_for(request) or {}).get("saved"))
        return await _questions_page(event, question_form.with_blanks(rows), saved=saved)

    @post("/")
    async def change(self, request: Request[Any, Any, Any], slug: PathLine) -> Template | Redirect:
        """Add, move and remove re-render the rows; only save stores them."""
        form = await request.form()
        event = await get_event(slug)
        rows = question_form.submitted_rows(form)
        action = _text(form, "action")
        rearranged = question_form.rearranged(rows, action)
        if rearranged is not None:
            return await _questions_page(event, rearranged)
        filled: list[int] = []
        try:
            specs, filled = question_form.questions_from(rows)
            await replace_questions(event.id, specs)
        except ValidationFailed as failed:
            errors = question_form.row_errors(failed, filled)
            return await _questions_page(event, rows, errors=errors, status_code=400)
        return see_other(request, f"{hub(slug)}/questions", {"saved": True})


def _series_rule(form: Any) -> tuple[dict[str, str], SeriesRule]:
    """The rule as typed and as read; unreadable numbers and dates raise with their field."""
    typed = {name: _text(form, name).strip() for name in ("repeat", "count", "dates")}
    repeat = REPEATS.get(typed["repeat"], "weekly")
    typed["repeat"] = repeat
    problems = ErrorCollector()
    count = int(typed["count"]) if typed["count"].isdigit() else 0
    if repeat != "dates" and not typed["count"].isdigit():
        problems.add(
            "count", N_("must be a whole number from %(low)d to %(high)d"), low=1, high=MAX_SERIES
        )
    days = []
    if repeat == "dates":
        for line in typed["dates"].splitlines():
            if line.strip():
                day = event_form.read_day(line.strip())
                if day is None:
                    problems.add(
                        "dates",
                        N_("%(value)s is not a date such as 2027-03-14"),
                        value=line.strip(),
                    )
                else:
                    days.append(day)
    problems.raise_if_any()
    return typed, SeriesRule(repeat=repeat, count=count, dates=tuple(days))


class SeriesController(Controller):
    """More dates of an event, each its own draft: shown first, created on confirmation."""

    path = "/organiser/events/{slug:str}/series"
    guards = (manages_event,)
    include_in_schema = False

    @get("/")
    async def series_form(self, request: Request[Any, Any, Any], slug: PathLine) -> Template:
        created = (outcome_for(request) or {}).get("created")
        return await _series_page(await get_event(slug), created=created)

    @post("/")
    async def plan_or_create(
        self, request: Request[Any, Any, Any], slug: PathLine
    ) -> Template | Redirect:
        form = await request.form()
        event = await get_event(slug)
        typed = {name: _text(form, name) for name in ("repeat", "count", "dates")}
        if _text(form, "action") == "back":
            return await _series_page(event, typed=typed)
        try:
            typed, rule = _series_rule(form)
            if _text(form, "action") == "create":
                made = await create_series(slug, rule, current_organiser(request), now=utcnow())
                return see_other(request, f"{hub(slug)}/series", {"created": len(made)})
            planned = await plan_series(slug, rule)
        except ValidationFailed as failed:
            errors = failed.by_field()
            return await _series_page(event, typed=typed, errors=errors, status_code=400)
        return await _series_page(event, typed=typed, planned=planned)


async def _series_page(
    event: EventView,
    *,
    typed: dict[str, str] | None = None,
    planned: list[Any] | None = None,
    errors: dict[str, str] | None = None,
    created: int | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        template_name="workspace/series.html",
        context={
            "event": event,
            "typed": typed or {"repeat": "weekly", "count": "4", "dates": ""},
            "planned": planned,
            "errors": errors or {},
            "created": created,
            "max_series": MAX_SERIES,
            "anchor": event_form.anchor,
        },
        status_code=status_code,
        headers=NO_STORE,
    )
