"""The database layer: reused SQLite connections, group-committed writes, the PostgreSQL pool."""

from __future__ import annotations

import asyncio
import errno
import socket
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import asyncpg
import httpx
import pytest
from asyncpg.exceptions import DivisionByZeroError, UniqueViolationError
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import TransactionType

from tests import factories
from tests.conftest import ServerProcess, is_postgres
from treffpunkt.db import (
    DB,
    ReusingSQLiteEngine,
    connection_pool,
    is_unavailable,
    postgres_write,
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
postgres_write_only = pytest.mark.skipif(
    not is_postgres(), reason="postgres_write's own behaviour (group commit on PostgreSQL)"
)

PostgresWork = Callable[[asyncpg.Connection], Awaitable[int]]
# How long a test waits for a write it holds back before giving up, so a failure cannot hang.
PATIENCE = 5


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


def insert_message_on_postgres(event_id: int, recipient: str) -> PostgresWork:
    """A unit of work for postgres_write: one outbox row; answers its id."""

    async def work(connection: asyncpg.Connection) -> int:
        return int(
            await connection.fetchval(
                "INSERT INTO outbox_message (kind, event, recipient) VALUES ('test', $1, $2)"
                " RETURNING id",
                event_id,
                recipient,
            )
        )

    return work


def insert_message_on_postgres_then_refuse(event_id: int, recipient: str) -> PostgresWork:
    """A unit of work for postgres_write that writes its row and then fails."""

    async def work(connection: asyncpg.Connection) -> int:
        await insert_message_on_postgres(event_id, recipient)(connection)
        raise Refused(recipient)

    return work


def insert_message_on_postgres_noting_transaction(event_id: int, recipient: str) -> PostgresWork:
    """A unit of work for postgres_write that writes its row and answers its transaction's id."""

    async def work(connection: asyncpg.Connection) -> int:
        await insert_message_on_postgres(event_id, recipient)(connection)
        return int(await connection.fetchval("SELECT txid_current()"))

    return work


def insert_registration_on_postgres(event_id: int, email: str, token_hash: str) -> PostgresWork:
    """A unit of work for postgres_write: one registration (token_hash is unique); its id."""

    async def work(connection: asyncpg.Connection) -> int:
        return int(
            await connection.fetchval(
                "INSERT INTO registration (event, name, email, stakeholder_group, status,"
                " token_hash) VALUES ($1, 'Test Person', $2, 'other', 'confirmed', $3)"
                " RETURNING id",
                event_id,
                email,
                token_hash,
            )
        )

    return work


def on_this_engine(
    sqlite_work: Callable[[sqlite3.Connection], int], postgres_work: PostgresWork
) -> Coroutine[Any, Any, int]:
    """The running engine's group-committed write, with the work written for that engine."""
    if is_postgres():
        return postgres_write(postgres_work)
    return sqlite_write(sqlite_work)


def write_message(event_id: int, recipient: str) -> Coroutine[Any, Any, int]:
    """One outbox row through the engine's own group commit; answers its id."""
    return on_this_engine(
        insert_message(event_id, recipient), insert_message_on_postgres(event_id, recipient)
    )


def write_message_then_refuse(event_id: int, recipient: str) -> Coroutine[Any, Any, int]:
    """A write through the engine's own group commit that inserts its row and then fails."""
    return on_this_engine(
        insert_message_then_refuse(event_id, recipient),
        insert_message_on_postgres_then_refuse(event_id, recipient),
    )


class HeldBackWrite:
    """One outbox row written through group commit whose work, once it runs, waits to be let go.

    All the while it holds the writer's turn. Threading events, because SQLite's work runs on
    a worker thread.
    """

    def __init__(self, event_id: int, recipient: str) -> None:
        self.running, self.release = threading.Event(), threading.Event()
        self.task = asyncio.create_task(
            on_this_engine(
                self._on_sqlite(event_id, recipient), self._on_postgres(event_id, recipient)
            )
        )

    async def running_now(self) -> None:
        assert await asyncio.to_thread(self.running.wait, PATIENCE), "its work never ran"

    def let_go(self) -> None:
        self.release.set()

    def _on_sqlite(self, event_id: int, recipient: str) -> Callable[[sqlite3.Connection], int]:
        def work(db: sqlite3.Connection) -> int:
            self.running.set()
            self.release.wait(PATIENCE)
            return insert_message(event_id, recipient)(db)

        return work

    def _on_postgres(self, event_id: int, recipient: str) -> PostgresWork:
        async def work(connection: asyncpg.Connection) -> int:
            self.running.set()
            await asyncio.to_thread(self.release.wait, PATIENCE)
            return await insert_message_on_postgres(event_id, recipient)(connection)

        return work


@asynccontextmanager
async def turn_taken(event_id: int) -> AsyncIterator[None]:
    """A write of its own holds the writer's turn for the block: writes started in it queue."""
    holder = HeldBackWrite(event_id, "holder@example.org")
    await holder.running_now()
    try:
        yield
    finally:
        holder.let_go()
        await holder.task


async def recipients() -> set[str]:
    rows = await OutboxMessage.select(OutboxMessage.recipient)
    return {row["recipient"] for row in rows}


async def id_of_message_to(recipient: str) -> int | None:
    row = (
        await OutboxMessage.select(OutboxMessage.id)
        .where(OutboxMessage.recipient == recipient)
        .first()
    )
    return None if row is None else int(row["id"])


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
async def test_sqlite_transaction_that_cannot_begin_gives_its_connection_back() -> None:
    """Kept, the connection's thread would stop the process from exiting (SIGTERM hangs)."""
    engine = ReusingSQLiteEngine(path=sqlite_engine().path, busy_timeout=0)
    await engine.start_connection_pool(max_size=2)
    other_process = sqlite3.connect(engine.path, isolation_level=None, check_same_thread=False)
    other_process.execute("BEGIN IMMEDIATE")
    try:
        with pytest.raises(sqlite3.OperationalError, match="database is locked"):
            async with engine.transaction(transaction_type=TransactionType.immediate):
                pass
    finally:
        other_process.execute("ROLLBACK")
        other_process.close()

    assert len(engine.idle or []) == 1
    await engine.close_connection_pool()


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


# --- PostgreSQL: postgres_write -----------------------------------------------------------


@postgres_write_only
async def test_postgres_write_commits_writes_queued_behind_a_turn_in_one_transaction() -> None:
    event = await an_event()

    async with connection_pool(4):
        transaction_ids = await asyncio.gather(
            *[
                postgres_write(
                    insert_message_on_postgres_noting_transaction(
                        event.id, f"person{number}@example.org"
                    )
                )
                for number in range(20)
            ]
        )

    # The first write takes the turn alone; the other 19 queue behind it and share the next.
    assert sorted(Counter(transaction_ids).values()) == [1, 19]
    assert await OutboxMessage.count() == 20


@postgres_write_only
async def test_postgres_write_raises_a_unique_violation_only_to_the_write_that_caused_it() -> None:
    event = await an_event()

    async with connection_pool(4):
        outcomes = await asyncio.gather(
            postgres_write(insert_message_on_postgres(event.id, "first@example.org")),
            postgres_write(insert_registration_on_postgres(event.id, "ada@example.org", "t" * 64)),
            postgres_write(insert_registration_on_postgres(event.id, "bob@example.org", "t" * 64)),
            postgres_write(insert_message_on_postgres(event.id, "after@example.org")),
            return_exceptions=True,
        )

    assert [type(outcome) for outcome in outcomes] == [int, int, UniqueViolationError, int]
    registrations = await Registration.select(Registration.id, Registration.email)
    assert registrations == [{"id": outcomes[1], "email": "ada@example.org"}]
    assert await recipients() == {"first@example.org", "after@example.org"}


async def connection_lost(connection: asyncpg.Connection) -> int:
    """A unit of work during which the database goes away: its server process ends."""
    await connection.execute("SELECT pg_terminate_backend(pg_backend_pid())")
    return 0


@postgres_write_only
async def test_postgres_write_gives_every_write_of_a_batch_whose_connection_died_the_outage() -> (
    None
):
    """Not a retry of each write on the dead connection, which fails as a bug would (500)."""
    event = await an_event()

    async with connection_pool(4):
        async with turn_taken(event.id):
            queued = [
                asyncio.create_task(postgres_write(work))
                for work in (
                    insert_message_on_postgres(event.id, "ada@example.org"),
                    connection_lost,
                )
            ]
            await asyncio.sleep(0)  # both join the queue: they will share one batch
        outcomes = await asyncio.gather(*queued, return_exceptions=True)

    assert [is_unavailable(outcome) for outcome in outcomes] == [True, True], outcomes
    assert "ada@example.org" not in await recipients()


@postgres_write_only
async def test_postgres_write_runs_the_writes_queued_behind_a_turn_in_their_order() -> None:
    event = await an_event()
    ran: list[int] = []

    def noting(order: int) -> PostgresWork:
        async def work(_: asyncpg.Connection) -> int:
            ran.append(order)
            return order

        return work

    async with connection_pool(4):
        async with turn_taken(event.id):
            queued = [
                asyncio.create_task(postgres_write(noting(order), order=order))
                for order in (5, 1, 3)
            ]
            await asyncio.sleep(0)  # each joins the queue before the turn is handed on
        answers = await asyncio.gather(*queued)

    assert ran == [1, 3, 5]
    assert answers == [5, 1, 3]


# --- Both engines: group commit (sqlite_write, postgres_write) -----------------------------


async def test_group_commit_lands_every_one_of_many_concurrent_writes() -> None:
    event = await an_event()
    addresses = [f"person{number}@example.org" for number in range(20)]

    async with connection_pool(4):
        ids = await asyncio.gather(*[write_message(event.id, address) for address in addresses])

    assert await recipients() == set(addresses)
    stored = await OutboxMessage.select(OutboxMessage.id, OutboxMessage.recipient)
    assert {row["recipient"]: row["id"] for row in stored} == dict(zip(addresses, ids, strict=True))


async def test_group_commit_rolls_back_a_failing_write_alone_and_commits_those_queued_with_it() -> (
    None
):
    event = await an_event()

    async with connection_pool(4):
        # The first write takes the writer's turn alone; the other four queue and are done
        # together in the next transaction, the failing one among them.
        outcomes = await asyncio.gather(
            write_message(event.id, "first@example.org"),
            write_message(event.id, "before@example.org"),
            write_message_then_refuse(event.id, "refused@example.org"),
            write_message(event.id, "after@example.org"),
            write_message(event.id, "last@example.org"),
            return_exceptions=True,
        )

    assert [type(outcome) for outcome in outcomes] == [int, int, Refused, int, int]
    assert str(outcomes[2]) == "refused@example.org"
    assert await recipients() == {
        "first@example.org",
        "before@example.org",
        "after@example.org",
        "last@example.org",
    }


# --- Both engines: a caller cancelled while it holds the writer's turn -----------------------


async def queued_in_the_leaders_batch(event_id: int) -> tuple[HeldBackWrite, asyncio.Task[int]]:
    """A leader and a follower that queue together: when the turn comes, one batch does both."""
    async with turn_taken(event_id):
        leader = HeldBackWrite(event_id, "leader@example.org")
        follower = asyncio.create_task(write_message(event_id, "follower@example.org"))
        await asyncio.sleep(0)
    return leader, follower


async def queued_for_the_next_turn(event_id: int) -> tuple[HeldBackWrite, asyncio.Task[int]]:
    """A leader already running its batch, and a follower queued for the turn after it."""
    leader = HeldBackWrite(event_id, "leader@example.org")
    await leader.running_now()
    follower = asyncio.create_task(write_message(event_id, "follower@example.org"))
    await asyncio.sleep(0)
    return leader, follower


@pytest.mark.parametrize(
    "queue_behind_a_leader",
    [
        pytest.param(queued_in_the_leaders_batch, id="in-the-leaders-batch"),
        pytest.param(queued_for_the_next_turn, id="for-the-next-turn"),
    ],
)
async def test_write_cancelled_while_holding_the_turn_keeps_it_and_the_write_behind_still_lands(
    queue_behind_a_leader: Callable[[int], Awaitable[tuple[HeldBackWrite, asyncio.Task[int]]]],
) -> None:
    event = await an_event()

    async with connection_pool(4):
        leader, follower = await queue_behind_a_leader(event.id)
        await leader.running_now()
        leader.task.cancel()

        # The leader's batch is still held back, so the follower cannot have been answered.
        finished, _ = await asyncio.wait([follower], timeout=0.1)
        assert not finished
        leader.let_go()

        follower_id = await asyncio.wait_for(follower, PATIENCE)
        with pytest.raises(asyncio.CancelledError):
            await leader.task

    assert await id_of_message_to("follower@example.org") == follower_id


async def test_write_cancelled_while_waiting_for_its_turn_never_runs() -> None:
    event = await an_event()

    async with connection_pool(4):
        async with turn_taken(event.id):
            gone = asyncio.create_task(write_message(event.id, "gone@example.org"))
            await asyncio.sleep(0)
            gone.cancel()
        later = await write_message(event.id, "later@example.org")

    with pytest.raises(asyncio.CancelledError):
        await gone
    assert await id_of_message_to("later@example.org") == later
    assert await id_of_message_to("gone@example.org") is None


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


def raised_while_handling(error: Exception, handled: Exception) -> Exception:
    error.__context__ = handled
    return error


@pytest.mark.parametrize(
    "error",
    [
        ConnectionRefusedError(111, "Connection refused"),
        ConnectionResetError(104, "Connection reset by peer"),
        asyncpg.exceptions.ConnectionDoesNotExistError("connection was closed in the middle"),
        asyncpg.exceptions.CannotConnectNowError("the database system is starting up"),
        asyncpg.exceptions.AdminShutdownError("terminating connection due to administrator"),
        asyncpg.exceptions.TooManyConnectionsError("sorry, too many clients already"),
        asyncpg.InterfaceError("connection is closed"),
        sqlite3.OperationalError("database is locked"),
        sqlite3.OperationalError("unable to open database file"),
        sqlite3.OperationalError("disk I/O error"),
        raised_while_handling(RuntimeError("rollback failed"), ConnectionResetError()),
    ],
    ids=repr,
)
def test_an_unreachable_or_locked_database_is_unavailable_not_a_bug(error: Exception) -> None:
    assert is_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        sqlite3.OperationalError("no such table: event"),
        asyncpg.exceptions.UndefinedTableError('relation "event" does not exist'),
        asyncpg.InterfaceError("cannot perform operation: another operation is in progress"),
        UniqueViolationError("duplicate key value"),
        ValueError("a bug of ours"),
    ],
    ids=repr,
)
def test_a_broken_query_is_a_bug_not_an_unavailable_database(error: Exception) -> None:
    assert not is_unavailable(error)


# What connecting to PostgreSQL raises before any server answers: the name does not resolve
# (its container stopped), the network is unreachable, the connect timed out.
NETWORK_ERRORS = [
    socket.gaierror(socket.EAI_NONAME, "Name or service not known"),
    TimeoutError(),
    OSError(errno.ENETUNREACH, "Network is unreachable"),
    OSError("Multiple exceptions: [Errno 113] No route to host, [Errno 101] unreachable"),
    raised_while_handling(
        RuntimeError("rollback failed"), socket.gaierror(socket.EAI_AGAIN, "Try again")
    ),
]


@postgres_only
@pytest.mark.parametrize("error", NETWORK_ERRORS, ids=repr)
def test_a_postgresql_server_that_cannot_be_reached_over_the_network_is_unavailable(
    error: Exception,
) -> None:
    assert is_unavailable(error)


@sqlite_only
@pytest.mark.parametrize("error", NETWORK_ERRORS, ids=repr)
def test_a_network_error_is_a_bug_when_the_database_is_a_sqlite_file(error: Exception) -> None:
    assert not is_unavailable(error)


@pytest.mark.parametrize(
    "error",
    [
        FileNotFoundError(errno.ENOENT, "No such file or directory", "export.csv"),
        IsADirectoryError(errno.EISDIR, "Is a directory", "uploads"),
        PermissionError(errno.EACCES, "Permission denied", "uploads/logo.png"),
    ],
    ids=repr,
)
def test_a_file_that_cannot_be_used_is_a_bug_not_an_unavailable_database(
    error: Exception,
) -> None:
    assert not is_unavailable(error)


def test_a_page_answers_503_not_500_while_the_postgresql_host_name_does_not_resolve() -> None:
    """As when `docker compose stop db` takes the name `db` away: the pool connects on use."""
    server = ServerProcess(
        "--no-mail-worker",
        env={"TREFFPUNKT_DATABASE_URL": "postgresql://postgres@db.invalid:5432/treffpunkt"},
    )
    try:
        response = first_answer(f"{server.base_url}/events")
    finally:
        server.stop()

    assert response.status_code == 503, response.text
    assert int(response.headers["retry-after"]) > 0
    assert "unexpected error" not in server.log.read_text()


def first_answer(url: str, seconds: float = 30) -> httpx.Response:
    """The answer to GET `url` once a server has started listening there."""
    for _ in range(int(seconds * 10)):
        try:
            return httpx.get(url, headers={"Accept-Language": "en"}, timeout=10)
        except httpx.ConnectError:
            time.sleep(0.1)
    raise AssertionError(f"nothing answered at {url} within {seconds} s")
