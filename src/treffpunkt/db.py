"""The database engine and Piccolo's app registry (PICCOLO_CONF points here)."""

from __future__ import annotations

import asyncio
import sqlite3
import weakref
from collections.abc import AsyncIterator, Awaitable, Callable, Coroutine
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, TypeVar, cast
from urllib.parse import unquote, urlsplit

import aiosqlite
import asyncpg
from piccolo.conf.apps import AppRegistry
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, SQLiteTransaction, TransactionType, dict_factory

from treffpunkt.settings import get_settings

T = TypeVar("T")


class ReusedSQLiteConnection(aiosqlite.Connection):
    """Goes back to its engine's idle list when closed, while the engine keeps one."""

    def __init__(self, engine: ReusingSQLiteEngine) -> None:
        kwargs = dict(engine.connection_kwargs)
        database = kwargs.pop("database")
        super().__init__(lambda: sqlite3.connect(database, **kwargs), iter_chunk_size=64)
        self.engine = engine

    async def close(self) -> None:
        idle = self.engine.idle
        if idle is not None and len(idle) < self.engine.max_idle and not self.in_transaction:
            idle.append(self)
        else:
            await super().close()


class ClosingSQLiteTransaction(SQLiteTransaction):
    """Piccolo's, but giving its connection back when BEGIN fails (locked beyond the timeout).

    Piccolo keeps it open then: the connection and its thread live on, and a process that has
    met a locked database once can no longer exit when told to stop.
    """

    async def begin(self) -> None:
        try:
            await super().begin()  # type: ignore[no-untyped-call]
        except BaseException:
            await self.connection.close()
            raise


class ReusingSQLiteEngine(SQLiteEngine):
    """Piccolo's SQLite engine, but reusing connections inside `connection_pool()`.

    Piccolo opens a connection, and with it a thread, for every query outside a transaction
    and sets a PRAGMA before every query inside one; under load that costs more than the
    queries. Connections here run in WAL mode (readers never wait for the writer) with
    synchronous=FULL: every commit reaches the disk before it is acknowledged, which group
    commit (see sqlite_write) makes affordable.
    """

    def __init__(self, path: str, *, busy_timeout: int = 60) -> None:
        # A generous timeout: writers wait for each other instead of failing with "locked".
        super().__init__(path=path, timeout=busy_timeout)
        self.idle: list[ReusedSQLiteConnection] | None = None
        self.max_idle = 0

    async def start_connection_pool(self, max_size: int = 10, **_: object) -> None:
        self.idle, self.max_idle = [], max_size

    async def close_connection_pool(self) -> None:
        idle, self.idle = self.idle or [], None
        for connection in idle:
            await connection.close()

    def transaction(
        self,
        transaction_type: TransactionType = TransactionType.deferred,
        allow_nested: bool = True,
    ) -> SQLiteTransaction:
        return ClosingSQLiteTransaction(
            engine=self, transaction_type=transaction_type, allow_nested=allow_nested
        )

    def plain_connection(self) -> sqlite3.Connection:
        """A blocking connection set up like the others, for work done on a thread."""
        kwargs = {**self.connection_kwargs, "check_same_thread": False}
        connection: sqlite3.Connection = sqlite3.connect(**kwargs)
        for pragma in SQLITE_PRAGMAS:
            connection.execute(pragma)
        return connection

    async def get_connection(self) -> aiosqlite.Connection:
        if self.idle:
            return self.idle.pop()
        connection = await ReusedSQLiteConnection(self)
        connection.row_factory = dict_factory  # type: ignore[assignment]
        for pragma in SQLITE_PRAGMAS:
            await connection.execute(pragma)
        return connection

    async def _run_in_new_connection(
        self,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: object = None,
    ) -> list[dict[str, Any]]:
        connection = await self.get_connection()
        try:
            return await self._run_in_existing_connection(connection, query, args)
        finally:
            await connection.close()

    async def _run_in_existing_connection(
        self,
        connection: aiosqlite.Connection,
        query: str,
        args: list[Any] | None = None,
        query_type: str = "generic",
        table: object = None,
    ) -> list[dict[str, Any]]:
        # Our connections are set up once (see get_connection); RETURNING gives new keys.
        async with connection.execute(query, args or []) as cursor:
            return cast(list[dict[str, Any]], await cursor.fetchall())  # dict_factory rows


SQLITE_PRAGMAS = (
    "PRAGMA foreign_keys = 1",
    "PRAGMA journal_mode = WAL",
    "PRAGMA synchronous = FULL",
)


def engine_from_url(url: str) -> Engine:  # type: ignore[type-arg]
    """Build the Piccolo engine that TREFFPUNKT_DATABASE_URL names."""
    if url.startswith("sqlite:///"):
        return ReusingSQLiteEngine(
            path=url.removeprefix("sqlite:///"), busy_timeout=get_settings().sqlite_busy_timeout
        )
    parts = urlsplit(url)
    return PostgresEngine(
        config={
            "host": parts.hostname or "127.0.0.1",
            "port": parts.port or 5432,
            "user": unquote(parts.username or "postgres"),
            "password": unquote(parts.password or "") or None,
            "database": parts.path.lstrip("/") or "treffpunkt",
        },
        log_queries=False,
    )


DB = engine_from_url(get_settings().database_url)

# SQLite's answers when the file cannot be used at the moment, rather than about the query.
SQLITE_UNAVAILABLE = (
    "database is locked",
    "unable to open database file",
    "disk i/o error",
    "database or disk is full",
)
POSTGRES_UNAVAILABLE = (
    ConnectionError,  # refused, reset or aborted on the way
    asyncpg.PostgresConnectionError,  # class 08: the connection failed or is gone
    asyncpg.exceptions.OperatorInterventionError,  # class 57: shutting down, starting up
    asyncpg.exceptions.TooManyConnectionsError,
)
# Reaching the server at all (the pool connects on first use): the host name does not
# resolve (socket.gaierror: its container stopped), the network is unreachable, the connect
# timed out. SQLite never goes on the network: there an OSError is no outage.
POSTGRES_UNREACHABLE = (OSError, TimeoutError)
# What code of ours handling files raises: a bug, on either engine, not the database.
FILE_ERRORS = (
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)


def is_unavailable(error: BaseException) -> bool:
    """Whether `error` means the database cannot be reached or used right now, not a bug.

    The same request may well succeed a little later: callers answer 503, not 500. An error
    raised while handling such a one (a rollback on the lost connection) counts as well.
    """
    seen: set[int] = set()
    cause: BaseException | None = error
    while cause is not None and id(cause) not in seen:
        if _says_unavailable(cause):
            return True
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__
    return False


def _says_unavailable(error: BaseException) -> bool:
    if isinstance(error, POSTGRES_UNAVAILABLE):
        return True
    if isinstance(error, POSTGRES_UNREACHABLE) and not isinstance(error, FILE_ERRORS):
        return is_postgres()
    if isinstance(error, asyncpg.InterfaceError):
        return "connection is closed" in str(error)
    if isinstance(error, sqlite3.OperationalError):
        return str(error).lower().startswith(SQLITE_UNAVAILABLE)
    return False


APP_REGISTRY = AppRegistry(
    apps=[
        "treffpunkt.accounts.piccolo_app",
        "treffpunkt.events.piccolo_app",
        "treffpunkt.registrations.piccolo_app",
        "treffpunkt.notifications.piccolo_app",
        "treffpunkt.attendance.piccolo_app",
        "treffpunkt.audit.piccolo_app",
        "treffpunkt.privacy.piccolo_app",
        "treffpunkt.ratelimits.piccolo_app",
    ]
)


@dataclass
class _Writer:
    """The process's turn to write, and the hot writes waiting for the next turn."""

    lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    connection: sqlite3.Connection | None = None
    reader: sqlite3.Connection | None = None
    waiting: list[tuple[int, Any, asyncio.Future[Any]]] = field(default_factory=list)


# SQLite admits one writer at a time; queueing writers here instead of in SQLite's busy
# handler (which sleeps and retries) keeps latency flat under load. One per event loop.
_writers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, _Writer] = (
    weakref.WeakKeyDictionary()
)


def _writer() -> _Writer:
    return _writers.setdefault(asyncio.get_running_loop(), _Writer())


def as_datetime(value: datetime | str) -> datetime:
    """SQLite answers timestamps as text where it cannot see their column (aggregates, raw)."""
    if isinstance(value, datetime):
        return value
    moment = datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def is_postgres() -> bool:
    return isinstance(DB, PostgresEngine)


@asynccontextmanager
async def write_transaction() -> AsyncIterator[None]:
    """A transaction that will write: IMMEDIATE and queued on SQLite, plain on PostgreSQL.

    Inside another transaction it joins that one.
    """
    if DB.current_transaction.get() is not None:
        yield
    elif isinstance(DB, SQLiteEngine):
        async with (
            _writer().lock,
            DB.transaction(transaction_type=TransactionType.immediate),
        ):
            yield
    else:
        async with DB.transaction():
            yield


async def _in_a_batch(
    work: Any, order: int, run: Callable[[list[Any]], Coroutine[Any, Any, list[Any]]]
) -> Any:
    """Group commit: whoever gets the writer's turn does every write waiting for it at once.

    Each caller gets its own write's result or exception. Writes run in `order` (the event's
    id), so that two processes' batches lock event rows in the same order and never deadlock.
    The batch runs as a task of its own: a caller that goes away cannot strand the others.
    """
    writer = _writer()
    done: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
    queued = (order, work, done)
    writer.waiting.append(queued)
    try:
        await _take_turn(writer, done, run)
    except asyncio.CancelledError:
        # A caller gone before its batch began: its write must not run later, unasked.
        writer.waiting = [waiting for waiting in writer.waiting if waiting is not queued]
        raise
    return await done


async def _take_turn(
    writer: _Writer,
    done: asyncio.Future[Any],
    run: Callable[[list[Any]], Coroutine[Any, Any, list[Any]]],
) -> None:
    async with writer.lock:
        if not done.done():
            batch = sorted(writer.waiting, key=lambda waiting: waiting[0])
            writer.waiting = []
            task = asyncio.create_task(run([work for _, work, _ in batch]))  # noqa: RUF006 - awaited below
            task.add_done_callback(lambda finished: _settle(batch, finished))
            try:
                await asyncio.shield(task)
            except asyncio.CancelledError:
                await asyncio.wait([task])  # keep the turn until the batch is over
                raise
            except Exception:  # noqa: S110 - _settle hands it to every caller
                pass


def _settle(batch: list[tuple[int, Any, asyncio.Future[Any]]], task: asyncio.Task[Any]) -> None:
    failure = task.exception() if not task.cancelled() else asyncio.CancelledError()
    outcomes = [failure] * len(batch) if failure else task.result()
    for (_, _, waiter), outcome in zip(batch, outcomes, strict=True):
        if waiter.done():
            continue
        if isinstance(outcome, BaseException):
            waiter.set_exception(outcome)
        else:
            waiter.set_result(outcome)


async def sqlite_write(work: Callable[[sqlite3.Connection], T], *, order: int = 0) -> T:
    """Run `work` on a worker thread, in one transaction with the writes queued beside it.

    Statement by statement, a hot write pays a thread hop per statement while it holds the
    one writer's turn; here a whole batch pays one hop and one commit. Each write has its
    own savepoint: one that fails is rolled back alone.
    """
    assert isinstance(DB, ReusingSQLiteEngine)
    writer = _writer()

    async def run(batch: list[Callable[[sqlite3.Connection], Any]]) -> list[Any]:
        if writer.connection is None:
            writer.connection = DB.plain_connection()
        return await asyncio.to_thread(_in_one_transaction, writer.connection, batch)

    return cast(T, await _in_a_batch(work, order, run))


async def postgres_write(
    work: Callable[[asyncpg.Connection], Awaitable[T]], *, order: int = 0
) -> T:
    """Run `work` in one transaction with the writes queued beside it: one commit for all.

    A commit waits for the disk; under a burst, many writes share that wait. Should one of
    them fail, the batch is rolled back and each write is done alone, so a failure reaches
    only its own caller.
    """
    assert isinstance(DB, PostgresEngine)
    return cast(T, await _in_a_batch(work, order, _postgres_batch))


async def _postgres_batch(batch: list[Callable[[asyncpg.Connection], Awaitable[Any]]]) -> list[Any]:
    assert isinstance(DB, PostgresEngine)
    async with _postgres_connection() as connection:
        try:
            async with connection.transaction():
                return [await work(connection) for work in batch]
        except Exception as error:
            # Alone, or with the connection gone, the batch's failure is every write's own.
            if len(batch) == 1 or is_unavailable(error):
                raise
        outcomes: list[Any] = []
        for work in batch:
            try:
                async with connection.transaction():
                    outcomes.append(await work(connection))
            except Exception as exc:
                outcomes.append(exc)
        return outcomes


@asynccontextmanager
async def _postgres_connection() -> AsyncIterator[asyncpg.Connection]:
    """From the pool when there is one (the app, the worker), else a connection of its own."""
    assert isinstance(DB, PostgresEngine)
    if DB.pool is not None:
        async with DB.pool.acquire() as pooled:
            yield pooled
        return
    connection = await DB.get_new_connection()
    try:
        yield connection
    finally:
        await connection.close()


def sqlite_read(sql: str, *args: Any) -> list[dict[str, Any]]:
    """A small indexed read, right here on the event loop.

    It takes tens of microseconds, less than a hop to a connection's thread costs, and in
    WAL mode a reader never waits for a writer. Only for reads of a few rows by key.
    """
    assert isinstance(DB, ReusingSQLiteEngine)
    writer = _writer()
    if writer.reader is None:
        writer.reader = DB.plain_connection()
        writer.reader.row_factory = dict_factory
    return cast(list[dict[str, Any]], writer.reader.execute(sql, args).fetchall())


def _in_one_transaction(
    connection: sqlite3.Connection, batch: list[Callable[[sqlite3.Connection], Any]]
) -> list[Any]:
    """A batch of writes, each under a savepoint, in one IMMEDIATE transaction."""
    connection.execute("BEGIN IMMEDIATE")
    outcomes: list[Any] = []
    try:
        for work in batch:
            connection.execute("SAVEPOINT one_write")
            try:
                outcomes.append(work(connection))
            except Exception as exc:
                connection.execute("ROLLBACK TO one_write")
                outcomes.append(exc)
            connection.execute("RELEASE one_write")
        connection.execute("COMMIT")
    except BaseException:
        if connection.in_transaction:
            connection.execute("ROLLBACK")
        raise
    return outcomes


async def _keep_session_state(_: object) -> None:
    """Stands in for asyncpg's reset query, a round trip after every pooled query.

    Treffpunkt sets no session state (no SET, LISTEN, cursors or advisory locks), and
    asyncpg still rolls back a transaction left open before calling this.
    """


@asynccontextmanager
async def connection_pool(max_size: int) -> AsyncIterator[None]:
    """One pool per process: asyncpg's, or a list of idle SQLite connections.

    The pool connects when a request first needs it, not at start: a process started while
    the database is away answers 503 until it returns, instead of exiting.
    """
    if isinstance(DB, PostgresEngine):
        await DB.start_connection_pool(min_size=0, max_size=max_size, reset=_keep_session_state)
    elif isinstance(DB, ReusingSQLiteEngine):
        await DB.start_connection_pool(max_size=max_size)
    try:
        yield
    finally:
        await DB.close_connection_pool()
        writer = _writers.pop(asyncio.get_running_loop(), None)
        for connection in (writer.connection, writer.reader) if writer else ():
            if connection is not None:
                connection.close()
