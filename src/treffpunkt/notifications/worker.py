"""The mail worker: claims due outbox rows, renders and sends them, records the outcome.

Several workers (processes or machines) may drain one outbox: on PostgreSQL each claims its
batch with FOR UPDATE SKIP LOCKED, on SQLite the single writer does the same job. A claimed
row carries a lease and the claiming worker's random id. The lease is taken from the clock
at claim time and renewed while a long batch goes on; every outcome is written only while
the row is still this worker's, so a worker whose lease was taken over leaves the row alone.
Each mail is marked sent as soon as the server took it: a crash doubles at most the one mail
in flight. If a worker dies, its rows are claimed again when the lease runs out, so delivery
is at least once, and exactly once while nothing crashes.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from email.message import Message
from typing import Any

import aiosmtplib
import structlog
from piccolo.custom_types import Combinable
from piccolo.querystring import QueryString
from prometheus_client import Counter

from treffpunkt.audit.actors import SYSTEM, set_actor
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
from treffpunkt.privacy.retention import keep_retention
from treffpunkt.registrations.services import release_expired_holds
from treffpunkt.settings import get_settings

logger = structlog.get_logger("treffpunkt.mail")

BATCH_SIZE = 50
LEASE = timedelta(minutes=5)
# Renew the lease of a batch still being sent once less than half of it is left.
RENEW_WHEN_LEFT = LEASE / 2
MAX_ATTEMPTS = 12
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=2)
IDLE_PAUSE = 1.0
# Reminders and expired double opt-in holds are looked for this often.
REMINDER_SCAN_EVERY = timedelta(minutes=1)

# Per process (see README, "Metrics"); `deferred` mails are tried again later.
MAIL_OUTCOMES = Counter(
    "treffpunkt_mail", "Outbox mails by outcome: sent, failed, deferred, skipped.", ["outcome"]
)


def retry_delay(attempts: int) -> timedelta:
    """Exponential backoff with jitter: 30 s, 1 min, 2 min … capped at two hours."""
    base: timedelta = min(FIRST_RETRY * 2 ** max(attempts - 1, 0), LONGEST_RETRY)
    jitter = 0.5 + random.random() / 2  # noqa: S311 - jitter, not security
    return base * jitter


def new_worker_id() -> str:
    """Who holds a lease: random per worker, so two processes never mistake each other."""
    return secrets.token_hex(8)


def _held(worker: str, outbox_ids: list[int]) -> Combinable:
    """Rows still claimed by this worker: not finished, and not taken over by another."""
    return (
        OutboxMessage.id.is_in(outbox_ids)
        & (OutboxMessage.status == "sending")
        & (OutboxMessage.lease_owner == worker)
    )


async def claim(worker: str, limit: int = BATCH_SIZE) -> list[dict[str, Any]]:
    """Take due rows (and rows whose worker's lease ran out) for this worker alone."""
    now = utcnow()
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
                OutboxMessage.lease_owner: worker,
                OutboxMessage.attempts: OutboxMessage.attempts + 1,
            }
        ).where(OutboxMessage.id.is_in(ids))
    return list(await OutboxMessage.select().where(_held(worker, ids)).order_by(OutboxMessage.id))


async def _finish(row_id: int, worker: str, **values: Any) -> None:
    await OutboxMessage.update(**values, lease_until=None, lease_owner=None).where(
        _held(worker, [row_id])
    )


async def _release(row_ids: list[int], worker: str) -> None:
    """Hand unsent rows back at once when stopping; the claim did not count as an attempt."""
    if row_ids:
        await OutboxMessage.update(
            {
                OutboxMessage.status: "pending",
                OutboxMessage.attempts: OutboxMessage.attempts - 1,
                OutboxMessage.lease_until: None,
                OutboxMessage.lease_owner: None,
            }
        ).where(_held(worker, row_ids))


async def _retry_or_give_up(
    row: dict[str, Any], worker: str, reason: str, *, server_answered: bool = True
) -> None:
    """Try again later; give up only on a server that keeps refusing, never on an outage."""
    if server_answered and row["attempts"] >= MAX_ATTEMPTS:
        await _finish(row["id"], worker, status="failed", last_error=f"gave up: {reason}"[:2000])
        logger.warning("mail given up", outbox_id=row["id"], attempts=row["attempts"])
        return
    await _finish(
        row["id"],
        worker,
        status="pending",
        next_attempt_at=utcnow() + retry_delay(row["attempts"]),
        last_error=reason[:2000],
    )


class Lease:
    """This worker's hold on one claimed batch, renewed from the clock while sending lasts."""

    def __init__(self, worker: str, rows: list[dict[str, Any]]) -> None:
        self.worker = worker
        self.until: datetime = min(row["lease_until"] for row in rows)
        self.lost: set[int] = set()

    async def holds(self, row_id: int, waiting: list[int]) -> bool:
        """Whether this worker may still send the row; renews the lease on `waiting` if due."""
        now = utcnow()
        if self.until - now <= RENEW_WHEN_LEFT:
            renewed = await (
                OutboxMessage.update({OutboxMessage.lease_until: now + LEASE})
                .where(_held(self.worker, waiting))
                .returning(OutboxMessage.id)
            )
            self.lost.update(set(waiting) - {row["id"] for row in renewed})
            self.until = now + LEASE
        return row_id not in self.lost


@dataclass
class BatchResult:
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    skipped: int = 0


async def _prepare(
    rows: list[dict[str, Any]], worker: str, result: BatchResult
) -> list[tuple[dict[str, Any], Message]]:
    """Render a batch; what no longer applies is skipped, any other failure tried again."""
    prepared = []
    batch = BatchContext()
    await batch.prefetch(rows)
    for row in rows:
        now = utcnow()
        try:
            mail, name, recipient = await render(row, now=now, batch=batch)
            message = to_mime(mail, outbox_id=row["id"], name=name, recipient=recipient, now=now)
        except Obsolete as reason:
            await _finish(row["id"], worker, status="skipped", last_error=str(reason))
            result.skipped += 1
            continue
        except Exception as error:
            # A database hiccup must not cost anyone their mail: the same backoff as SMTP.
            logger.exception("mail could not be rendered", outbox_id=row["id"])
            await _retry_or_give_up(row, worker, f"rendering: {error}")
            result.deferred += 1
            continue
        prepared.append((row, message))
    return prepared


async def deliver(
    rows: list[dict[str, Any]],
    server: SmtpServer,
    *,
    worker: str,
    stop: asyncio.Event | None = None,
) -> BatchResult:
    """Send a claimed batch over one connection; each row ends sent, failed or rescheduled.

    Between two mails the worker honours `stop` (handing the rest back) and makes sure the
    rows are still its own, renewing the lease when less than half of it is left.
    """
    result = BatchResult()
    lease = Lease(worker, rows)
    prepared = await _prepare(rows, worker, result)
    if not prepared:
        return result
    try:
        connection = connect(server)
        await connection.connect()
    except (aiosmtplib.SMTPException, OSError) as error:
        logger.warning("SMTP server unreachable", error=str(error))
        for row, _ in prepared:
            await _retry_or_give_up(row, worker, f"connection: {error}", server_answered=False)
            result.deferred += 1
        return result
    try:
        for position, (row, message) in enumerate(prepared):
            waiting = [later["id"] for later, _ in prepared[position:]]
            if stop is not None and stop.is_set():
                await _release(waiting, worker)
                break
            if not await lease.holds(row["id"], waiting):
                continue
            try:
                await send(connection, message)
            except PermanentFailure as error:
                await _finish(row["id"], worker, status="failed", last_error=str(error)[:2000])
                result.failed += 1
            except TemporaryFailure as error:
                await _retry_or_give_up(row, worker, str(error))
                result.deferred += 1
            except (aiosmtplib.SMTPException, OSError) as error:
                # The connection broke: this message and every one after it try again later.
                for later, _ in prepared[position:]:
                    await _retry_or_give_up(
                        later, worker, f"connection: {error}", server_answered=False
                    )
                    result.deferred += 1
                break
            else:
                await _finish(row["id"], worker, status="sent", sent_at=utcnow(), last_error="")
                result.sent += 1
    finally:
        try:
            await connection.quit()
        except (aiosmtplib.SMTPException, OSError):
            connection.close()
    return result


async def schedule_reminders(now: datetime) -> None:
    """One reminder per confirmed registration and event start, the configured time before.

    The partial unique index on (registration, event_starts_at) for reminders makes
    concurrent scans safe, and gives a postponed event a reminder for its new date.
    """
    horizon = now + timedelta(hours=get_settings().reminder_hours)
    await DB.run_querystring(
        QueryString(
            "INSERT INTO outbox_message (kind, event, registration, recipient, language, payload,"
            " status, attempts, next_attempt_at, last_error, created_at, event_starts_at)"
            " SELECT 'reminder', r.event, r.id, r.email, r.language, {}, 'pending', 0, {}, '', {},"
            " e.starts_at"
            " FROM registration AS r, event AS e"
            " WHERE e.id = r.event AND r.status = 'confirmed' AND r.unconfirmed_until IS NULL"
            " AND e.status = 'published'"
            " AND e.starts_at > {} AND e.starts_at <= {}"
            " ON CONFLICT (registration, event_starts_at) WHERE kind = 'reminder' DO NOTHING",
            "{}",
            now,
            now,
            now,
            horizon,
        )
    )


async def drain(stop: asyncio.Event | None = None, *, worker: str | None = None) -> BatchResult:
    """Send everything due, batch by batch, until done or stopped (without SMTP: nothing)."""
    settings = get_settings()
    total = BatchResult()
    if not settings.smtp_url:
        return total
    server = parse_smtp_url(settings.smtp_url)
    worker = worker or new_worker_id()
    while not (stop is not None and stop.is_set()) and (rows := await claim(worker)):
        result = await deliver(rows, server, worker=worker, stop=stop)
        for outcome in ("sent", "failed", "deferred", "skipped"):
            MAIL_OUTCOMES.labels(outcome).inc(getattr(result, outcome))
        total.sent += result.sent
        total.failed += result.failed
        total.deferred += result.deferred
        total.skipped += result.skipped
    return total


async def _periodic_jobs(now: datetime) -> None:
    """Each job on its own: one that fails (one broken event, say) must not hold up the
    others or the mail; it is tried again at the next scan, not in every round."""
    jobs: tuple[Callable[[datetime], Awaitable[object]], ...] = (
        schedule_reminders,
        keep_retention,
        release_expired_holds,
    )
    for job in jobs:
        try:
            await job(now)
        except Exception:
            logger.exception("periodic job failed", job=job.__name__)


async def run_worker(stop: asyncio.Event) -> None:
    """Drain the outbox until told to stop; once a minute, schedule reminders, apply
    retention and release the places whose address was not confirmed in time."""
    settings = get_settings()
    if settings.smtp_url:
        parse_smtp_url(settings.smtp_url)  # fail at start on a malformed URL
    worker = new_worker_id()
    set_actor(SYSTEM)  # the worker's own task: whatever it changes, the system did
    logger.info("mail worker started", smtp=bool(settings.smtp_url), worker=worker)
    next_scan = utcnow()
    while not stop.is_set():
        now = utcnow()
        if now >= next_scan:
            await _periodic_jobs(now)
            next_scan = now + REMINDER_SCAN_EVERY
        try:
            result = await drain(stop, worker=worker)
            busy = result.sent + result.failed + result.skipped
        except Exception:
            logger.exception("mail worker round failed")
            busy = 0
        if not busy:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), timeout=IDLE_PAUSE)
