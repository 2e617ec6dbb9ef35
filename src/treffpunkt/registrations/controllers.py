"""HTTP for registrations: the public API and form, self-service by secret link, the roster."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import JSONBody
from litestar.response import Redirect, Template

from treffpunkt.clock import utcnow
from treffpunkt.errors import N_, Conflict, ErrorCollector, ValidationFailed
from treffpunkt.events.calendar import (
    calendar_event,
    calendar_feed,
    calendar_response,
    client_is_current,
    feed_etag,
    newest,
    not_modified,
)
from treffpunkt.events.controllers import EventApiController, event_calendar, event_out, viewer
from treffpunkt.events.schemas import Cancellation, EventOut, EventUpdate
from treffpunkt.events.services import (
    EventView,
    get_event,
    get_event_by_id,
    get_public_event,
    regions,
    sectors,
)
from treffpunkt.ical.links import google_link, outlook_link
from treffpunkt.inputs import PathId, PathLine, QueryLine, query_line, query_number
from treffpunkt.notifications.services import delivery_problems, last_mail_failed
from treffpunkt.registrations import questions as question_service
from treffpunkt.registrations import services
from treffpunkt.registrations.event_changes import cancel_and_notify, update_and_notify
from treffpunkt.registrations.roster import SORTS, RosterQuery, roster, roster_csv
from treffpunkt.registrations.schemas import (
    STAKEHOLDER_GROUPS,
    STATUSES,
    AnswerValue,
    EventSummary,
    ManualRegistration,
    OrganiserDecision,
    QuestionSpec,
    Receipt,
    RegistrationChange,
    RegistrationForm,
    RegistrationOut,
    RosterPage,
    RosterRow,
)
from treffpunkt.registrations.services import Outcome, RegistrationView
from treffpunkt.settings import get_settings
from treffpunkt.web.auth import manages_event
from treffpunkt.web.prg import outcome_for, see_other

RECEIPT_MESSAGES = {
    "confirmed": "Your place is confirmed. A confirmation with your personal link is on its way.",
    "waitlisted": "The event is full; you are on the waiting list. We will write to you.",
    "pending": "The organisers confirm registrations personally. We will write to you.",
}
HELD_MESSAGES = {
    "confirmed": "A place is held for you. Please confirm your email address with the link "
    "in the mail on its way; until then the place is only held.",
    "waitlisted": "The event is full; a place on the waiting list is held for you. Please "
    "confirm your email address with the link in the mail on its way.",
    "pending": "The organisers confirm registrations personally. Please first confirm your "
    "email address with the link in the mail on its way.",
}


def receipt(slug: str, outcome: Outcome) -> Receipt:
    """The same for a new address and one registered already (the mail tells them apart)."""
    messages = HELD_MESSAGES if outcome.confirm_address else RECEIPT_MESSAGES
    return Receipt(
        event=slug,
        status=outcome.status,  # type: ignore[arg-type]
        waitlist_position=outcome.waitlist_position,
        address_confirmation_required=outcome.confirm_address,
        message=messages[outcome.status],
    )


def registration_out(registration: RegistrationView, event: EventView) -> RegistrationOut:
    return RegistrationOut(
        event=EventSummary(
            slug=event.slug,
            title=event.title,
            starts_at=event.local(event.starts_at),
            ends_at=event.local(event.ends_at),
            timezone=event.timezone,
            status=event.status,
            url=f"{get_settings().base_url}/events/{event.slug}",
        ),
        name=registration.name,
        email=registration.email,
        organisation=registration.organisation,
        stakeholder_group=registration.stakeholder_group,
        role=registration.role,
        notes=registration.notes,
        answers=registration.answers,
        language=registration.language,
        status=registration.status,  # type: ignore[arg-type]
        waitlist_position=registration.waitlist_position,
        checked_in_at=registration.checked_in_at,
        created_at=registration.created_at,
        consent_at=registration.consent_at,
        consent_version=registration.consent_version,
        unconfirmed_until=registration.unconfirmed_until,
    )


def roster_row(
    registration: RegistrationView, mail_problem: str | None = None, *, event_over: bool = False
) -> RosterRow:
    return RosterRow(
        id=registration.id,
        name=registration.name,
        email=registration.email,
        organisation=registration.organisation,
        stakeholder_group=registration.stakeholder_group,
        role=registration.role,
        notes=registration.notes,
        answers=registration.answers,
        language=registration.language,
        status=registration.status,  # type: ignore[arg-type]
        waitlist_position=registration.waitlist_position,
        checked_in_at=registration.checked_in_at,
        created_at=registration.created_at,
        consent_at=registration.consent_at,
        consent_version=registration.consent_version,
        unconfirmed_until=registration.unconfirmed_until,
        added_by_organiser=registration.added_by_organiser,
        attendance=registration.attendance(event_over),  # type: ignore[arg-type]
        mail_problem=mail_problem,
    )


async def _event_of(registration: RegistrationView) -> EventView:
    return await get_event_by_id(registration.event)


class RegistrationApiController(Controller):
    path = "/api/v1/events/{slug:str}"
    tags = ("registrations",)

    @post(
        "/registrations",
        summary="Register for an event",
        description="201 with the status (confirmed, waitlisted or pending) that anyone "
        "registering now gets. An address that holds a registration already gets the same "
        "answer, changes nothing, and is told the truth by mail (at most once in ten minutes): "
        "the answer never reveals who is registered. A full event without a waiting list "
        "answers 409 `event_full`. With `address_confirmation_required` (double opt-in) the "
        "place is held until the address is confirmed from the mail.",
        status_code=201,
    )
    async def register(self, slug: PathLine, data: JSONBody[RegistrationForm]) -> Receipt:
        return receipt(slug, await services.register(slug, data, now=utcnow()))

    @get(
        "/registrations",
        summary="The roster (organisers)",
        description="`total` counts every registration of the event unless a filter is given.",
        guards=[manages_event],
    )
    async def list_roster(
        self,
        slug: PathLine,
        status: Annotated[str | None, query_line(description=", ".join(STATUSES))] = None,
        stakeholder_group: Annotated[str | None, query_line()] = None,
        q: Annotated[str, query_line(description="Words in name, email, organisation")] = "",
        sort: Annotated[str, query_line(description=", ".join(SORTS))] = "created_at",
        limit: Annotated[int, query_number(ge=1, le=100)] = 50,
        offset: Annotated[int, query_number()] = 0,
    ) -> RosterPage:
        query = _roster_query(status, stakeholder_group, q, sort, limit, offset)
        event = await get_event(slug)
        rows, total = await roster(event.id, query)
        problems = await delivery_problems(event.id)
        return RosterPage(
            items=[
                roster_row(r, problems.get(r.id), event_over=event.is_finished(utcnow()))
                for r in rows
            ],
            total=total,
            limit=limit,
            offset=offset,
        )

    @get(
        "/registrations.csv",
        summary="The roster as CSV for Excel (UTF-8 with BOM, semicolons)",
        guards=[manages_event],
        media_type="text/csv",
    )
    async def export_roster(
        self,
        slug: PathLine,
        status: Annotated[str | None, query_line()] = None,
        stakeholder_group: Annotated[str | None, query_line()] = None,
        q: QueryLine = "",
        sort: QueryLine = "created_at",
    ) -> Response[bytes]:
        query = _roster_query(status, stakeholder_group, q, sort, 100, 0)
        event = await get_event(slug)
        return Response(
            await roster_csv(event, query, now=utcnow()),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{slug}-roster.csv"'},
        )

    @post(
        "/roster",
        summary="Add someone by hand (organisers); beyond capacity only with exceed_capacity",
        guards=[manages_event],
        status_code=201,
    )
    async def add_by_hand(self, slug: PathLine, data: JSONBody[ManualRegistration]) -> RosterRow:
        outcome = await services.add_by_organiser(slug, data, now=utcnow())
        return roster_row(await services.by_id(slug, outcome.registration_id))

    @post(
        "/registrations/{registration_id:int}/approve",
        summary="Approve a pending registration",
        guards=[manages_event],
        status_code=200,
    )
    async def approve(
        self,
        slug: PathLine,
        registration_id: PathId,
        data: JSONBody[OrganiserDecision | None] = None,
    ) -> RosterRow:
        exceed = bool(data and data.exceed_capacity)
        registration = await services.approve(
            slug, registration_id, now=utcnow(), exceed_capacity=exceed
        )
        return roster_row(registration)

    @post(
        "/registrations/{registration_id:int}/decline",
        summary="Decline a registration; a freed seat goes to the waiting list",
        guards=[manages_event],
        status_code=200,
    )
    async def decline(self, slug: PathLine, registration_id: PathId) -> RosterRow:
        return roster_row(await services.decline(slug, registration_id, now=utcnow()))

    @post(
        "/registrations/{registration_id:int}/cancel",
        summary="Remove someone; a freed seat goes to the waiting list",
        guards=[manages_event],
        status_code=200,
    )
    async def cancel(self, slug: PathLine, registration_id: PathId) -> RosterRow:
        return roster_row(await services.cancel_by_organiser(slug, registration_id, now=utcnow()))

    @post(
        "/registrations/{registration_id:int}/move-up",
        summary="Move someone one place up the waiting list",
        guards=[manages_event],
        status_code=200,
    )
    async def move_up(self, slug: PathLine, registration_id: PathId) -> RosterRow:
        return roster_row(await services.move_up(slug, registration_id, now=utcnow()))

    @get("/questions", summary="The event's custom registration questions")
    async def list_questions(
        self, request: Request[Any, Any, Any], slug: PathLine
    ) -> list[QuestionSpec]:
        event = await get_public_event(slug, request.scope.get("user"))
        return await question_service.questions_of(event.id)

    @put("/questions", summary="Replace the event's custom questions", guards=[manages_event])
    async def replace_questions(
        self, slug: PathLine, data: JSONBody[list[QuestionSpec]]
    ) -> list[QuestionSpec]:
        event = await get_event(slug)
        return await question_service.replace_questions(event.id, data)


def _roster_query(
    status: str | None, group: str | None, q: str, sort: str, limit: int, offset: int
) -> RosterQuery:
    problems = ErrorCollector()
    if status and status not in STATUSES:
        problems.add("status", N_("must be one of %(value)s"), value=", ".join(STATUSES))
    if group and group not in STAKEHOLDER_GROUPS:
        problems.add(
            "stakeholder_group", N_("must be one of %(value)s"), value=", ".join(STAKEHOLDER_GROUPS)
        )
    if sort not in SORTS:
        problems.add("sort", N_("must be one of %(value)s"), value=", ".join(SORTS))
    problems.raise_if_any()
    return RosterQuery(
        status=status, stakeholder_group=group, q=q[:200], sort=sort, limit=limit, offset=offset
    )


class SelfServiceApiController(Controller):
    path = "/api/v1/registrations/{token:str}"
    tags = ("registrations",)

    @get("/", summary="Read your registration (by the secret link from your mail)")
    async def read(self, token: PathLine) -> RegistrationOut:
        registration = await services.by_token(token)
        return registration_out(registration, await _event_of(registration))

    @patch("/", summary="Change your details or answers")
    async def change(self, token: PathLine, data: JSONBody[RegistrationChange]) -> RegistrationOut:
        registration = await services.change_registration(token, data, now=utcnow())
        return registration_out(registration, await _event_of(registration))

    @delete("/", summary="Cancel your registration", status_code=200)
    async def cancel(self, token: PathLine) -> RegistrationOut:
        registration = await services.cancel_by_person(token, now=utcnow())
        return registration_out(registration, await _event_of(registration))

    @post(
        "/confirm-address",
        summary="Confirm your email address (double opt-in); the held place becomes yours",
        description="Repeating it changes nothing. After `unconfirmed_until` the place is "
        "released and the answer is 409 `confirmation_expired`.",
        status_code=200,
    )
    async def confirm_address(self, token: PathLine) -> RegistrationOut:
        registration = await services.confirm_address(token, now=utcnow())
        return registration_out(registration, await _event_of(registration))


NO_STORE = {"Cache-Control": "no-store", "X-Robots-Tag": "noindex"}


def form_text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def form_answers(form: Any, questions: list[QuestionSpec]) -> dict[str, AnswerValue]:
    """Answers from form fields named answers.<key>; checkboxes repeat their name."""
    answers: dict[str, AnswerValue] = {}
    for question in questions:
        name = f"answers.{question.key}"
        if question.kind == "multiple_choice":
            answers[question.key] = [v for v in form.getall(name, []) if isinstance(v, str)]
        elif question.kind == "yes_no":
            raw = form_text(form, name)
            if raw in ("yes", "no"):
                answers[question.key] = raw == "yes"
        elif form_text(form, name):
            answers[question.key] = form_text(form, name)
    return answers


class EventChangeApiController(EventApiController):
    """The event API, with the two calls that tell registrants what changed."""

    @patch(
        "/{slug:str}",
        summary="Change the fields sent; a change an invite shows raises its calendar SEQUENCE",
        guards=[manages_event],
    )
    async def update_event(self, slug: PathLine, data: JSONBody[EventUpdate]) -> EventOut:
        return event_out(await update_and_notify(slug, data, now=utcnow()))

    @post(
        "/{slug:str}/cancel",
        summary="Cancel a published event, with a reason",
        guards=[manages_event],
        status_code=200,
    )
    async def cancel_event(self, slug: PathLine, data: JSONBody[Cancellation]) -> EventOut:
        return event_out(await cancel_and_notify(slug, data.reason, now=utcnow()))


async def event_page(
    event: EventView,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status_code: int = 200,
) -> Template:
    """The event page with its registration form, fresh or showing what went wrong."""
    now = utcnow()
    return Template(
        template_name="events/detail.html",
        context={
            "event": event,
            "now": now,
            "registration_open": event.registration_is_open(now),
            "regions": {c.code: c for c in await regions()},
            "sectors": {c.code: c for c in await sectors()},
            "questions": await question_service.questions_of(event.id),
            "google_url": google_link(calendar_event(event)),
            "outlook_url": outlook_link(calendar_event(event)),
            "stakeholder_groups": STAKEHOLDER_GROUPS,
            "values": values or {},
            "errors": errors or {},
            "form_error": form_error,
        },
        status_code=status_code,
    )


class RegistrationPagesController(Controller):
    include_in_schema = False

    @get("/events/{slug:str}", name="event")
    async def event(
        self, request: Request[Any, Any, Any], slug: PathLine
    ) -> Template | Response[bytes]:
        """The event page, or with .ics its calendar file (one path segment serves both)."""
        if slug.endswith(".ics"):
            return await event_calendar(request, slug.removesuffix(".ics"))
        return await event_page(await get_public_event(slug, viewer(request)))

    @post("/events/{slug:str}/register")
    async def register(
        self, request: Request[Any, Any, Any], slug: PathLine
    ) -> Template | Redirect:
        event = await get_public_event(slug)
        form = await request.form()
        questions = await question_service.questions_of(event.id)
        values: dict[str, Any] = {
            name: form_text(form, name)
            for name in ("name", "email", "organisation", "stakeholder_group", "role", "notes")
        }
        values["language"] = form_text(form, "language") or "de"
        values["consent"] = form_text(form, "consent") == "yes"
        values["answers"] = form_answers(form, questions)
        receipt_page = f"/events/{slug}/registered"
        if form_text(form, "website"):
            # A bot filled the invisible field: thank it, store nothing, and promise no mail.
            return see_other(request, receipt_page, {"mailed": False})
        try:
            await services.register(slug, RegistrationForm(**values), now=utcnow())
        except ValidationFailed as failed:
            return await event_page(event, values=values, errors=failed.by_field(), status_code=422)
        except Conflict as refused:
            return await event_page(
                event, values=values, form_error=refused.translated(), status_code=409
            )
        return see_other(request, receipt_page, {"mailed": True})

    @get("/events/{slug:str}/registered")
    async def receipt(self, request: Request[Any, Any, Any], slug: PathLine) -> Template | Redirect:
        """The same words for a new registration and an address registered already.

        Whether a seat, a waiting-list place or approval awaits, and the secret link, are told
        only in the mail: anyone may type any address into the form.
        """
        event = await get_public_event(slug)
        outcome = outcome_for(request, keep=True)
        if outcome is None:
            return Redirect(path=f"/events/{slug}", status_code=303)
        return Template(
            template_name="registrations/received.html",
            context={"event": event, "mailed": outcome["mailed"]},
            headers=NO_STORE,
        )

    @get("/registrations/{token:str}", name="manage_registration")
    async def manage(self, request: Request[Any, Any, Any], token: PathLine) -> Template:
        """Also where the confirm-your-address mail leads: a GET never confirms (mail
        scanners open links), the button on the page does."""
        registration = await services.by_token(token)
        outcome = outcome_for(request) or {}
        return await _manage_page(
            token,
            registration,
            saved=bool(outcome.get("saved")),
            address_confirmed=bool(outcome.get("address_confirmed")),
        )

    @post("/registrations/{token:str}/confirm-address")
    async def confirm_address(
        self, request: Request[Any, Any, Any], token: PathLine
    ) -> Template | Redirect:
        try:
            await services.confirm_address(token, now=utcnow())
        except Conflict as refused:
            return await _manage_page(
                token,
                await services.by_token(token),
                form_error=refused.translated(),
                status_code=409,
            )
        return see_other(request, f"/registrations/{token}", {"address_confirmed": True})

    @post("/registrations/{token:str}")
    async def change(self, request: Request[Any, Any, Any], token: PathLine) -> Template | Redirect:
        registration = await services.by_token(token)
        form = await request.form()
        questions = await question_service.questions_of(registration.event)
        change = RegistrationChange(
            name=form_text(form, "name"),
            organisation=form_text(form, "organisation"),
            role=form_text(form, "role"),
            notes=form_text(form, "notes"),
            answers=form_answers(form, questions),
            language=form_text(form, "language") or registration.language,  # type: ignore[arg-type]
        )
        try:
            await services.change_registration(token, change, now=utcnow())
        except ValidationFailed as failed:
            values = msgspec.structs.asdict(change)
            return await _manage_page(
                token, registration, values=values, errors=failed.by_field(), status_code=422
            )
        return see_other(request, f"/registrations/{token}", {"saved": True})

    @get("/registrations/{token:str}/calendar.ics")
    async def personal_feed(
        self, request: Request[Any, Any, Any], token: PathLine
    ) -> Response[bytes]:
        """Every event this person holds a seat at, as a calendar to subscribe to."""
        events = await services.events_of_person(token, now=utcnow())
        fingerprint = "|".join(f"{e.id}:{e.updated_at.isoformat()}" for e in events)
        etag = feed_etag(fingerprint, token)
        latest = newest(events)
        if client_is_current(request, etag, latest):
            return not_modified(etag, latest, private=True)
        body = calendar_feed(events, name="Treffpunkt")
        return calendar_response(body, etag=etag, last_modified=latest, private=True)

    @get("/registrations/{token:str}/cancel")
    async def confirm_cancel(self, token: PathLine) -> Template:
        registration = await services.by_token(token)
        event = await _event_of(registration)
        return Template(
            template_name="registrations/cancel.html",
            context={"event": event, "token": token, "form_error": None},
            headers=NO_STORE,
        )

    @post("/registrations/{token:str}/cancel")
    async def cancel(self, request: Request[Any, Any, Any], token: PathLine) -> Template | Redirect:
        try:
            await services.cancel_by_person(token, now=utcnow())
        except Conflict as refused:
            registration = await services.by_token(token)
            return Template(
                template_name="registrations/cancel.html",
                context={
                    "event": await _event_of(registration),
                    "token": token,
                    "form_error": refused.translated(),
                },
                status_code=409,
                headers=NO_STORE,
            )
        return see_other(request, f"/registrations/{token}")


async def _manage_page(
    token: str,
    registration: RegistrationView,
    *,
    values: dict[str, Any] | None = None,
    errors: dict[str, str] | None = None,
    saved: bool = False,
    address_confirmed: bool = False,
    form_error: str | None = None,
    status_code: int = 200,
) -> Template:
    return Template(
        template_name="registrations/manage.html",
        context={
            "token": token,
            "registration": registration,
            "event": await _event_of(registration),
            "questions": await question_service.questions_of(registration.event),
            "values": values or registration.__dict__,
            "errors": errors or {},
            "saved": saved,
            "address_confirmed": address_confirmed,
            "form_error": form_error,
            "mail_failed": await last_mail_failed(registration.id),
        },
        status_code=status_code,
        headers=NO_STORE,
    )
