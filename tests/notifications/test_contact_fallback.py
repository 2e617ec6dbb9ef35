"""A stored event contact that fails the address rule never stops the mail about the event.

Rows stored before the rule existed may hold such a contact; the invite then names the owning
organiser, as it does for an event without a contact.
"""

from __future__ import annotations

import pytest

from tests import factories
from tests.mail_sink import Sink
from tests.notifications.helpers import SCHEDULE, sign_up, text_of, vevent_of
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.events.tables import Event
from treffpunkt.notifications.worker import drain

pytestmark = pytest.mark.anyio

BROKEN_CONTACT = "petra.orga@landkreis.example\nBcc: everyone@example.org"


async def event_with_a_broken_contact(owner: CurrentOrganiser) -> str:
    event = await factories.event(owner, **SCHEDULE, contact_name="Petra Orga")
    await Event.update({Event.contact_email: BROKEN_CONTACT}).where(Event.id == event.id)
    return event.slug


async def test_invite_names_the_owning_organiser_when_the_stored_contact_fails_the_rule(
    smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    slug = await event_with_a_broken_contact(organiser[0])
    await sign_up(slug, "anna@example.org")

    await drain()

    organizer = vevent_of(smtp.only("anna@example.org"))["ORGANIZER"]
    assert str(organizer) == f"mailto:{organiser[0].email}"


async def test_mail_names_the_owning_organiser_when_the_stored_contact_fails_the_rule(
    smtp: Sink, organiser: tuple[CurrentOrganiser, dict[str, str]]
) -> None:
    slug = await event_with_a_broken_contact(organiser[0])
    await sign_up(slug, "anna@example.org")

    await drain()

    assert (
        f"Fragen? Wenden Sie sich an das Veranstaltungsteam: Petra Orga <{organiser[0].email}>\n"
    ) in text_of(smtp.only("anna@example.org"))
