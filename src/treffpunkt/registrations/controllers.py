"""HTTP for registrations: the public API and form, self-service by secret link, the roster."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import FromPath, JSONBody, QueryParameter
from litestar.types import Middleware

from treffpunkt.clock import utcnow
from treffpunkt.errors import ErrorCollector
from treffpunkt.events.services import EventView, get_event, get_public_event
from treffpunkt.registrations import questions as question_service
from treffpunkt.registrations import services
from treffpunkt.registrations.roster import SORTS, RosterQuery, roster, roster_csv
from treffpunkt.registrations.schemas import (
    STAKEHOLDER_GROUPS,
    STATUSES,
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

RECEIPT_MESSAGES = {
    "confirmed": "Your place is confirmed. A confirmation with your personal link is on its way.",
    "waitlisted": "The event is full; you are on the waiting list. We will write to you.",
    "pending": "The organisers confirm registrations personally. We will write to you.",
}
RESENT_MESSAGE = "This address is registered already; we have sent the confirmation again."


def public_rate_limit() -> list[Middleware]:
    """Per client address, for the public registration endpoints; 0 switches it off."""
    per_minute = get_settings().registration_rate_limit
    if per_minute <= 0:
        return []
    return [RateLimitConfig(rate_limit=("minute", per_minute)).middleware]


def receipt(slug: str, outcome: Outcome) -> Receipt:
    if outcome.already_registered:
        return Receipt(
            event=slug,
            status=None,
            waitlist_position=None,
            already_registered=True,
            message=RESENT_MESSAGE,
        )
    return Receipt(
        event=slug,
        status=outcome.status,  # type: ignore[arg-type]
        waitlist_position=outcome.waitlist_position,
        already_registered=False,
        message=RECEIPT_MESSAGES[outcome.status],
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
    )


def roster_row(registration: RegistrationView) -> RosterRow:
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
        added_by_organiser=registration.added_by_organiser,
    )


async def _event_of(registration: RegistrationView) -> EventView:
    return await get_event((await services.get_event_by_id(registration.event))["slug"])


class RegistrationApiController(Controller):
    path = "/api/v1/events/{slug:str}"
    tags = ("registrations",)

    @post(
        "/registrations",
        summary="Register for an event",
        description="201 with the status (confirmed, waitlisted or pending). An address that is "
        "registered already gets 200, `already_registered: true`, and the confirmation again "
        "by mail. A full event without a waiting list answers 409 `event_full`.",
        status_code=201,
        middleware=public_rate_limit(),
    )
    async def register(
        self, slug: FromPath[str], data: JSONBody[RegistrationForm]
    ) -> Response[Receipt]:
        outcome = await services.register(slug, data, now=utcnow())
        return Response(
            receipt(slug, outcome), status_code=200 if outcome.already_registered else 201
        )

    @get(
        "/registrations",
        summary="The roster (organisers)",
        description="`total` counts every registration of the event unless a filter is given.",
        guards=[manages_event],
    )
    async def list_roster(
        self,
        slug: FromPath[str],
        status: Annotated[str | None, QueryParameter(description=", ".join(STATUSES))] = None,
        stakeholder_group: Annotated[str | None, QueryParameter()] = None,
        q: Annotated[str, QueryParameter(description="Words in name, email, organisation")] = "",
        sort: Annotated[str, QueryParameter(description=", ".join(SORTS))] = "created_at",
        limit: Annotated[int, QueryParameter(ge=1, le=100)] = 50,
        offset: Annotated[int, QueryParameter(ge=0)] = 0,
    ) -> RosterPage:
        query = _roster_query(status, stakeholder_group, q, sort, limit, offset)
        event = await get_event(slug)
        rows, total = await roster(event.id, query)
        return RosterPage(
            items=[roster_row(r) for r in rows], total=total, limit=limit, offset=offset
        )

    @get(
        "/registrations.csv",
        summary="The roster as CSV for Excel (UTF-8 with BOM, semicolons)",
        guards=[manages_event],
        media_type="text/csv",
    )
    async def export_roster(
        self,
        slug: FromPath[str],
        status: Annotated[str | None, QueryParameter()] = None,
        stakeholder_group: Annotated[str | None, QueryParameter()] = None,
        q: Annotated[str, QueryParameter()] = "",
        sort: Annotated[str, QueryParameter()] = "created_at",
    ) -> Response[bytes]:
        query = _roster_query(status, stakeholder_group, q, sort, 100, 0)
        event = await get_event(slug)
        return Response(
            await roster_csv(event.id, query),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="{slug}-roster.csv"'},
        )

    @post(
        "/roster",
        summary="Add someone by hand (organisers); beyond capacity only with exceed_capacity",
        guards=[manages_event],
        status_code=201,
    )
    async def add_by_hand(
        self, slug: FromPath[str], data: JSONBody[ManualRegistration]
    ) -> RosterRow:
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
        slug: FromPath[str],
        registration_id: FromPath[int],
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
    async def decline(self, slug: FromPath[str], registration_id: FromPath[int]) -> RosterRow:
        return roster_row(await services.decline(slug, registration_id, now=utcnow()))

    @post(
        "/registrations/{registration_id:int}/cancel",
        summary="Remove someone; a freed seat goes to the waiting list",
        guards=[manages_event],
        status_code=200,
    )
    async def cancel(self, slug: FromPath[str], registration_id: FromPath[int]) -> RosterRow:
        return roster_row(await services.cancel_by_organiser(slug, registration_id, now=utcnow()))

    @post(
        "/registrations/{registration_id:int}/move-up",
        summary="Move someone one place up the waiting list",
        guards=[manages_event],
        status_code=200,
    )
    async def move_up(self, slug: FromPath[str], registration_id: FromPath[int]) -> RosterRow:
        return roster_row(await services.move_up(slug, registration_id, now=utcnow()))

    @get("/questions", summary="The event's custom registration questions")
    async def list_questions(
        self, request: Request[Any, Any, Any], slug: FromPath[str]
    ) -> list[QuestionSpec]:
        event = await get_public_event(slug, request.scope.get("user"))
        return await question_service.questions_of(event.id)

    @put("/questions", summary="Replace the event's custom questions", guards=[manages_event])
    async def replace_questions(
        self, slug: FromPath[str], data: JSONBody[list[QuestionSpec]]
    ) -> list[QuestionSpec]:
        event = await get_event(slug)
        return await question_service.replace_questions(event.id, data)


def _roster_query(
    status: str | None, group: str | None, q: str, sort: str, limit: int, offset: int
) -> RosterQuery:
    problems = ErrorCollector()
    if status and status not in STATUSES:
        problems.add("status", f"must be one of {', '.join(STATUSES)}")
    if group and group not in STAKEHOLDER_GROUPS:
        problems.add("stakeholder_group", f"must be one of {', '.join(STAKEHOLDER_GROUPS)}")
    if sort not in SORTS:
        problems.add("sort", f"must be one of {', '.join(SORTS)}")
    problems.raise_if_any()
    return RosterQuery(
        status=status, stakeholder_group=group, q=q[:200], sort=sort, limit=limit, offset=offset
    )


class SelfServiceApiController(Controller):
    path = "/api/v1/registrations/{token:str}"
    tags = ("registrations",)

    @get("/", summary="Read your registration (by the secret link from your mail)")
    async def read(self, token: FromPath[str]) -> RegistrationOut:
        registration = await services.by_token(token)
        return registration_out(registration, await _event_of(registration))

    @patch("/", summary="Change your details or answers")
    async def change(
        self, token: FromPath[str], data: JSONBody[RegistrationChange]
    ) -> RegistrationOut:
        registration = await services.change_registration(token, data, now=utcnow())
        return registration_out(registration, await _event_of(registration))

    @delete("/", summary="Cancel your registration", status_code=200)
    async def cancel(self, token: FromPath[str]) -> RegistrationOut:
        registration = await services.cancel_by_person(token, now=utcnow())
        return registration_out(registration, await _event_of(registration))
