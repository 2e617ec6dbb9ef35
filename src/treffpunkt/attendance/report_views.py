"""Reports as organisers read them: JSON, CSV for spreadsheets, and HTML with SVG charts."""

from __future__ import annotations

import csv
import io
from datetime import date
from typing import Annotated, Any
from zoneinfo import ZoneInfo

from litestar import Controller, Request, Response, get
from litestar.response import Template

from treffpunkt.attendance.reports import DIMENSIONS, Report, Tally, participation
from treffpunkt.attendance.schemas import GroupFigures, ParticipationReport, ReportTotals
from treffpunkt.clock import utcnow
from treffpunkt.errors import N_, ErrorCollector, ValidationFailed
from treffpunkt.events.services import regions, sectors
from treffpunkt.inputs import query_line
from treffpunkt.settings import DEFAULT_TIMEZONE
from treffpunkt.web.auth import current_organiser, requires_organiser

From = Annotated[str | None, query_line(name="from", description="First day, YYYY-MM-DD")]
To = Annotated[str | None, query_line(name="to", description="Last day, YYYY-MM-DD")]


def _period(start: str | None, end: str | None) -> tuple[date, date]:
    """The days asked for; the current calendar year when none are given."""
    today = utcnow().astimezone(ZoneInfo(DEFAULT_TIMEZONE)).date()
    problems = ErrorCollector()
    days = []
    for name, raw, default in (
        ("from", start, date(today.year, 1, 1)),
        ("to", end, date(today.year, 12, 31)),
    ):
        try:
            days.append(date.fromisoformat(raw) if raw else default)
        except ValueError:
            problems.add(name, N_("must be a date (YYYY-MM-DD)"))
            days.append(default)
    if not problems.errors and days[0] > days[1]:
        problems.add("to", N_("must not be before from"))
    problems.raise_if_any()
    return days[0], days[1]


def _figures(key: str, tally: Tally) -> GroupFigures:
    return GroupFigures(
        key=key,
        events=len(tally.events),
        registrations=tally.registrations,
        attended=tally.attended,
        no_show=tally.no_show,
        attendance_rate=tally.attendance_rate,
        no_show_rate=tally.no_show_rate,
    )


def report_out(report: Report) -> ParticipationReport:
    totals = report.totals
    return ParticipationReport(
        start=report.start,
        end=report.end,
        totals=ReportTotals(
            events=len(totals.events),
            registrations=totals.registrations,
            attended=totals.attended,
            no_show=totals.no_show,
            attendance_rate=totals.attendance_rate,
            no_show_rate=totals.no_show_rate,
            organisations=report.organisations,
            regions_reached=report.regions_reached,
        ),
        by={
            dimension: [_figures(key, tally) for key, tally in report.groups[dimension].items()]
            for dimension in DIMENSIONS
        },
    )


def report_csv(report: ParticipationReport) -> bytes:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=";", lineterminator="\r\n")
    columns = ["events", "registrations", "attended", "no_show", "attendance_rate", "no_show_rate"]
    writer.writerow(["dimension", "key", *columns])
    totals = report.totals
    writer.writerow(["total", "", *[getattr(totals, c) for c in columns]])
    for dimension, rows in report.by.items():
        for row in rows:
            writer.writerow(
                [
                    dimension,
                    row.key,
                    *["" if getattr(row, c) is None else getattr(row, c) for c in columns],
                ]
            )
    writer.writerow(["total", "organisations", totals.organisations])
    writer.writerow(["total", "regions_reached", totals.regions_reached])
    return ("\ufeff" + buffer.getvalue()).encode()


class ReportsController(Controller):
    guards = (requires_organiser,)

    @get(
        "/api/v1/reports",
        summary="Participation over a period, by region, sector, stakeholder group, kind, month",
        description="Organisers see their own events, admins all. Counted over confirmed "
        "registrations; rates use finished events only.",
        tags=["reports"],
    )
    async def report(
        self, request: Request[Any, Any, Any], start: From = None, end: To = None
    ) -> ParticipationReport:
        first, last = _period(start, end)
        return report_out(
            await participation(current_organiser(request), first, last, now=utcnow())
        )

    @get("/organiser/reports.csv", include_in_schema=False)
    async def report_csv_download(
        self, request: Request[Any, Any, Any], start: From = None, end: To = None
    ) -> Response[bytes]:
        first, last = _period(start, end)
        report = report_out(
            await participation(current_organiser(request), first, last, now=utcnow())
        )
        return Response(
            report_csv(report),
            media_type="text/csv",
            headers={"Content-Disposition": f'attachment; filename="report-{first}-{last}.csv"'},
        )

    @get("/organiser/reports", include_in_schema=False)
    async def report_page(
        self, request: Request[Any, Any, Any], start: From = None, end: To = None
    ) -> Template:
        errors: dict[str, str] = {}
        try:
            first, last = _period(start, end)
        except ValidationFailed as failed:
            errors = {e.field: e.translated() for e in failed.errors}
            first, last = _period(None, None)
        report = report_out(
            await participation(current_organiser(request), first, last, now=utcnow())
        )
        return Template(
            template_name="attendance/reports.html",
            status_code=422 if errors else 200,
            context={
                "report": report,
                "errors": errors,
                "asked": {"from": start or "", "to": end or ""},
                "regions": {c.code: c for c in await regions()},
                "sectors": {c.code: c for c in await sectors()},
            },
        )
