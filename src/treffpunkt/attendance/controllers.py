"""HTTP for attendance: the QR ticket of a registration, as image and printable page."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Annotated, Any
from urllib.parse import parse_qsl

import msgspec
from litestar import Controller, Request, Response, delete, get, post, put
from litestar.params import JSONBody, QueryParameter
from litestar.response import Redirect, Template

from treffpunkt.attendance import feedback, services
from treffpunkt.attendance.codes import check_in_code
from treffpunkt.attendance.feedback import FeedbackQuestionSpec
from treffpunkt.attendance.schemas import (
    AttendanceSummary,
    CheckInAnswer,
    CheckInRequest,
    FeedbackResults,
    RatingResult,
    Recipients,
)
from treffpunkt.attendance.services import CheckIn
from treffpunkt.attendance.tickets import ticket_png, ticket_svg
from treffpunkt.clock import utcnow
from treffpunkt.errors import N_, Conflict, DomainError, ErrorCollector, NotFound, ValidationFailed
from treffpunkt.events.services import EventView, get_event, get_event_by_id
from treffpunkt.i18n import format_clock, gettext
from treffpunkt.inputs import PathId, PathLine, QueryLine, is_single_line
from treffpunkt.notifications.services import delivery_problems
from treffpunkt.registrations.controllers import form_answers, form_text
from treffpunkt.registrations.questions import questions_of
from treffpunkt.registrations.roster import RosterQuery, roster, roster_csv
from treffpunkt.registrations.schemas import STAKEHOLDER_GROUPS, STATUSES, ManualRegistration
from treffpunkt.registrations.services import (
    RegistrationView,
    add_by_organiser,
    approve,
    by_id,
    by_token,
    cancel_by_organiser,
    decline,
    move_up,
    promote,
)
from treffpunkt.templating import query_string
from treffpunkt.web.auth import manages_event
from treffpunkt.web.errors import status_for
from treffpunkt.web.prg import outcome_for, see_other

PRIVATE = {"Cache-Control": "private, no-store", "X-Robots-Tag": "noindex"}


async def _ticket_holder(token: str) -> RegistrationView:
    registration = await by_token(token)
    if registration.status != "confirmed" or registration.awaits_address_confirmation:
        raise NotFound(N_("only confirmed registrations have a ticket"), code="ticket_not_found")
    return registration


class TicketController(Controller):
    path = "/registrations/{token:str}"
    tags = ("attendance",)

    @get("/ticket.png", summary="The QR ticket as PNG (holder of the secret link)")
    async def png(self, token: PathLine) -> Response[bytes]:
        registration = await _ticket_holder(token)
        code = check_in_code(registration.event, registration.id)
        return Response(ticket_png(code), media_type="image/png", headers=PRIVATE)

    @get("/ticket.svg", summary="The QR ticket as SVG (holder of the secret link)")
    async def svg(self, token: PathLine) -> Response[bytes]:
        registration = await _ticket_holder(token)
        code = check_in_code(registration.event, registration.id)
        return Response(ticket_svg(code), media_type="image/svg+xml", headers=PRIVATE)

    @get("/ticket", include_in_schema=False)
    async def page(self, token: PathLine) -> Template:
        registration = await _ticket_holder(token)
        return Template(
            template_name="attendance/ticket.html",
            context={
                "registration": registration,
                "event": await get_event_by_id(registration.event),
                "code": check_in_code(registration.event, registration.id),
                "token": token,
            },
            headers=PRIVATE,
        )


def check_in_answer(check_in: CheckIn) -> CheckInAnswer:
    return CheckInAnswer(
        registration_id=check_in.registration_id,
        already_checked_in=check_in.already_checked_in,
        checked_in_at=check_in.checked_in_at,
        name=check_in.name,
        organisation=check_in.organisation,
        status=check_in.status,  # type: ignore[arg-type]
    )


class CheckInApiController(Controller):
    path = "/api/v1/events/{slug:str}"
    tags = ("attendance",)
    guards = (manages_event,)

    @post(
        "/check-ins",
        summary="Check someone in by the code of their QR ticket (or by registration id)",
        description="A repeat scan answers 200 with `already_checked_in: true` and the first "
        "time. Forged codes, codes of another event and registrations without a seat are "
        "refused with distinct codes.",
        status_code=200,
    )
    async def check_in(self, slug: PathLine, data: JSONBody[CheckInRequest]) -> CheckInAnswer:
        if (data.code is None) == (data.registration_id is None):
            problems = ErrorCollector()
            problems.add("code", N_("send either the ticket code or the registration id"))
            problems.raise_if_any()
        if data.code is not None:
            done = await services.check_in_by_code(slug, data.code, now=utcnow())
        else:
            assert data.registration_id is not None
            done = await services.check_in_by_id(slug, data.registration_id, now=utcnow())
        return check_in_answer(done)

    @delete(
        "/check-ins/{registration_id:int}",
        summary="Undo a check-in",
        status_code=204,
    )
    async def undo(self, slug: PathLine, registration_id: PathId) -> None:
        await services.undo_check_in(slug, registration_id)

    @post(
        "/walk-ins",
        summary="Register someone at the door and check them in at once",
        status_code=201,
    )
    async def walk_in(self, slug: PathLine, data: JSONBody[ManualRegistration]) -> CheckInAnswer:
        return check_in_answer(await services.walk_in(slug, data, now=utcnow()))


class CheckInPagesController(Controller):
    """The door: a phone-sized page that scans tickets, takes typed codes and finds names.

    It works without JavaScript (plain forms); with it, scans and answers stay on the page.
    """

    path = "/organiser/events/{slug:str}/check-in"
    guards = (manages_event,)
    include_in_schema = False

    async def _page(
        self,
        slug: str,
        *,
        q: str = "",
        result: dict[str, object] | None = None,
        status_code: int = 200,
    ) -> Template:
        event = await get_event(slug)
        return Template(
            template_name="attendance/check_in.html",
            context={
                "event": event,
                "q": q,
                "people": await services.find_people(event.id, q) if q else [],
                "counters": await services.counters(event.id),
                "result": result,
            },
            status_code=status_code,
            headers={"Permissions-Policy": "camera=(self)", "Cache-Control": "no-store"},
        )

    @get("/")
    async def page(
        self,
        request: Request[Any, Any, Any],
        slug: PathLine,
        q: QueryLine = "",
    ) -> Template:
        return await self._page(slug, q=q[:100], result=outcome_for(request))

    @post("/")
    async def submit(
        self, request: Request[Any, Any, Any], slug: PathLine
    ) -> Template | Redirect | Response[dict[str, object]]:
        """A code (scanned or typed) or a registration id; JSON for the script, a page for forms.

        A form's check-in leads back to the door, so a reload never scans again; a refusal
        stays on the page with its error status.
        """
        form = await request.form()
        code = str(form.get("code") or "").strip()
        registration_id = str(form.get("registration_id") or "").strip()
        result, status = await door_result(slug, code=code, registration_id=registration_id)
        if request.headers.get("accept", "").startswith("application/json"):
            event = await get_event(slug)
            counters = await services.counters(event.id)
            return Response(
                {**result, "checked_in": counters.checked_in, "confirmed": counters.confirmed},
                status_code=200,
            )
        if status != 200:
            return await self._page(slug, result=result, status_code=status)
        return see_other(request, f"/organiser/events/{slug}/check-in", result)

    @get("/counters")
    async def live_counters(self, slug: PathLine) -> dict[str, int]:
        counters = await services.counters((await get_event(slug)).id)
        return {"checked_in": counters.checked_in, "confirmed": counters.confirmed}


async def door_result(
    slug: str, *, code: str, registration_id: str
) -> tuple[dict[str, object], int]:
    """What the door shows: green (in), amber (already in) or red (refused), with who it is.

    With it the status a form's answer takes: 200, or the refusal's error status.
    """
    try:
        if registration_id.isdigit():
            done = await services.check_in_by_id(slug, int(registration_id), now=utcnow())
        else:
            done = await services.check_in_by_code(slug, code, now=utcnow())
    except DomainError as refused:
        message = refused.translated()
        refusal: dict[str, object] = {
            "outcome": "refused",
            "message": message[:1].upper() + message[1:],
            "code": refused.code,
        }
        return refusal, status_for(refused)
    when = format_clock(done.checked_in_at.astimezone((await get_event(slug)).zone))
    return {
        "outcome": "again" if done.already_checked_in else "welcome",
        "name": done.name,
        "organisation": done.organisation,
        "message": (
            gettext("Already checked in at %(time)s") % {"time": when}
            if done.already_checked_in
            else gettext("Welcome!")
        ),
    }, 200


@dataclass(frozen=True)
class RosterAction:
    """An organiser's decision about one registration that the person hears about by mail."""

    # The statuses the action applies to; the roster offers it only there.
    applies_to: tuple[str, ...]
    # Whether the organiser may give a seat beyond capacity with it.
    may_exceed: bool
    perform: Callable[[str, int, datetime, bool], Awaitable[RegistrationView]]


ROSTER_ACTIONS = {
    "approve": RosterAction(
        ("pending",),
        may_exceed=True,
        perform=lambda slug, rid, now, exceed: approve(slug, rid, now=now, exceed_capacity=exceed),
    ),
    "decline": RosterAction(
        ("pending",),
        may_exceed=False,
        perform=lambda slug, rid, now, _: decline(slug, rid, now=now),
    ),
    "cancel": RosterAction(
        ("confirmed", "waitlisted"),
        may_exceed=False,
        perform=lambda slug, rid, now, _: cancel_by_organiser(slug, rid, now=now),
    ),
    "promote": RosterAction(
        ("waitlisted",),
        may_exceed=True,
        perform=lambda slug, rid, now, exceed: promote(slug, rid, now=now, exceed_capacity=exceed),
    ),
}
# What the roster says once an action or an addition is done, by the person's new status.
DONE_MESSAGES = {
    "confirmed": N_("%(name)s is confirmed; a mail is on its way."),
    "waitlisted": N_("%(name)s is on the waiting list; a mail is on its way."),
    "declined": N_("%(name)s is declined; a mail is on its way."),
    "cancelled": N_("The registration of %(name)s is cancelled; a mail is on its way."),
}


def _roster_action(name: str) -> RosterAction:
    if name not in ROSTER_ACTIONS:
        raise NotFound(N_("no such action"), code="not_found")
    return ROSTER_ACTIONS[name]


def _roster_filters(values: Mapping[str, Any]) -> dict[str, str]:
    """The roster's filters from a query or a form: known values only, so links stay sane."""
    status = values.get("status")
    group = values.get("stakeholder_group")
    q = values.get("q")
    return {
        "status": status if status in STATUSES else "",
        "stakeholder_group": group if group in STAKEHOLDER_GROUPS else "",
        "q": q[:200] if isinstance(q, str) and is_single_line(q) else "",
    }


def _roster_filters_posted(form: Any) -> dict[str, str]:
    """The filters a form carries back in one field, apart from the person's own fields."""
    carried = form.get("roster")
    return _roster_filters(dict(parse_qsl(carried if isinstance(carried, str) else "")))


def _roster_url(slug: str, filters: dict[str, str], registration_id: int | None = None) -> str:
    query = query_string(filters)
    anchor = f"#r{registration_id}" if registration_id is not None else ""
    return f"/organiser/events/{slug}/roster{'?' + query if query else ''}{anchor}"


class RosterPagesController(Controller):
    """Everyone registered, with the organiser's decisions, check-in by hand and additions.

    Decisions that mail someone (approve, decline, cancel, give a seat) show a confirmation
    page first; additions and check-ins act at once. Every change answers 303 to the roster
    with what it came to, keeping the roster's filters.
    """

    path = "/organiser/events/{slug:str}"
    guards = (manages_event,)
    include_in_schema = False

    @get("/roster")
    async def roster_page(
        self,
        request: Request[Any, Any, Any],
        slug: PathLine,
        status: QueryLine = "",
        stakeholder_group: QueryLine = "",
        q: QueryLine = "",
        sheet: Annotated[bool, QueryParameter()] = False,
    ) -> Template:
        event = await get_event(slug)
        filters = _roster_filters(
            {"status": status, "stakeholder_group": stakeholder_group, "q": q}
        )
        query = RosterQuery(
            status=filters["status"] or None,
            stakeholder_group=filters["stakeholder_group"] or None,
            q=filters["q"],
            sort="name",
        )
        if sheet:
            query = dataclasses.replace(query, status="confirmed")
        people, total = await roster(event.id, query, everything=True)
        return Template(
            template_name="attendance/sign_in_sheet.html" if sheet else "attendance/roster.html",
            context={
                "event": event,
                "people": people,
                "total": total,
                "questions": await questions_of(event.id),
                "filters": filters,
                "statuses": STATUSES,
                "stakeholder_groups": STAKEHOLDER_GROUPS,
                "counters": await services.counters(event.id),
                "problems": await delivery_problems(event.id),
                "event_over": event.is_finished(utcnow()),
                "actions": ROSTER_ACTIONS,
                "done": outcome_for(request),
            },
            headers={"Cache-Control": "no-store"},
        )

    @get("/roster.csv")
    async def roster_csv_download(self, slug: PathLine) -> Response[bytes]:
        event = await get_event(slug)
        return Response(
            await roster_csv(event, RosterQuery(sort="name"), now=utcnow()),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{slug}-roster.csv"'},
        )

    @post("/roster/{registration_id:int}/check-in")
    async def check_in_by_hand(
        self, request: Request[Any, Any, Any], slug: PathLine, registration_id: PathId
    ) -> Redirect:
        await services.check_in_by_id(slug, registration_id, now=utcnow())
        filters = _roster_filters_posted(await request.form())
        return see_other(request, _roster_url(slug, filters, registration_id))

    @post("/roster/{registration_id:int}/move-up")
    async def move_up_one_place(
        self, request: Request[Any, Any, Any], slug: PathLine, registration_id: PathId
    ) -> Redirect:
        """One place up the waiting list (it mails nobody, so it asks nothing first)."""
        await move_up(slug, registration_id, now=utcnow())
        filters = _roster_filters_posted(await request.form())
        return see_other(request, _roster_url(slug, filters, registration_id))

    @post("/roster/{registration_id:int}/undo")
    async def undo_by_hand(
        self, request: Request[Any, Any, Any], slug: PathLine, registration_id: PathId
    ) -> Redirect:
        await services.undo_check_in(slug, registration_id)
        filters = _roster_filters_posted(await request.form())
        return see_other(request, _roster_url(slug, filters, registration_id))

    @get("/roster/{registration_id:int}/{action:str}")
    async def confirm_action(
        self,
        request: Request[Any, Any, Any],
        slug: PathLine,
        registration_id: PathId,
        action: PathLine,
    ) -> Template:
        """Who will get which mail, with confirm and back: nothing changes on a GET."""
        return await _action_page(
            slug, registration_id, action, filters=_roster_filters(request.query_params)
        )

    @post("/roster/{registration_id:int}/{action:str}")
    async def perform_action(
        self,
        request: Request[Any, Any, Any],
        slug: PathLine,
        registration_id: PathId,
        action: PathLine,
    ) -> Template | Redirect:
        chosen = _roster_action(action)
        form = await request.form()
        filters = _roster_filters_posted(form)
        exceed = form_text(form, "exceed_capacity") == "yes"
        try:
            done = await chosen.perform(slug, registration_id, utcnow(), exceed)
        except DomainError as refused:
            return await _action_page(
                slug,
                registration_id,
                action,
                filters=filters,
                refusal=refused,
                exceed=exceed,
            )
        message = gettext(DONE_MESSAGES[done.status]) % {"name": done.name}
        return see_other(request, _roster_url(slug, filters, registration_id), {"message": message})

    @get("/roster/add")
    async def add_form(self, request: Request[Any, Any, Any], slug: PathLine) -> Template:
        """The form to add someone; from the door (`?at=door`) it checks them in and goes back."""
        return await _add_page(
            slug,
            filters=_roster_filters(request.query_params),
            at_door=request.query_params.get("at") == "door",
        )

    @post("/roster/add")
    async def add_person(
        self, request: Request[Any, Any, Any], slug: PathLine
    ) -> Template | Redirect:
        """Someone on the roster with a seat (beyond capacity only when ticked) and a mail."""
        return await _add(request, slug, walk_in=False)

    @post("/roster/walk-in")
    async def add_walk_in(
        self, request: Request[Any, Any, Any], slug: PathLine
    ) -> Template | Redirect:
        """Someone at the door: added with a seat and checked in at once."""
        return await _add(request, slug, walk_in=True)


async def _action_page(
    slug: str,
    registration_id: int,
    action: str,
    *,
    filters: dict[str, str],
    refusal: DomainError | None = None,
    exceed: bool = False,
) -> Template:
    spec = _roster_action(action)
    event = await get_event(slug)
    return Template(
        template_name="attendance/roster_action.html",
        context={
            "event": event,
            "person": await by_id(slug, registration_id),
            "action": action,
            "spec": spec,
            "filters": filters,
            "back": _roster_url(slug, filters, registration_id),
            "refusal": refusal.translated() if refusal else None,
            "full": refusal is not None and refusal.code == "event_full",
            "exceed": exceed,
        },
        status_code=status_for(refusal) if refusal else 200,
        headers={"Cache-Control": "no-store"},
    )


async def _add(request: Request[Any, Any, Any], slug: str, *, walk_in: bool) -> Template | Redirect:
    form = await request.form()
    filters = _roster_filters_posted(form)
    at_door = walk_in and form_text(form, "at") == "door"
    values = {
        name: form_text(form, name).strip()
        for name in ("name", "email", "organisation", "stakeholder_group", "role", "language")
    }
    values["language"] = values["language"] or "de"
    person = ManualRegistration(
        **values,  # type: ignore[arg-type]
        consent=form_text(form, "consent") == "yes",
        answers=form_answers(form, await questions_of((await get_event(slug)).id)),
        exceed_capacity=form_text(form, "exceed_capacity") == "yes",
    )
    try:
        if walk_in:
            registration_id = (await services.walk_in(slug, person, now=utcnow())).registration_id
        else:
            registration_id = (
                await add_by_organiser(slug, person, now=utcnow(), needs_seat=True)
            ).registration_id
    except ValidationFailed as failed:
        return await _add_page(
            slug,
            filters=filters,
            person=person,
            errors=failed.by_field(),
            status_code=400,
            at_door=at_door,
        )
    except DomainError as refused:
        # Full and already registered belong next to their fields; the rest above the form.
        field = {"event_full": "exceed_capacity", "already_registered": "email"}.get(refused.code)
        return await _add_page(
            slug,
            filters=filters,
            person=person,
            errors={field: refused.translated()} if field else {},
            form_error=None if field else refused.translated(),
            status_code=status_for(refused),
            at_door=at_door,
        )
    if at_door:
        welcome = {"outcome": "welcome", "name": person.name, "organisation": person.organisation}
        return see_other(
            request,
            f"/organiser/events/{slug}/check-in",
            {**welcome, "message": gettext("Welcome!")},
        )
    message = (
        N_("%(name)s is registered and checked in; a mail is on its way.")
        if walk_in
        else DONE_MESSAGES["confirmed"]
    )
    return see_other(
        request,
        _roster_url(slug, filters, registration_id),
        {"message": gettext(message) % {"name": person.name}},
    )


async def _add_page(
    slug: str,
    *,
    filters: dict[str, str],
    person: ManualRegistration | None = None,
    errors: dict[str, str] | None = None,
    form_error: str | None = None,
    status_code: int = 200,
    at_door: bool = False,
) -> Template:
    event = await get_event(slug)
    return Template(
        template_name="attendance/roster_add.html",
        context={
            "event": event,
            "values": msgspec.structs.asdict(person) if person else {},
            "errors": errors or {},
            "form_error": form_error,
            "filters": filters,
            "back": f"/organiser/events/{slug}/check-in" if at_door else _roster_url(slug, filters),
            "at_door": at_door,
            "questions": await questions_of(event.id),
            "stakeholder_groups": STAKEHOLDER_GROUPS,
        },
        status_code=status_code,
        headers={"Cache-Control": "no-store"},
    )


async def attendance_summary(event: EventView, *, now: datetime) -> AttendanceSummary:
    counts = await services.counters(event.id)
    over = event.is_finished(now)
    return AttendanceSummary(
        confirmed=counts.confirmed,
        checked_in=counts.checked_in,
        no_show=counts.confirmed - counts.checked_in if over else 0,
        attendance_rate=round(counts.checked_in / counts.confirmed, 4)
        if counts.confirmed
        else None,
    )


class AfterTheEventApiController(Controller):
    path = "/api/v1/events/{slug:str}"
    tags = ("attendance",)
    guards = (manages_event,)

    @get("/attendance", summary="Who came: confirmed, checked in, no-shows and the rate")
    async def attendance(self, slug: PathLine) -> AttendanceSummary:
        return await attendance_summary(await get_event(slug), now=utcnow())

    @get("/feedback-questions", summary="The feedback questions (3 to 5)")
    async def list_feedback_questions(self, slug: PathLine) -> list[FeedbackQuestionSpec]:
        return await feedback.feedback_questions((await get_event(slug)).id)

    @put("/feedback-questions", summary="Set the feedback questions (3 to 5, rating or text)")
    async def set_feedback_questions(
        self, slug: PathLine, data: JSONBody[list[FeedbackQuestionSpec]]
    ) -> list[FeedbackQuestionSpec]:
        return await feedback.replace_feedback_questions(await get_event(slug), data)

    @post(
        "/thank-you",
        summary="Thank everyone who came, with a link to the feedback form (once each)",
        status_code=202,
    )
    async def thank_you(self, slug: PathLine) -> Recipients:
        count = await feedback.thank_attendees(await get_event(slug), now=utcnow())
        return Recipients(recipients=count)

    @get("/feedback", summary="Feedback results: counts, averages, distributions and texts")
    async def results(self, slug: PathLine) -> FeedbackResults:
        responses, questions = await feedback.feedback_results((await get_event(slug)).id)
        return FeedbackResults(
            responses=responses,
            questions=[RatingResult(**dataclasses.asdict(q)) for q in questions],
        )


class FeedbackPagesController(Controller):
    """The feedback form attendees reach from their thank-you mail."""

    include_in_schema = False

    @get("/feedback/{token:str}")
    async def form(self, request: Request[Any, Any, Any], token: PathLine) -> Template:
        registration = await by_token(token)
        thanked = bool((outcome_for(request) or {}).get("thanked"))
        return await _feedback_page(token, registration, thanked=thanked)

    @post("/feedback/{token:str}")
    async def answer(self, request: Request[Any, Any, Any], token: PathLine) -> Template | Redirect:
        registration = await by_token(token)
        form = await request.form()
        questions = await feedback.feedback_questions(registration.event)
        answers = {q.key: str(form.get(f"answers.{q.key}") or "") for q in questions}
        try:
            await feedback.answer_feedback(registration, answers, now=utcnow())
        except ValidationFailed as failed:
            errors = {e.field: e.translated() for e in failed.errors}
            return await _feedback_page(
                token, registration, values=answers, errors=errors, status_code=422
            )
        except Conflict as refused:
            return await _feedback_page(
                token, registration, refusal=refused.translated(), status_code=409
            )
        return see_other(request, f"/feedback/{token}", {"thanked": True})


async def _feedback_page(
    token: str,
    registration: RegistrationView,
    *,
    values: dict[str, str] | None = None,
    errors: dict[str, str] | None = None,
    refusal: str | None = None,
    thanked: bool = False,
    status_code: int = 200,
) -> Template:
    return Template(
        template_name="attendance/feedback.html",
        context={
            "token": token,
            "event": await get_event_by_id(registration.event),
            "registration": registration,
            "questions": await feedback.feedback_questions(registration.event),
            "answered": await feedback.has_answered(registration.id),
            "values": values or {},
            "errors": errors or {},
            "refusal": refusal,
            "thanked": thanked,
        },
        status_code=status_code,
        headers=PRIVATE,
    )
