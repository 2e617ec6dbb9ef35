"""An organiser's season in a real browser, in German and English, only through the pages.

A draft with every main field and two questions, published; a public registration with
answers; approval and a seat beyond capacity on a small event; a new time, whose update mail
reaches a real SMTP server with a new invite; a walk-in; the cancellation. Every step is
checked with axe and photographed as test-artifacts/screenshots/season-<lang>-<nn>-<step>.png.
The set-up (the organiser's account) and the assertions read the database; the live server
runs without a mail worker, so the test drains the outbox into the sink itself.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import EmailMessage
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from tests.attendance.helpers import stored_check_in
from tests.browsing import checked, new_page, plural, signed_in, words
from tests.conftest import run_async
from tests.mail_sink import Sink, free_port
from tests.notifications.helpers import (
    calendar_of,
    has_calendar,
    make_due,
    outbox_rows,
    sequence_of,
    text_of,
    vevent_of,
)
from treffpunkt.events.services import EventView, get_event
from treffpunkt.i18n import format_span, language
from treffpunkt.notifications.worker import drain
from treffpunkt.registrations.questions import questions_of
from treffpunkt.registrations.tables import Registration
from treffpunkt.settings import get_settings

pytestmark = pytest.mark.browser

TITLE = "Wärmeplanung im Quartier"
OTHER = {"de": "en", "en": "de"}
BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class Season:
    """The event's times, Berlin local: first in three days, then moved to within the hour, so
    that the door opens (check-in starts two hours before the start)."""

    first_start: datetime
    closes: datetime
    new_start: datetime

    @classmethod
    def from_now(cls) -> Season:
        now = datetime.now(BERLIN).replace(second=0, microsecond=0)
        first = (now + timedelta(days=3)).replace(hour=10, minute=0)
        return cls(
            first_start=first, closes=now + timedelta(hours=2), new_start=now + timedelta(hours=1)
        )

    @property
    def new_end(self) -> datetime:
        return self.new_start + timedelta(hours=3)

    def new_when(self, code: str) -> str:
        """The new time as the update mail writes it in that language."""
        with language(code):
            return format_span(self.new_start, self.new_end)


def type_moment(page: Any, name: str, moment: datetime) -> None:
    page.locator(f"#{name}_date").fill(moment.strftime("%Y-%m-%d"))
    page.locator(f"#{name}_time").fill(moment.strftime("%H:%M"))


@pytest.fixture
def sink(monkeypatch: pytest.MonkeyPatch, live_server: str) -> Iterator[Sink]:
    """A real SMTP server, and this process's mail settings pointing at it and the live server."""
    server = Sink(free_port())
    server.start()
    monkeypatch.setenv("TREFFPUNKT_SMTP_URL", f"smtp://127.0.0.1:{server.port}")
    monkeypatch.setenv("TREFFPUNKT_BASE_URL", live_server)
    get_settings.cache_clear()
    try:
        yield server
    finally:
        server.stop()
        monkeypatch.undo()
        get_settings.cache_clear()


class Steps:
    """Screenshots numbered in the order taken: season-<lang>-<nn>-<step>.png."""

    def __init__(self, code: str) -> None:
        self.code = code
        self.count = 0

    def check(self, page: Any, step: str) -> None:
        self.count += 1
        checked(page, f"season-{self.code}-{self.count:02d}-{step}")


def fill_event(page: Any, code: str, season: Season) -> None:
    """Every main field of a small hybrid workshop that needs approval and keeps a list."""
    page.locator("#title").fill(TITLE)
    page.locator("#summary").fill("Wie Kommunen ihre Wärmeplanung beginnen")
    page.locator("#description").fill("Erste Zeile\nZweite Zeile")
    page.locator("input[name=kind][value=workshop]").check()
    page.locator("input[name=sectors][value=energy]").check()
    page.locator("input[name=sectors][value=administration]").check()
    page.locator("input[name=format][value=hybrid]").check()
    page.locator("#region").select_option("DE-SN")
    page.locator("#locality").fill("Landkreis Görlitz")
    page.locator("#venue_name").fill("Rathaus")
    page.locator("#venue_street").fill("Untermarkt 6")
    page.locator("#venue_postal_code").fill("02826")
    page.locator("#venue_city").fill("Görlitz")
    page.locator("#online_url").fill("https://meet.example.org/waerme")
    page.locator("#timezone").select_option("Europe/Berlin")
    type_moment(page, "starts_at", season.first_start)
    page.locator("#ends_at_time").fill("13:00")
    page.locator("#capacity").fill("1")
    page.get_by_label(words(code, "Keep a waiting list when the event is full")).check()
    page.get_by_label(words(code, "I confirm each registration myself")).check()
    type_moment(page, "registration_closes_at", season.closes)
    page.locator("#contact_name").fill("Petra Orga")
    page.locator("#contact_email").fill("petra.orga@landkreis.example")


def ask_two_questions(page: Any, code: str) -> None:
    page.locator("[id='questions-0-label']").fill("Ihr Thema")
    page.locator("[id='questions-0-kind']").select_option("long_text")
    page.get_by_label(words(code, "An answer is required")).check()
    page.get_by_role("button", name=words(code, "Add another question")).click()
    page.locator("[id='questions-1-label']").fill("Essen")
    page.locator("[id='questions-1-kind']").select_option("single_choice")
    page.locator("[id='questions-1-options']").fill("vegan\nvegetarisch\nalles")
    page.get_by_role("button", name=words(code, "Save questions")).first.click()


def register_in_public(
    browser: Any, live_server: str, slug: str, person: dict[str, str], steps: Steps | None
) -> None:
    """A member of the public, in a browser of their own, registers and answers the questions."""
    from playwright.sync_api import expect

    code = person["language"]
    page = new_page(browser, code)
    page.goto(f"{live_server}/events/{slug}")
    page.get_by_label(words(code, "Name"), exact=True).fill(person["name"])
    page.get_by_label(words(code, "Email address"), exact=True).fill(person["email"])
    page.get_by_label(words(code, "Organisation"), exact=True).fill("Stadt Görlitz")
    page.get_by_label(words(code, "You are here for")).select_option("public_administration")
    page.get_by_label("Ihr Thema").fill(person["topic"])
    page.get_by_label(person["food"], exact=True).check()
    page.get_by_label(
        words(
            code,
            "I agree that my details are stored and used to organise this event"
            " and to contact me about it.",
        )
    ).check()
    if steps is not None:
        steps.check(page, "public-form")
    page.get_by_role("button", name=words(code, "Register")).click()
    expect(page.get_by_role("heading", level=1)).to_have_text(words(code, "Thank you!"))
    page.context.close()


def assert_cells_fill_the_row(row: Any) -> None:
    """Each cell is as tall as its row, so that the row's lines run straight across the table."""
    row_height = row.bounding_box()["height"]
    for cell in row.locator("td").all():
        assert cell.bounding_box()["height"] == pytest.approx(row_height, abs=1)


def assert_every_field_kept(event: EventView, season: Season) -> None:
    """The published event holds what the form was given, field by field."""
    assert event.status == "published"
    assert (event.title, event.summary, event.description) == (
        TITLE,
        "Wie Kommunen ihre Wärmeplanung beginnen",
        "Erste Zeile\nZweite Zeile",
    )
    assert (event.kind, event.format, set(event.sectors)) == (
        "workshop",
        "hybrid",
        {"energy", "administration"},
    )
    assert (event.region, event.locality, event.online_url) == (
        "DE-SN",
        "Landkreis Görlitz",
        "https://meet.example.org/waerme",
    )
    assert event.venue is not None
    assert (event.venue.name, event.venue.street, event.venue.postal_code, event.venue.city) == (
        "Rathaus",
        "Untermarkt 6",
        "02826",
        "Görlitz",
    )
    assert (event.timezone, event.starts_at, event.ends_at) == (
        "Europe/Berlin",
        season.first_start,
        season.first_start + timedelta(hours=3),
    )
    assert (event.capacity, event.waitlist, event.requires_approval) == (1, True, True)
    assert (event.registration_opens_at, event.registration_closes_at) == (None, season.closes)
    assert (event.contact_name, event.contact_email) == (
        "Petra Orga",
        "petra.orga@landkreis.example",
    )


def status_of(email: str) -> str:
    async def read() -> str:
        row = (
            await Registration.select(Registration.status)
            .where(Registration.email == email)
            .first()
        )
        assert row is not None
        return str(row["status"])

    return run_async(read())


def id_of(email: str) -> int:
    async def read() -> int:
        row = await Registration.select(Registration.id).where(Registration.email == email).first()
        assert row is not None
        return int(row["id"])

    return run_async(read())


def mail_titled(sink: Sink, address: str, subject: str) -> EmailMessage:
    found = [mail for mail in sink.to(address) if mail["Subject"] == subject]
    assert len(found) == 1, sink.subjects()
    return found[0]


@pytest.mark.parametrize("code", ["de", "en"])
def test_an_organisers_season_from_draft_to_cancellation_in_the_browser(
    browser: Any, live_server: str, sink: Sink, code: str
) -> None:
    from playwright.sync_api import expect

    steps = Steps(code)
    season = Season.from_now()
    lena = {
        "name": "Lena Lang",
        "email": "lena@example.org",
        "language": code,
        "topic": "Fernwärme im Altbau",
        "food": "vegetarisch",
    }
    ben = {
        "name": "Ben Brook",
        "email": "ben@example.org",
        "language": OTHER[code],
        "topic": "Abwärme",
        "food": "vegan",
    }
    owner = run_async(factories.organiser())

    # 1. Sign in, a draft with every main field and two questions, published from the hub.
    page = signed_in(browser, live_server, owner, code)
    page.get_by_role("link", name=words(code, "New event")).first.click()
    fill_event(page, code, season)
    steps.check(page, "event-form")
    page.get_by_role("button", name=words(code, "Save draft")).click()
    page.wait_for_url(f"{live_server}/organiser/events/waermeplanung-im-quartier-*")
    slug = page.url.rsplit("/", 1)[1]
    hub = f"{live_server}/organiser/events/{slug}"
    page.get_by_role("link", name=words(code, "Registration questions")).click()
    ask_two_questions(page, code)
    expect(page.get_by_role("status")).to_have_text(words(code, "The questions are saved."))
    steps.check(page, "questions")
    page.get_by_role("link", name=words(code, "Back to the event overview")).click()
    page.get_by_role("button", name=words(code, "Publish"), exact=True).click()
    expect(page.get_by_role("status")).to_contain_text(
        words(code, "The event is published and open in the catalogue.")
    )
    steps.check(page, "published")
    event = run_async(get_event(slug))
    assert_every_field_kept(event, season)
    questions = run_async(questions_of(event.id))
    assert [(q.label, q.kind, q.required) for q in questions] == [
        ("Ihr Thema", "long_text", True),
        ("Essen", "single_choice", False),
    ]

    # 2. Two people register on the public page; the dashboard and the roster show them.
    register_in_public(browser, live_server, slug, lena, steps)
    register_in_public(browser, live_server, slug, ben, None)
    page.goto(f"{live_server}/organiser")
    pending_cell = page.locator(f"#e{event.id} td").nth(4)
    expect(pending_cell).to_have_text("2")
    steps.check(page, "dashboard")
    page.locator(f"#e{event.id}").get_by_role("link", name=words(code, "Roster")).click()
    lena_row = page.locator(f"#r{id_of(lena['email'])}")
    expect(lena_row).to_contain_text("Fernwärme im Altbau")
    expect(lena_row).to_contain_text("vegetarisch")
    expect(lena_row).to_contain_text(words(code, "Awaiting approval"))
    steps.check(page, "roster")

    # 3. Lena is approved; Ben, approved into a full event, waits; he gets a seat beyond
    # capacity only once the organiser says so.
    lena_row.get_by_role("link", name=words(code, "Approve")).click()
    steps.check(page, "approve")
    page.get_by_role("button", name=words(code, "Yes, approve")).click()
    expect(page.get_by_role("status").first).to_have_text(
        words(code, "%(name)s is confirmed; a mail is on its way.", name="Lena Lang")
    )
    ben_row = page.locator(f"#r{id_of(ben['email'])}")
    ben_row.get_by_role("link", name=words(code, "Approve")).click()
    page.get_by_role("button", name=words(code, "Yes, approve")).click()
    expect(page.get_by_role("status").first).to_have_text(
        words(code, "%(name)s is on the waiting list; a mail is on its way.", name="Ben Brook")
    )
    assert status_of(ben["email"]) == "waitlisted"
    ben_row.get_by_role("link", name=words(code, "Give a seat now")).click()
    page.get_by_role("button", name=words(code, "Yes, give a seat")).click()
    full = words(code, "the event is fully booked")
    expect(page.locator("#refusal")).to_have_text(full[:1].upper() + full[1:])
    assert status_of(ben["email"]) == "waitlisted"
    steps.check(page, "promote-refused")
    page.get_by_label(
        words(
            code,
            "Give a seat beyond capacity (%(taken)d of %(capacity)d seats are taken)",
            taken=1,
            capacity=1,
        )
    ).check()
    page.get_by_role("button", name=words(code, "Yes, give a seat")).click()
    expect(page.get_by_role("status").first).to_have_text(
        words(code, "%(name)s is confirmed; a mail is on its way.", name="Ben Brook")
    )
    assert status_of(ben["email"]) == "confirmed"
    steps.check(page, "roster-approved")

    # 4. A new time: the preview names the mail and its two readers; confirmed, it arrives.
    run_async(make_due())
    run_async(drain())
    first_invites = {
        person["email"]: max(
            sequence_of(mail) for mail in sink.to(person["email"]) if has_calendar(mail)
        )
        for person in (lena, ben)
    }
    page.goto(hub)
    page.get_by_role("link", name=words(code, "Edit the event")).click()
    type_moment(page, "starts_at", season.new_start)
    type_moment(page, "ends_at", season.new_end)
    page.get_by_role("button", name=words(code, "Save changes")).click()
    expect(page.locator(".notice").first).to_contain_text(
        plural(
            code,
            "%(num)d person will get this mail, with an updated calendar invitation.",
            "%(num)d people will get this mail, with an updated calendar invitation.",
            2,
        )
    )
    expect(page.locator("#preview-text")).to_contain_text(season.new_when(code))
    steps.check(page, "update-preview")
    assert run_async(get_event(slug)).starts_at == season.first_start, "nothing before confirming"
    page.get_by_role("button", name=words(code, "Save and send update")).click()
    expect(page.get_by_role("status")).to_have_text(words(code, "Your changes are saved."))
    run_async(make_due())
    run_async(drain())
    for person in (lena, ben):
        their = person["language"]
        update = mail_titled(sink, person["email"], words(their, "Changed: %(title)s", title=TITLE))
        assert season.new_when(their) in text_of(update)
        assert str(calendar_of(update)["METHOD"]) == "REQUEST"
        assert vevent_of(update).decoded("DTSTART") == season.new_start
        assert sequence_of(update) > first_invites[person["email"]]

    # 5. Maria walks in at the door without a registration: added and checked in at once.
    page.goto(f"{hub}/check-in")
    page.get_by_role("link", name=words(code, "Not registered? Add and check in")).click()
    page.get_by_label(words(code, "Name"), exact=True).fill("Maria Muster")
    page.get_by_label(words(code, "Email address"), exact=True).fill("maria@example.org")
    page.get_by_label(words(code, "Organisation"), exact=True).fill("Landkreis Görlitz")
    page.get_by_label(words(code, "Stakeholder group")).select_option("business")
    page.get_by_label("Ihr Thema").fill("Quartierskonzepte")
    page.get_by_label(
        words(
            code, "The person agrees that their details are stored and used to organise this event."
        )
    ).check()
    page.get_by_label(
        words(
            code,
            "Give a seat beyond capacity (%(taken)d of %(capacity)d seats are taken)",
            taken=2,
            capacity=1,
        )
    ).check()
    steps.check(page, "walk-in")
    page.get_by_role("button", name=words(code, "Add and check in (walk-in)")).click()
    page.wait_for_url(f"{hub}/check-in")
    expect(page.locator("#door-result")).to_contain_text(words(code, "Welcome!"))
    expect(page.locator("#door-result")).to_contain_text("Maria Muster")
    steps.check(page, "door-welcome")
    assert run_async(stored_check_in(id_of("maria@example.org"))) is not None
    page.goto(f"{hub}/roster")
    for row in page.locator("table.roster tbody tr").all():
        assert_cells_fill_the_row(row)
    steps.check(page, "walked-in")

    # 6. Cancelled with a reason, after the preview; everyone's cancellation is queued.
    page.goto(hub)
    page.get_by_role("link", name=words(code, "Cancel the event")).click()
    page.get_by_label(words(code, "Reason for the cancellation")).fill("Sturmwarnung")
    page.get_by_role("button", name=words(code, "Show the mail first")).click()
    expect(page.locator("#recipients")).to_have_text(
        plural(code, "%(num)d person will get this mail.", "%(num)d people will get this mail.", 3)
    )
    expect(page.locator("#preview-text")).to_contain_text("Sturmwarnung")
    steps.check(page, "cancel-preview")
    assert run_async(get_event(slug)).status == "published", "nothing before confirming"
    page.get_by_role("button", name=words(code, "Cancel the event now")).click()
    expect(page.locator("#hub-status")).to_contain_text("Sturmwarnung")
    steps.check(page, "cancelled")
    queued = sorted(
        row["recipient"]
        for row in run_async(outbox_rows())
        if row["kind"] == "event_cancelled" and row["status"] == "pending"
    )
    assert queued == ["ben@example.org", "lena@example.org", "maria@example.org"]
