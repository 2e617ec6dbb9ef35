from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from msgspec import Meta, Struct

from treffpunkt.inputs import Id, Line
from treffpunkt.registrations.schemas import Status


class CheckInRequest(Struct, kw_only=True, forbid_unknown_fields=True):
    """Either the code from the QR ticket, or (for people without one) the registration id."""

    code: Annotated[Line, Meta(max_length=100)] | None = None
    registration_id: Id | None = None


class CheckInAnswer(Struct, kw_only=True):
    registration_id: int
    already_checked_in: bool
    checked_in_at: datetime
    name: str
    organisation: str
    status: Status


class AttendanceSummary(Struct, kw_only=True):
    confirmed: int
    checked_in: int
    no_show: int
    attendance_rate: float | None


class Recipients(Struct, kw_only=True):
    recipients: int


class RatingResult(Struct, kw_only=True):
    key: str
    label: str
    kind: str
    answers: int
    average: float | None
    distribution: dict[int, int]
    texts: list[str]


class FeedbackResults(Struct, kw_only=True):
    responses: int
    questions: list[RatingResult]


class GroupFigures(Struct, kw_only=True):
    key: str
    events: int
    registrations: int
    attended: int
    no_show: int
    attendance_rate: float | None
    no_show_rate: float | None


class ReportTotals(Struct, kw_only=True):
    events: int
    registrations: int
    attended: int
    no_show: int
    attendance_rate: float | None
    no_show_rate: float | None
    organisations: int
    regions_reached: int


class ParticipationReport(Struct, kw_only=True):
    start: date
    end: date
    totals: ReportTotals
    by: dict[str, list[GroupFigures]]
