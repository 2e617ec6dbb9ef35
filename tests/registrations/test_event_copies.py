"""Copies of an event: a duplicate and series of dates, each a draft of its own."""

from __future__ import annotations

from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from tests import factories
from tests.notifications.helpers import sign_up
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.errors import ValidationFailed
from treffpunkt.events.services import EventView, get_event, publish_event
from treffpunkt.events.tables import Event
from treffpunkt.i18n import current_language
from treffpunkt.registrations.event_copies import (
    MAX_SERIES,
    SeriesRule,
    copy_title,
    create_series,
    duplicate_event,
    plan_series,
)
from treffpunkt.registrations.questions import questions_of, replace_questions
from treffpunkt.registrations.schemas import QuestionSpec
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio

BERLIN = ZoneInfo("Europe/Berlin")
NOW = datetime(2030, 1, 2, tzinfo=UTC)
QUESTIONS = [
    QuestionSpec(key="diet", kind="single_choice", label="Essen", options=["vegan", "alles"]),
    QuestionSpec(key="topic", kind="long_text", label="Ihr Thema", required=True),
]


@pytest.fixture
async def owner() -> CurrentOrganiser:
    return await factories.organiser()


async def source(owner: CurrentOrganiser, **overrides: object) -> EventView:
    """A published event in winter, 10:00–12:00 Berlin, with two questions and one registrant."""
    schedule = {"starts_at": "2030-03-13T09:00:00+00:00", "ends_at": "2030-03-13T11:00:00+00:00"}
    event = await factories.event(
        owner,
        publish=False,
        **{**schedule, "registration_closes_at": "2030-03-12T17:00:00+00:00", **overrides},
    )
    await publish_event(event.slug, now=NOW)
    await sign_up(event.slug, "anna@example.org")
    await replace_questions(event.id, QUESTIONS)
    return await get_event(event.slug)


async def registrations_of(event: EventView) -> int:
    return await Registration.count().where(Registration.event == event.id)


async def test_a_duplicate_is_a_draft_with_every_field_and_sector_of_the_event(
    owner: CurrentOrganiser,
) -> None:
    event = await source(owner, sectors=["energy", "education"])

    copy = await duplicate_event(event.slug, owner, now=NOW)

    compared = ("summary", "description", "kind", "format", "region", "venue", "online_url")
    assert [getattr(copy, f) for f in compared] == [getattr(event, f) for f in compared]
    assert (copy.starts_at, copy.ends_at, copy.capacity, copy.sectors) == (
        event.starts_at,
        event.ends_at,
        event.capacity,
        ["education", "energy"],
    )
    assert (copy.status, copy.sequence) == ("draft", 0)


async def test_a_duplicate_has_the_events_questions(owner: CurrentOrganiser) -> None:
    copy = await duplicate_event((await source(owner)).slug, owner, now=NOW)

    assert await questions_of(copy.id) == QUESTIONS


async def test_a_duplicate_has_its_own_slug_calendar_uid_and_no_registrations(
    owner: CurrentOrganiser,
) -> None:
    event = await source(owner)

    copy = await duplicate_event(event.slug, owner, now=NOW)

    assert copy.slug != event.slug
    assert copy.calendar_uid != event.calendar_uid
    assert (await registrations_of(copy), copy.seats_taken) == (0, 0)
    assert await registrations_of(event) == 1


async def test_a_duplicate_is_titled_as_a_copy_in_the_organisers_language(
    owner: CurrentOrganiser,
) -> None:
    event = await source(owner)
    current_language.set("de")

    copy = await duplicate_event(event.slug, owner, now=NOW)

    assert copy.title == f"{event.title} (Kopie)"


def test_a_long_title_is_shortened_so_that_its_copy_still_fits() -> None:
    current_language.set("en")

    title = copy_title("x" * 200)

    assert len(title) == 200
    assert title.endswith("x (copy)")


async def test_a_weekly_series_across_the_change_to_summer_time_keeps_ten_oclock_local(
    owner: CurrentOrganiser,
) -> None:
    event = await source(owner)  # Wednesday 13 March; summer time starts on 31 March 2030

    series = await create_series(event.slug, SeriesRule("weekly", count=4), owner, now=NOW)

    local_starts = [s.starts_at.astimezone(BERLIN) for s in series]
    assert [s.date() for s in local_starts] == [
        date(2030, 3, 20),
        date(2030, 3, 27),
        date(2030, 4, 3),
        date(2030, 4, 10),
    ]
    assert {s.time() for s in local_starts} == {time(10)}
    assert {s.astimezone(BERLIN).time() for s in (x.ends_at for x in series)} == {time(12)}
    assert [s.starts_at.hour for s in series] == [9, 9, 8, 8], "UTC follows the clocks"


async def test_each_date_of_a_series_is_a_draft_with_its_own_uid_questions_and_roster(
    owner: CurrentOrganiser,
) -> None:
    event = await source(owner)

    series = await create_series(event.slug, SeriesRule("weekly", count=3), owner, now=NOW)

    uids = {event.calendar_uid, *(s.calendar_uid for s in series)}
    assert len(uids) == 4
    assert {s.status for s in series} == {"draft"}
    assert {s.title for s in series} == {event.title}
    for occurrence in series:
        assert await questions_of(occurrence.id) == QUESTIONS
        assert await registrations_of(occurrence) == 0


async def test_a_series_moves_the_registration_deadline_along_in_local_time(
    owner: CurrentOrganiser,
) -> None:
    event = await source(owner)  # registration closes the day before, 18:00 Berlin

    series = await create_series(event.slug, SeriesRule("weekly", count=3), owner, now=NOW)

    assert series[2].registration_closes_at == datetime(2030, 4, 2, 18, tzinfo=BERLIN)


async def test_a_monthly_series_on_the_31st_takes_the_last_day_of_shorter_months(
    owner: CurrentOrganiser,
) -> None:
    event = await source(
        owner,
        starts_at="2030-01-31T09:00:00+00:00",
        ends_at="2030-01-31T11:00:00+00:00",
        registration_closes_at=None,
    )

    planned = await plan_series(event.slug, SeriesRule("monthly", count=3))

    assert [p.starts_at.astimezone(BERLIN).date() for p in planned] == [
        date(2030, 2, 28),
        date(2030, 3, 31),
        date(2030, 4, 30),
    ]


async def test_a_series_on_listed_dates_takes_them_in_order(owner: CurrentOrganiser) -> None:
    event = await source(owner)
    dates = (date(2030, 9, 1), date(2030, 5, 5))

    planned = await plan_series(event.slug, SeriesRule("dates", dates=dates))

    assert [p.starts_at.astimezone(BERLIN) for p in planned] == [
        datetime(2030, 5, 5, 10, tzinfo=BERLIN),
        datetime(2030, 9, 1, 10, tzinfo=BERLIN),
    ]


async def test_planning_a_series_creates_nothing(owner: CurrentOrganiser) -> None:
    event = await source(owner)

    await plan_series(event.slug, SeriesRule("weekly", count=5))

    assert await Event.count() == 1


async def test_more_than_the_limit_at_once_is_refused_naming_the_count(
    owner: CurrentOrganiser,
) -> None:
    event = await source(owner)

    with pytest.raises(ValidationFailed) as refused:
        await create_series(event.slug, SeriesRule("weekly", count=MAX_SERIES + 1), owner, now=NOW)

    assert [e.field for e in refused.value.errors] == ["count"]
    assert await Event.count() == 1


async def test_a_date_listed_twice_is_refused(owner: CurrentOrganiser) -> None:
    event = await source(owner)
    twice = (date(2030, 5, 5), date(2030, 5, 5))

    with pytest.raises(ValidationFailed) as refused:
        await plan_series(event.slug, SeriesRule("dates", dates=twice))

    assert [e.field for e in refused.value.errors] == ["dates"]
