"""The mail worker: claims due outbox rows, renders and sends them, records the outcome.

Several workers (processes or machines) may drain one outbox: on PostgreSQL each claims its
batch with FOR UPDATE SKIP LOCKED, on SQLite the single writer does the same job. A claimed
row carries a lease; if its worker dies, the row is claimed again when the lease runs out,
so delivery is at least once, and exactly once while nothing crashes.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import aiosmtplib
import structlog
from piccolo.querystring import QueryString

from treffpunkt.clock import utcnow
from treffpunkt.db import DB, is_postgres, write_transaction
from treffpunkt.notifications.messages import BatchContext, Obsolete, render, to_mime
from treffpunkt.notifications.smtp import (
    PermanentFailure,
    SmtpServer,
    TemporaryFailure,
    connect,
    parse_smtp_url,
    send,
)
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.settings import get_settings

logger = structlog.get_logger("treffpunkt.mail")

BATCH_SIZE = 50
LEASE = timedelta(minutes=5)
MAX_ATTEMPTS = 12
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=2)
IDLE_PAUSE = 1.0
REMINDER_SCAN_EVERY = timedelta(minutes=1)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: 30 s, 1 min, 2 min … capped at two hours."""
    base: timedelta = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)
    jitter = 0.5 + random.random() / 2  # noqa: S311 - jitter, not security
    return base * jitter


async def claim(now: datetime, limit: int = BATCH_SIZE) -> list[dict[str, Any]]:
    """Take due rows (and rows whose worker's lease ran out) for this worker alone."""
    due = ((OutboxMessage.status == "pending") & (OutboxMessage.next_attempt_at <= now)) | (
        (OutboxMessage.status == "sending") & (OutboxMessage.lease_until < now)
    )
    async with write_transaction():
        query = OutboxMessage.select(OutboxMessage.id).where(due).order_by(OutboxMessage.id)
        if is_postgres():
            query = query.lock_rows("UPDATE", skip_locked=True)
        ids = [row["id"] for row in await query.limit(limit)]
        if not ids:
            return []
        await OutboxMessage.update(
            {
                OutboxMessage.status: "sending",
                OutboxMessage.lease_until: now + LEASE,
                OutboxMessage.attempts: OutboxMessage.attempts + 1,
            }
        ).where(OutboxMessage.id.is_in(ids))
    return list(
        await OutboxMessage.select().where(OutboxMessage.id.is_in(ids)).order_by(OutboxMessage.id)
    )


async def _finish(outbox_id: int, **values: Any) -> None:
    await OutboxMessage.update(**values, lease_until=None).where(
        (OutboxMessage.id == outbox_id) & (OutboxMessage.status == "sending")
    )


async def _mark_sent(outbox_ids: list[int]) -> None:
    """One UPDATE for the batch: a commit per mail cost more than sending it."""
    if outbox_ids:
        await OutboxMessage.update(
            status="sent", sent_at=utcnow(), last_error="", lease_until=None
        ).where(OutboxMessage.id.is_in(outbox_ids) & (OutboxMessage.status == "sending"))


async def _retry_or_give_up(
    row: dict[str, Any], reason: str, now: datetime, *, server_answered: bool = True
) -> None:
    """Try again later; give up only on a server that keeps refusing, never on an outage."""
    if server_answered and row["attempts"] >= MAX_ATTEMPTS:
        await _finish(row["id"], status="failed", last_error=f"gave up: {reason}"[:2000])
        logger.warning("mail given up", outbox_id=row["id"], attempts=row["attempts"])
        return
    await _finish(
        row["id"],
        status="pending",
        next_attempt_at=now + retry_delay(row["attempts"]),
        last_error=reason[:2000],
    )


@dataclass
class BatchResult:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0


async def deliver(rows: list[dict[str, Any]], server: SmtpServer, *, now: datetime) -> BatchResult:
    """Send a claimed batch over one connection; each row ends sent, failed or rescheduled."""
    result = BatchResult()
    prepared = []
    batch = BatchContext()
    await batch.prefetch(rows)
    for row in rows:
        try:
            mail, name, recipient = await render(row, now=now, batch=batch)
            message = to_mime(mail, outbox_id=row["id"], name=name, recipient=recipient, now=now)
        except Obsolete as reason:
            await _finish(row["id"], status="skipped", last_error=str(reason))
            result.skipped += 1
            continue
        except Exception as error:
            # A database hiccup must not cost anyone their mail: the same backoff as SMTP.
            logger.exception("mail could not be rendered", outbox_id=row["id"])
            await _retry_or_give_up(row, f"rendering: {error}", now)
            result.deferred += 1
            continue
        prepared.append((row, message))
    if not prepared:
        return result
    try:
        connection = connect(server)
        await connection.connect()
    except (aiosmtplib.SMTPException, OSError) as error:
        logger.warning("SMTP server unreachable", error=str(error))
        for row, _ in prepared:
            await _retry_or_give_up(row, f"connection: {error}", now, server_answered=False)
            result.deferred += 1
        return result
    sent: list[int] = []
    try:
        for position, (row, message) in enumerate(prepared):
            try:
                await send(connection, message)
            except PermanentFailure as error:
                await _finish(row["id"], status="failed", last_error=str(error)[:2000])
                result.failed += 1
            except TemporaryFailure as error:
                await _retry_or_give_up(row, str(error), now)
                result.deferred += 1
            except (aiosmtplib.SMTPException, OSError) as error:
                # The connection broke: this message and every one after it try again later.
                for later, _ in prepared[position:]:
                    await _retry_or_give_up(
                        later, f"connection: {error}", now, server_answered=False
                    )
                    result.deferred += 1
                break
            else:
                sent.append(row["id"])
                result.sent += 1
    finally:
        await _mark_sent(sent)
        try:
            await connection.quit()
        except (aiosmtplib.SMTPException, OSError):
            connection.close()
    return result


async def schedule_reminders(now: datetime) -> None:
    """One reminder per confirmed registration, the configured time before the start.

    The partial unique index on (registration) for reminders makes concurrent scans safe.
    """
    horizon = now + timedelta(hours=get_settings().reminder_hours)
    await DB.run_querystring(
        QueryString(
            "INSERT INTO outbox_message (kind, event, registration, recipient, language, payload,"
            " status, attempts, next_attempt_at, last_error, created_at)"
            " SELECT 'reminder', r.event, r.id, r.email, r.language, {}, 'pending', 0, {}, '', {}"
            " FROM registration AS r, event AS e"
            " WHERE e.id = r.event AND r.status = 'confirmed' AND e.status = 'published'"
            " AND e.starts_at > {} AND e.starts_at <= {}"
            " ON CONFLICT (registration) WHERE kind = 'reminder' DO NOTHING",
            "{}",
            now,
            now,
            now,
            horizon,
        )
    )


async def drain(now: datetime | None = None) -> BatchResult:
    """Send everything due now, batch by batch; without SMTP, leave it for the mailbox page."""
    settings = get_settings()
    total = BatchResult()
    if not settings.smtp_url:
        return total
    server = parse_smtp_url(settings.smtp_url)
    while rows := await claim(now or utcnow()):
        result = await deliver(rows, server, now=now or utcnow())
        total.sent += result.sent
        total.failed += result.failed
        total.deferred += result.deferred
        total.skipped += result.skipped
    return total


async def run_worker(stop: asyncio.Event) -> None:
    """Drain the outbox until told to stop; schedule reminders once a minute."""
    settings = get_settings()
    if settings.smtp_url:
        parse_smtp_url(settings.smtp_url)  # fail at start on a malformed URL
    logger.info("mail worker started", smtp=bool(settings.smtp_url))
    next_scan = utcnow()
    while not stop.is_set():
        try:
            now = utcnow()
            if now >= next_scan:
                await schedule_reminders(now)
                next_scan = now + REMINDER_SCAN_EVERY
            result = await drain(now)
            busy = result.sent + result.failed + result.skipped
        except Exception:
            logger.exception("mail worker round failed")
            busy = 0
        if not busy:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=IDLE_PAUSE)
