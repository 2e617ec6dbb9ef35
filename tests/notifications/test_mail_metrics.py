"""The worker counts each mail's outcome for /metrics (per process, in prometheus-client)."""

from __future__ import annotations

import pytest
from prometheus_client import REGISTRY

from tests import factories
from tests.mail_sink import Sink
from tests.notifications.helpers import SCHEDULE, sign_up
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.notifications.worker import drain

pytestmark = pytest.mark.anyio

Organiser = tuple[CurrentOrganiser, dict[str, str]]


def mail_counted(outcome: str) -> float:
    return REGISTRY.get_sample_value("treffpunkt_mail_total", {"outcome": outcome}) or 0.0


async def anna_registered(organiser: Organiser) -> None:
    event = await factories.event(organiser[0], **SCHEDULE)
    await sign_up(event.slug, "anna@example.org")


async def test_a_sent_mail_is_counted(smtp: Sink, organiser: Organiser) -> None:
    await anna_registered(organiser)
    before = mail_counted("sent")

    await drain()

    assert len(smtp.messages) == 1
    assert mail_counted("sent") == before + 1


async def test_a_refused_mail_is_counted_as_failed(smtp: Sink, organiser: Organiser) -> None:
    await anna_registered(organiser)
    smtp.data_reply = "550 5.7.1 message refused"
    before = (mail_counted("failed"), mail_counted("sent"))

    await drain()

    assert (mail_counted("failed"), mail_counted("sent")) == (before[0] + 1, before[1])
