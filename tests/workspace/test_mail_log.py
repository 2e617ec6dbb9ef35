"""Per event, what mail went out: kinds, recipients, statuses, counts, filters and pages."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from tests import factories
from tests.mail_sink import Sink, free_port
from tests.notifications.helpers import sign_up
from tests.sessions import sign_in
from treffpunkt.accounts.services import CurrentOrganiser
from treffpunkt.events.services import EventView
from treffpunkt.notifications.services import MAIL_LOG_PAGE, event_mail_log
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.notifications.worker import drain
from treffpunkt.settings import get_settings

pytestmark = pytest.mark.anyio

ENGLISH = {"Accept-Language": "en"}
# 10:00 in Berlin (summer time).
CREATED = datetime(2030, 6, 1, 8, 0, tzinfo=UTC)
SENT = datetime(2030, 6, 1, 8, 5, tzinfo=UTC)


@pytest.fixture
def smtp(monkeypatch: pytest.MonkeyPatch) -> Iterator[Sink]:
    """A real SMTP server on 127.0.0.1, with the worker pointed at it."""
    sink = Sink(free_port())
    sink.start()
    monkeypatch.setenv("TREFFPUNKT_SMTP_URL", f"smtp://127.0.0.1:{sink.port}")
    get_settings.cache_clear()
    try:
        yield sink
    finally:
        sink.stop()
        monkeypatch.undo()
        get_settings.cache_clear()


async def owner_signed_in(client: httpx.AsyncClient) -> CurrentOrganiser:
    owner = await factories.organiser()
    await sign_in(client, owner)
    return owner


async def stored_mail(event: EventView, recipient: str, **columns: object) -> None:
    """An outbox row as the worker leaves it (status, attempts, error, times)."""
    await OutboxMessage.insert(
        OutboxMessage(
            kind="reminder",
            event=event.id,
            recipient=recipient,
            language="de",
            created_at=CREATED,
            **columns,
        )
    )


def log_url(event: EventView, query: str = "") -> str:
    return f"/organiser/events/{event.slug}/mail" + (f"?{query}" if query else "")


def count_of(html: str, status: str) -> int:
    found = re.search(rf'id="count-{status}"[^>]*>[^<]*<span class="badge">(\d+)</span>', html)
    assert found, f"no count for {status}"
    return int(found.group(1))


async def test_the_log_shows_what_the_worker_sent_and_what_the_server_refused(
    client: httpx.AsyncClient, smtp: Sink
) -> None:
    event = await factories.event(await owner_signed_in(client))
    await sign_up(event.slug, "anna@example.org")
    await sign_up(event.slug, "ben@example.org", language="en")
    smtp.refused["ben@example.org"] = "550 no such user"
    await drain()

    html = (await client.get(log_url(event), headers=ENGLISH)).text

    rows = re.findall(r"<tr>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>\s*<td>([^<]*)</td>", html)
    assert rows == [
        ("Registration confirmed", "ben@example.org", "EN"),
        ("Registration confirmed", "anna@example.org", "DE"),
    ]
    assert (count_of(html, "sent"), count_of(html, "failed")) == (1, 1)
    assert "550 no such user" in html


async def test_the_log_names_every_status_in_words_with_its_count(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await owner_signed_in(client))
    await stored_mail(event, "a@example.org", status="pending")
    await stored_mail(event, "b@example.org", status="pending", attempts=2, last_error="451 later")
    await stored_mail(event, "c@example.org", status="sending", attempts=1)
    await stored_mail(event, "d@example.org", status="sent", attempts=1, sent_at=SENT)
    await stored_mail(event, "e@example.org", status="failed", attempts=1, last_error="550 gone")
    await stored_mail(event, "f@example.org", status="skipped", last_error="cancelled")

    html = (await client.get(log_url(event), headers=ENGLISH)).text

    counts = {s: count_of(html, s) for s in ("waiting", "retrying", "sending", "sent", "failed")}
    assert counts == {"waiting": 1, "retrying": 1, "sending": 1, "sent": 1, "failed": 1}
    assert count_of(html, "skipped") == 1
    for words in ("Waiting", "Retrying", "Being sent", "Sent", "Failed", "Skipped as obsolete"):
        assert f">{words}" in html
    assert "451 later" in html


async def test_the_log_shows_times_in_the_events_zone(client: httpx.AsyncClient) -> None:
    event = await factories.event(await owner_signed_in(client))
    await stored_mail(event, "d@example.org", status="sent", attempts=1, sent_at=SENT)

    html = (await client.get(log_url(event), headers=ENGLISH)).text

    assert "Jun 1, 2030, 10:00\u202fAM" in html
    assert "Jun 1, 2030, 10:05\u202fAM" in html


async def test_the_log_filters_by_status(client: httpx.AsyncClient) -> None:
    event = await factories.event(await owner_signed_in(client))
    await stored_mail(event, "waits@example.org", status="pending")
    await stored_mail(event, "retries@example.org", status="pending", last_error="451 later")
    await stored_mail(event, "failed@example.org", status="failed", last_error="550 gone")

    html = (await client.get(log_url(event, "status=retrying"), headers=ENGLISH)).text

    assert "retries@example.org" in html
    assert "waits@example.org" not in html
    assert "failed@example.org" not in html
    assert "1 mail" in html


async def test_the_log_is_paged_newest_first(client: httpx.AsyncClient) -> None:
    event = await factories.event(await owner_signed_in(client))
    for number in range(MAIL_LOG_PAGE + 3):
        await stored_mail(event, f"person{number:03d}@example.org", status="sent")

    first = (await client.get(log_url(event), headers=ENGLISH)).text
    second = (await client.get(log_url(event, f"offset={MAIL_LOG_PAGE}"), headers=ENGLISH)).text

    assert f"person{MAIL_LOG_PAGE + 2:03d}@example.org" in first
    assert "person002@example.org" not in first
    assert f'href="/organiser/events/{event.slug}/mail?offset={MAIL_LOG_PAGE}"' in first
    assert re.findall(r"person\d+@example.org", second) == [
        "person002@example.org",
        "person001@example.org",
        "person000@example.org",
    ]
    assert 'rel="next"' not in second


async def test_the_log_of_one_event_leaves_out_the_mail_of_others() -> None:
    owner = await factories.organiser()
    mine, other = await factories.event(owner), await factories.event(owner)
    await stored_mail(mine, "mine@example.org", status="sent")
    await stored_mail(other, "other@example.org", status="sent")

    log = await event_mail_log(mine.slug)

    assert [row.recipient for row in log.rows] == ["mine@example.org"]
    assert log.total == 1


async def test_an_organiser_who_does_not_manage_the_event_may_not_read_its_log(
    client: httpx.AsyncClient,
) -> None:
    event = await factories.event(await factories.organiser())
    await stored_mail(event, "anna@example.org", status="sent")
    await owner_signed_in(client)

    response = await client.get(log_url(event), headers=ENGLISH)

    assert response.status_code == 403
    assert "anna@example.org" not in response.text


async def test_without_signing_in_the_log_leads_to_the_login(client: httpx.AsyncClient) -> None:
    event = await factories.event(await factories.organiser())
    await stored_mail(event, "anna@example.org", status="sent")

    response = await client.get(log_url(event))

    assert response.headers["location"].startswith("/login")
    assert "anna@example.org" not in response.text
