"""The database layer: reused SQLite connections, group-committed writes, the PostgreSQL pool."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable
from datetime import UTC, datetime

import pytest
from asyncpg.exceptions import DivisionByZeroError
from piccolo.engine.postgres import PostgresEngine

from tests import factories
from tests.conftest import is_postgres
from treffpunkt.db import (
    DB,
    ReusingSQLiteEngine,
    connection_pool,
    sqlite_read,
    sqlite_write,
    write_transaction,
)
from treffpunkt.events.services import EventView
from treffpunkt.events.tables import Event
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio

sqlite_only = pytest.mark.skipif(
    is_postgres(), reason="the SQLite engine's own behaviour (connection reuse, group commit)"
)
postgres_only = pytest.mark.skipif(
    not is_postgres(), reason="the PostgreSQL connection pool's own behaviour"
)


class Refused(Exception):
    """What a unit of work raises in these tests, to tell it from anything the engine raises."""


def sqlite_engine() -> ReusingSQLiteEngine:
    assert isinstance(DB, ReusingSQLiteEngine)
    return DB


async def an_event() -> EventView:
    return await factories.event(await factories.organiser())


def insert_message(event_id: int, recipient: str) -> Callable[[sqlite3.Connection], int]:
    """A unit of work for sqlite_write: one outbox row; answers its id."""

    def work(db: sqlite3.Connection) -> int:
        (new_id,) = db.execute(
            "INSERT INTO outbox_message (kind, event, recipient) VALUES ('test', ?, ?)"
            " RETURNING id",
            (event_id, recipient),
        ).fetchone()
        return int(new_id)

    return work


def insert_message_then_refuse(
    event_id: int, recipient: str
) -> Callable[[sqlite3.Connection], int]:
    """A unit of work that writes its row and then fails."""

    def work(db: sqlite3.Connection) -> int:
        insert_message(event_id, recipient)(db)
        raise Refused(recipient)

    return work


def insert_message_that_fails_at_commit(
    recipient: str,
) -> Callable[[sqlite3.Connection], int]:
    """A unit of work whose broken foreign key SQLite only notices at COMMIT."""

    def work(db: sqlite3.Connection) -> int:
        db.execute("PRAGMA defer_foreign_keys = 1")
        return insert_message(999_999, recipient)(db)

    return work


async def recipients() -> set[str]:
    rows = await OutboxMessage.select(OutboxMessage.recipient)
    return {row["recipient"] for row in rows}


async def title_of(event_id: int) -> str:
    row = await Event.select(Event.title).where(Event.id == event_id).first()
    assert row is not None
    return str(row["title"])


async def change_title_then_divide_by_zero(event_id: int) -> None:
    """A transaction that writes and then fails on the server."""
    async with DB.transaction():
        await Event.update({Event.title: "Changed"}).where(Event.id == event_id)
        await Event.raw("SELECT 1 / 0")


# --- SQLite: connections -------------------------------------------------------------------


@sqlite_only
async def test_sqlite_connection_goes_back_to_the_idle_list_after_a_query() -> None:
    engine = sqlite_engine()
    async with connection_pool(4):
        assert engine.idle == []

        await Event.count()

        assert engine.idle is not None
        assert len(engine.idle) == 1


@sqlite_only
async def test_sqlite_second_query_reuses_the_same_connection() -> None:
    engine = sqlite_engine()
    async with connection_pool(4):
        await Event.count()
        assert engine.idle is not None
        first = engine.idle[0]

        await Event.count()

        assert len(engine.idle) == 1
        assert engine.idle[0] is first


@sqlite_only
async def test_sqlite_queries_work_outside_the_connection_pool_without_keeping_connections() -> (
    None
):
    event = await an_event()

    assert await Event.count() == 1
    assert await title_of(event.id) == event.title
    assert sqlite_engine().idle is None


@sqlite_only
async def test_sqlite_database_runs_in_wal_journal_mode() -> None:
    async with connection_pool(4):
        rows = await Event.raw("PRAGMA journal_mode")

    assert rows == [{"journal_mode": "wal"}]


@sqlite_only
async def test_sqlite_reused_connection_enforces_foreign_keys() -> None:
    engine = sqlite_engine()
    async with connection_pool(4):
        await Event.count()
        assert engine.idle is not None
        reused = engine.idle[0]

        with pytest.raises(sqlite3.IntegrityError, match="FOREIGN KEY"):
            await Registration.insert(
                Registration(
                    event=999_999,
                    name="Nobody",
                    email="nobody@example.org",
                    stakeholder_group="other",
                    status="confirmed",
                    link_nonce="n" * 32,
                    token_hash="h" * 64,
                    consent_at=datetime.now(UTC),
                )
            )

        assert engine.idle == [reused], "the insert ran on the reused connection"
    assert await Registration.count() == 0


# --- SQLite: sqlite_write and sqlite_read ---------------------------------------------------


@sqlite_only
async def test_sqlite_write_lands_every_one_of_many_concurrent_writes() -> None:
    event = await an_event()
    addresses = [f"person{number}@example.org" for number in range(20)]

    async with connection_pool(4):
        ids = await asyncio.gather(
            *[sqlite_write(insert_message(event.id, address)) for address in addresses]
        )

    assert await recipients() == set(addresses)
    stored = await OutboxMessage.select(OutboxMessage.id, OutboxMessage.recipient)
    assert {row["recipient"]: row["id"] for row in stored} == dict(zip(addresses, ids, strict=True))


@sqlite_only
async def test_sqlite_write_rolls_back_a_failing_write_alone_and_commits_those_queued_with_it() -> (
    None
):
    event = await an_event()

    async with connection_pool(4):
        # The first write takes the writer's turn alone; the other four queue and are done
        # together in the next transaction, the failing one among them.
        outcomes = await asyncio.gather(
            sqlite_write(insert_message(event.id, "first@example.org")),
            sqlite_write(insert_message(event.id, "before@example.org")),
            sqlite_write(insert_message_then_refuse(event.id, "refused@example.org")),
            sqlite_write(insert_message(event.id, "after@example.org")),
            sqlite_write(insert_message(event.id, "last@example.org")),
            return_exceptions=True,
        )

    assert [type(outcome) for outcome in outcomes] == [int, int, Refused, int, int]
    assert await recipients() == {
        "first@example.org",
        "before@example.org",
        "after@example.org",
        "last@example.org",
    }


@sqlite_only
async def test_sqlite_write_raises_the_works_own_exception_to_its_caller() -> None:
    event = await an_event()

    async with connection_pool(4):
        with pytest.raises(Refused, match=r"^refused@example\.org$"):
            await sqlite_write(insert_message_then_refuse(event.id, "refused@example.org"))

    assert await OutboxMessage.count() == 0


@sqlite_only
async def test_sqlite_write_answers_its_callers_with_their_own_results() -> None:
    event = await an_event()

    async with connection_pool(4):
        first, second = await asyncio.gather(
            sqlite_write(lambda _: "first answer"),
            sqlite_write(insert_message(event.id, "second@example.org")),
        )

    assert first == "first answer"
    row = await OutboxMessage.select(OutboxMessage.id).first()
    assert row is not None
    assert second == row["id"]


@sqlite_only
async def test_sqlite_write_fails_every_write_of_a_transaction_whose_commit_fails() -> None:
    event = await an_event()

    async with connection_pool(4):
        # As above: the first write commits alone, the other three share one COMMIT.
        outcomes = await asyncio.gather(
            sqlite_write(insert_message(event.id, "first@example.org")),
            sqlite_write(insert_message(event.id, "before@example.org")),
            sqlite_write(insert_message_that_fails_at_commit("broken@example.org")),
            sqlite_write(insert_message(event.id, "after@example.org")),
            return_exceptions=True,
        )

    assert isinstance(outcomes[0], int)
    for outcome in outcomes[1:]:
        assert isinstance(outcome, sqlite3.IntegrityError)
        assert "FOREIGN KEY" in str(outcome)
    assert await recipients() == {"first@example.org"}


@sqlite_only
async def test_sqlite_write_works_again_after_a_failed_commit() -> None:
    event = await an_event()

    async with connection_pool(4):
        with pytest.raises(sqlite3.IntegrityError):
            await sqlite_write(insert_message_that_fails_at_commit("broken@example.org"))
        await sqlite_write(insert_message(event.id, "next@example.org"))

    assert await recipients() == {"next@example.org"}


@sqlite_only
async def test_sqlite_read_returns_rows_as_dicts() -> None:
    event = await an_event()

    async with connection_pool(4):
        rows = sqlite_read("SELECT id, slug, status FROM event WHERE slug = ?", event.slug)

    assert rows == [{"id": event.id, "slug": event.slug, "status": "published"}]


@sqlite_only
async def test_sqlite_read_sees_a_write_committed_just_before() -> None:
    event = await an_event()

    async with connection_pool(4):
        assert sqlite_read("SELECT recipient FROM outbox_message") == []
        await sqlite_write(insert_message(event.id, "seen@example.org"))

        rows = sqlite_read("SELECT recipient FROM outbox_message")

    assert rows == [{"recipient": "seen@example.org"}]


# --- PostgreSQL: the pool -----------------------------------------------------------------


@postgres_only
async def test_postgres_queries_run_on_the_connection_pool() -> None:
    event = await an_event()

    async with connection_pool(2):
        assert isinstance(DB, PostgresEngine)
        assert DB.pool is not None
        assert await title_of(event.id) == event.title


@postgres_only
async def test_postgres_connection_keeps_no_transaction_after_a_failed_one() -> None:
    event = await an_event()

    async with connection_pool(1):  # one connection: the next query gets the same one
        with pytest.raises(DivisionByZeroError):
            await change_title_then_divide_by_zero(event.id)

        # In an aborted transaction this would fail ("current transaction is aborted").
        assert await title_of(event.id) == event.title
        assert isinstance(DB, PostgresEngine)
        assert DB.pool is not None
        async with DB.pool.acquire() as connection:
            assert not connection.is_in_transaction()


@postgres_only
async def test_postgres_connection_released_inside_a_transaction_comes_back_without_it() -> None:
    event = await an_event()

    async with connection_pool(1):
        assert isinstance(DB, PostgresEngine)
        assert DB.pool is not None
        async with DB.pool.acquire() as connection:
            await connection.execute("BEGIN")
            await connection.execute("UPDATE event SET title = 'Changed' WHERE id = $1", event.id)

        async with DB.pool.acquire() as connection:
            assert not connection.is_in_transaction()
        assert await title_of(event.id) == event.title


# --- Both engines: write_transaction --------------------------------------------------------


async def test_write_transaction_commits_when_its_block_succeeds() -> None:
    event = await an_event()

    async with write_transaction():
        await Event.update({Event.title: "Changed"}).where(Event.id == event.id)

    assert await title_of(event.id) == "Changed"


async def test_write_transaction_rolls_back_when_its_block_raises() -> None:
    event = await an_event()

    async def change_title_then_refuse() -> None:
        async with write_transaction():
            await Event.update({Event.title: "Changed"}).where(Event.id == event.id)
            raise Refused("changed my mind")

    with pytest.raises(Refused):
        await change_title_then_refuse()

    assert await title_of(event.id) == event.title


async def test_write_transaction_inside_another_joins_it_and_rolls_back_with_it() -> None:
    event = await an_event()

    async def change_title_inside_then_refuse_outside() -> None:
        async with write_transaction():
            async with write_transaction():
                await Event.update({Event.title: "Changed"}).where(Event.id == event.id)
            raise Refused("the outer block fails after the inner one finished")

    with pytest.raises(Refused):
        await change_title_inside_then_refuse_outside()

    assert await title_of(event.id) == event.title


async def test_write_transaction_commits_inside_the_connection_pool() -> None:
    event = await an_event()

    async with connection_pool(2):
        async with write_transaction():
            await Event.update({Event.title: "Changed"}).where(Event.id == event.id)

        assert await title_of(event.id) == "Changed"
