from __future__ import annotations

from piccolo.columns import JSON, Boolean, ForeignKey, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table

from treffpunkt.events.tables import Event
from treffpunkt.registrations.tables import Registration


class FeedbackQuestion(Table, tablename="feedback_question"):
    """One of the 3–5 questions an organiser asks attendees after the event."""

    id: Serial
    event = ForeignKey(Event, on_delete=OnDelete.cascade, index=True)
    key = Varchar(length=60)
    position = Integer(default=0)
    kind = Varchar(length=20)  # rating (1–5) or text
    label = Varchar(length=300)
    required = Boolean(default=False)


class FeedbackResponse(Table, tablename="feedback_response"):
    """One attendee's answers; one per registration (a unique column)."""

    id: Serial
    event = ForeignKey(Event, on_delete=OnDelete.cascade, index=True)
    registration = ForeignKey(Registration, on_delete=OnDelete.cascade, unique=True)
    answers = JSON(default="{}")
    created_at = Timestamptz(default=TimestamptzNow())
