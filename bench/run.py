"""Treffpunkt's benchmark: the real server (two workers, PostgreSQL) against baselines.

One more scenario runs the registration load on the embedded SQLite default (one process).

    python bench/run.py           # the full run (2,000 events, 100,000 registrations)
    python bench/run.py --smoke   # seconds, tiny data: proves every scenario still runs

PostgreSQL is BENCH_POSTGRES (default the local server as postgres), database BENCH_DATABASE
(default treffpunkt_bench, dropped and recreated). A run fails, naming each reason, when a
scenario made too few requests, got an error or an answer other than its expected status,
left a hot event whose roster differs from seats_taken, or did not deliver every queued
mail exactly once.

Load comes from wrk (a separate process) on 127.0.0.1 only, bounded in time. Results go to
bench/results/<time>.json; the full run also rewrites docs/performance.md.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import re
import socket
import sqlite3
import subprocess
import sys
import tempfile
import time
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import asyncpg
import httpx

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
BIN = ROOT / ".venv" / "bin"
sys.path.insert(0, str(ROOT))

from bench.baselines import driver_loop  # noqa: E402
from bench.seed import seed  # noqa: E402

SERVER = os.environ.get("BENCH_POSTGRES", "postgresql://postgres@127.0.0.1:5432")
# Dropped and recreated by every run: a separate name keeps parallel runs apart.
NAME = os.environ.get("BENCH_DATABASE", "treffpunkt_bench")
DATABASE = f"{SERVER}/{NAME}"
# The in-process micro-cache for the public catalogue and feeds, switched off: what the query costs.
CACHE_OFF = {"TREFFPUNKT_CATALOGUE_CACHE_SECONDS": "0"}


@dataclass(frozen=True)
class Size:
    events: int
    per_event: int
    seconds: int
    mails: int
    scale_events: int
    # Fewer requests than this in a scenario means it did not really run (a dead server, a
    # script that never fires): the run fails instead of reporting a rate.
    min_requests: int


FULL = Size(
    events=2000, per_event=50, seconds=15, mails=2000, scale_events=100_000, min_requests=500
)
SMOKE = Size(events=40, per_event=5, seconds=2, mails=40, scale_events=200, min_requests=20)
OK = frozenset({200})
CREATED = frozenset({201})
NOT_MODIFIED = frozenset({304})


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def app_env(database_url: str = DATABASE, extra: dict[str, str] | None = None) -> dict[str, str]:
    return {
        **os.environ,
        "TREFFPUNKT_DATABASE_URL": database_url,
        "TREFFPUNKT_SECRET_KEY": "bench-" + "x" * 40,
        "TREFFPUNKT_REGISTRATION_RATE_LIMIT": "0",
        "TREFFPUNKT_REGISTRATION_EVENT_SHARE": "0",
        "TREFFPUNKT_LOGIN_RATE_LIMIT": "0",
        "TREFFPUNKT_LOG_LEVEL": "WARNING",
        **(extra or {}),
    }


def cli(*args: str, database_url: str = DATABASE) -> str:
    done = subprocess.run(
        [str(BIN / "treffpunkt"), *args],
        env=app_env(database_url),
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    if done.returncode:
        raise RuntimeError(f"treffpunkt {' '.join(args[:2])} failed:\n{done.stdout}{done.stderr}")
    return done.stdout.strip()


def bench_admin(database_url: str = DATABASE) -> str:
    """Migrate, create the bench admin, and return a fresh API token for it."""
    cli("migrate", database_url=database_url)
    cli(
        "users",
        "create",
        "--email",
        "bench@example.org",
        "--password",
        "bench-password-1",
        "--admin",
        database_url=database_url,
    )
    return cli("tokens", "create", "--email", "bench@example.org", database_url=database_url)


async def recreate_database() -> None:
    admin = await asyncpg.connect(f"{SERVER}/postgres")
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{NAME}" WITH (FORCE)')
        await admin.execute(f'CREATE DATABASE "{NAME}"')
    finally:
        await admin.close()


def wrk(
    url: str,
    *,
    connections: int,
    seconds: int,
    script: str = "",
    env: dict[str, str] | None = None,
    expect: frozenset[int] = OK,
) -> dict[str, Any]:
    """One wrk run; its Lua prints a JSON line that this reads back.

    `expect` is the only status the scenario may answer: `failures` reports any other.
    """
    lua = (HERE / "lua" / script).read_text() if script else ""
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as combined:
        combined.write(lua + "\n" + (HERE / "lua" / "report.lua").read_text())
    threads = min(2, connections)
    done = subprocess.run(  # bounded: wrk stops itself after -d, the timeout is a backstop
        [
            "wrk",
            f"-t{threads}",
            f"-c{connections}",
            f"-d{seconds}s",
            "--timeout",
            "10s",
            "-s",
            combined.name,
            url,
        ],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        check=False,
        timeout=seconds + 60,
    )
    Path(combined.name).unlink()
    if done.returncode:
        raise RuntimeError(
            f"wrk {script or url} exited {done.returncode}: {done.stdout}{done.stderr}"
        )
    match = re.search(r"WRK_RESULT (\{.*\})", done.stdout)
    if not match:
        raise RuntimeError(f"wrk said: {done.stdout}\n{done.stderr}")
    result = dict(json.loads(match.group(1)))
    result["statuses"] = {int(status): n for status, n in result["statuses"].items()}
    result["expected"] = sorted(expect)
    return result


def rate(result: dict[str, Any]) -> float:
    return float(result["requests"]) / float(result["seconds"]) if result["seconds"] else 0.0


class Server:
    """`treffpunkt serve` with two worker processes, as production would run it.

    `database_url`, `workers` and `env` (extra environment variables) change that: the SQLite
    scenario runs one process against its own file, the cache-off scenarios pass CACHE_OFF.
    """

    def __init__(
        self,
        database_url: str = DATABASE,
        *,
        workers: int = 2,
        env: dict[str, str] | None = None,
    ) -> None:
        self.port = free_port()
        self.base = f"http://127.0.0.1:{self.port}"
        self.database_url = database_url
        self.workers = workers
        self.env = dict(env or {})
        self.process: subprocess.Popen[bytes] | None = None

    def __enter__(self) -> Server:
        self.process = subprocess.Popen(
            [
                str(BIN / "treffpunkt"),
                "serve",
                "--host",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--workers",
                str(self.workers),
                "--no-mail-worker",
            ],
            env=app_env(self.database_url, self.env),
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            wait_healthy(self.base, process=self.process)
        except BaseException:
            self.__exit__()
            raise
        return self

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        # uvicorn's workers, not multiprocessing's resource tracker (also a child, ~12 MB).
        return [
            int(pid)
            for pid in children.read_text().split()
            if b"resource_tracker" not in Path(f"/proc/{pid}/cmdline").read_bytes()
        ]

    def __exit__(self, *_: object) -> None:
        assert self.process is not None
        self.process.terminate()
        try:
            self.process.wait(20)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)
            raise


def wait_healthy(
    base: str, path: str = "/health", process: subprocess.Popen[bytes] | None = None
) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise RuntimeError(f"{base} exited with status {process.returncode} while starting")
        try:
            if httpx.get(base + path, timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError(f"{base} did not come up")


def peak_rss_mb(pid: int) -> float:
    status = Path(f"/proc/{pid}/status").read_text()
    match = re.search(r"VmHWM:\s+(\d+) kB", status)
    return int(match.group(1)) / 1024 if match else 0.0


def create_event(base: str, token: str, **overrides: Any) -> dict[str, Any]:
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(days=30)
    body = {
        "title": "Heißer Workshop",
        "kind": "workshop",
        "format": "online",
        "online_url": "https://meet.example.org/hot",
        "region": "DE-SN",
        "sectors": ["energy"],
        "starts_at": start.isoformat(),
        "ends_at": (start + timedelta(hours=2)).isoformat(),
        "capacity": 100_000,
        "waitlist": True,
        **overrides,
    }
    headers = {"Authorization": f"Bearer {token}"}
    created = httpx.post(f"{base}/api/v1/events", json=body, headers=headers, timeout=30).json()
    httpx.post(f"{base}/api/v1/events/{created['slug']}/publish", headers=headers, timeout=30)
    return dict(created)


async def count(sql: str, *args: Any) -> int:
    connection = await asyncpg.connect(DATABASE)
    try:
        return int(await connection.fetchval(sql, *args))
    finally:
        await connection.close()


async def event_id(slug: str) -> int:
    return await count("SELECT id FROM event WHERE slug = $1", slug)


def bare_litestar(page: str, *, seconds: int) -> dict[str, Any]:
    port = free_port()
    process = subprocess.Popen(
        [
            str(BIN / "uvicorn"),
            "bench.bare_app:app",
            "--port",
            str(port),
            "--workers",
            "2",
            "--log-level",
            "warning",
            "--no-access-log",
        ],
        cwd=ROOT,
        env={**os.environ, "BENCH_PAGE": page},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_healthy(f"http://127.0.0.1:{port}", "/page")
        return wrk(f"http://127.0.0.1:{port}/page", connections=32, seconds=seconds)
    finally:
        process.terminate()
        process.wait(20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--smoke", action="store_true", help="seconds and tiny data, for CI")
    size = SMOKE if parser.parse_args().smoke else FULL
    results: dict[str, Any] = {"size": size.__dict__, "scenarios": {}}
    scenarios = results["scenarios"]

    # First, while PostgreSQL is idle (no seeding, no autovacuum after it): SQLite runs in the
    # app's own process and is measured on a quiet machine like every other scenario.
    scenarios["register_sqlite"] = register_sqlite(size)

    asyncio.run(recreate_database())
    token = bench_admin()
    owner = asyncio.run(count("SELECT id FROM organiser WHERE email = 'bench@example.org'"))

    # The catalogue at 1,000 events first, for the scale comparison at the end; both ends of
    # that comparison run with the response cache off, so they measure the query.
    asyncio.run(seed(DATABASE, events=size.events // 2, per_event=0, owner_id=owner, prefix="a"))
    with Server(env=CACHE_OFF) as server:
        catalogue = f"{server.base}/api/v1/events?region=DE-SN&limit=20"
        scenarios["catalogue_small"] = wrk(catalogue, connections=32, seconds=size.seconds)
    asyncio.run(
        seed(
            DATABASE,
            events=size.events // 2,
            per_event=size.per_event * 2,
            owner_id=owner,
            prefix="b",
        )
    )

    with Server() as server:
        hot = create_event(server.base, token)
        hot_id = asyncio.run(event_id(hot["slug"]))
        register = f"{server.base}/api/v1/events/{hot['slug']}/registrations"
        scenarios["register"] = wrk(
            register, connections=32, seconds=size.seconds, script="register.lua", expect=CREATED
        )

        for name, one in (
            ("register_baseline_naive", False),
            ("register_baseline_one_statement", True),
        ):
            other = create_event(server.base, token, title=name)
            other_id = asyncio.run(event_id(other["slug"]))
            scenarios[name] = asyncio.run(
                driver_loop(
                    DATABASE,
                    other_id,
                    clients=32,
                    seconds=size.seconds,
                    one_statement=one,
                    tag=name,
                )
            )

        catalogue = f"{server.base}/api/v1/events?region=DE-SN&limit=20"
        scenarios["catalogue_json"] = wrk(catalogue, connections=32, seconds=size.seconds)
        with Server(env=CACHE_OFF) as uncached:  # same database, same data, no response cache
            scenarios["catalogue_json_uncached"] = wrk(
                catalogue.replace(server.base, uncached.base), connections=32, seconds=size.seconds
            )
        page = httpx.get(catalogue, timeout=30).text
        scenarios["catalogue_baseline_bare_litestar"] = bare_litestar(page, seconds=size.seconds)
        scenarios["catalogue_html"] = wrk(
            f"{server.base}/events?region=DE-SN", connections=32, seconds=size.seconds
        )

        feed = f"{server.base}/calendar.ics?region=DE-SN"
        scenarios["feed_full"] = wrk(feed, connections=32, seconds=size.seconds)
        etag = httpx.get(feed, timeout=30).headers["etag"]
        scenarios["feed_304"] = wrk(
            feed,
            connections=32,
            seconds=size.seconds,
            script="conditional.lua",
            env={"ETAG": etag},
            expect=NOT_MODIFIED,
        )

        door = create_event(
            server.base,
            token,
            title="Tür",
            capacity=None,
            starts_at=(datetime.now(UTC) + timedelta(minutes=30)).isoformat(),
            ends_at=(datetime.now(UTC) + timedelta(hours=3)).isoformat(),
        )
        codes = door_codes(server.base, door["slug"], people=max(size.per_event, 50))
        with tempfile.NamedTemporaryFile("w", delete=False) as codes_file:
            codes_file.write("\n".join(codes))
        scenarios["check_in"] = wrk(
            f"{server.base}/api/v1/events/{door['slug']}/check-ins",
            connections=8,
            seconds=size.seconds,
            script="checkin.lua",
            env={"CODES_FILE": codes_file.name, "TOKEN": token},
        )
        results["peak_rss_mb"] = [peak_rss_mb(pid) for pid in server.worker_pids()]
    # Counted after the server has shut down, so nothing is still being written.
    hot_event_after(scenarios["register"], **asyncio.run(roster_of(hot_id)))

    scenarios["mail"] = run_mail(asyncio.run(queue_invitations(owner, size.mails)))

    asyncio.run(seed(DATABASE, events=size.scale_events, per_event=0, owner_id=owner, prefix="c"))
    with Server(env=CACHE_OFF) as server:
        catalogue = f"{server.base}/api/v1/events?region=DE-SN&limit=20"
        scenarios["catalogue_large"] = wrk(catalogue, connections=32, seconds=size.seconds)

    report(results, smoke=size is SMOKE)
    problems = failures(scenarios, size)
    for problem in problems:
        print(f"FAILED {problem}")
    return 1 if problems else 0


def failures(scenarios: dict[str, Any], size: Size) -> list[str]:
    """Everything that makes this run prove less than its table claims, one line each."""
    problems: list[str] = []
    for name, result in scenarios.items():
        if result["requests"] < size.min_requests:
            problems.append(
                f"{name}: {result['requests']} requests, fewer than {size.min_requests}"
            )
        if result["errors"]:
            problems.append(f"{name}: {result['errors']} errors")
        if wrong := unexpected(result):
            problems.append(f"{name}: answers {wrong}, expected only {result['expected']}")
    for name in ("register", "register_sqlite"):
        result = scenarios[name]
        if result["on_roster"] != result["seats_taken"]:
            problems.append(
                f"{name}: {result['on_roster']} on the roster, seats_taken {result['seats_taken']}"
            )
        if result["on_roster"] < result["acknowledged"]:
            problems.append(
                f"{name}: {result['acknowledged']} acknowledged, only {result['on_roster']} "
                "on the roster"
            )
    mail = scenarios["mail"]
    for what in ("missing", "duplicated", "unknown", "unsent"):
        if mail[what]:
            problems.append(f"mail: {what} messages, outbox ids {mail[what]}")
    return problems


def unexpected(result: dict[str, Any]) -> dict[int, int]:
    """How many answers of each status the scenario should not have had (wrk runs only)."""
    return {
        status: n
        for status, n in result.get("statuses", {}).items()
        if status not in result["expected"]
    }


def hot_event_after(result: dict[str, Any], *, on_roster: int, seats_taken: int) -> None:
    """Adds what the hot event holds after the load next to what wrk saw acknowledged (201)."""
    result.update(
        acknowledged=result["statuses"].get(201, 0), on_roster=on_roster, seats_taken=seats_taken
    )


async def roster_of(event: int) -> dict[str, int]:
    """The hot event's roster and seats_taken, read in one statement."""
    connection = await asyncpg.connect(DATABASE)
    try:
        row = await connection.fetchrow(
            "SELECT e.seats_taken, (SELECT count(*) FROM registration AS r WHERE r.event = e.id)"
            " AS on_roster FROM event AS e WHERE e.id = $1",
            event,
        )
    finally:
        await connection.close()
    return {"on_roster": int(row["on_roster"]), "seats_taken": int(row["seats_taken"])}


def register_sqlite(size: Size) -> dict[str, Any]:
    """The `register` load on the embedded SQLite default: a fresh file, one process."""
    with tempfile.TemporaryDirectory(prefix="treffpunkt-bench-") as directory:
        path = Path(directory) / "bench.sqlite3"
        url = f"sqlite:///{path}"
        token = bench_admin(url)
        # One process: SQLite is the single-machine engine, writers queue inside the process.
        with Server(url, workers=1) as server:
            hot = create_event(server.base, token)
            result = wrk(
                f"{server.base}/api/v1/events/{hot['slug']}/registrations",
                connections=32,
                seconds=size.seconds,
                script="register.lua",
                expect=CREATED,
            )
            result["peak_rss_mb"] = peak_rss_mb(server.process.pid) if server.process else 0.0
        # Counted after the server has shut down, so nothing is still being written.
        with contextlib.closing(sqlite3.connect(path, timeout=30)) as connection:
            hot_id, taken = connection.execute(
                "SELECT id, seats_taken FROM event WHERE slug = ?", (hot["slug"],)
            ).fetchone()
            (on_roster,) = connection.execute(
                "SELECT count(*) FROM registration WHERE event = ?", (hot_id,)
            ).fetchone()
    hot_event_after(result, on_roster=int(on_roster), seats_taken=int(taken))
    return result


def door_codes(base: str, slug: str, *, people: int) -> list[str]:
    sys.path.insert(0, str(ROOT / "src"))
    os.environ.update(app_env())
    from treffpunkt.attendance.codes import check_in_code

    for n in range(people):
        httpx.post(
            f"{base}/api/v1/events/{slug}/registrations",
            timeout=30,
            json={
                "name": f"Gast {n}",
                "email": f"gast{n}@door.example",
                "organisation": "Tür",
                "stakeholder_group": "other",
                "consent": True,
            },
        )
    event = asyncio.run(event_id(slug))
    connection_rows = asyncio.run(registration_ids(event))
    return [check_in_code(event, rid) for rid in connection_rows]


async def registration_ids(event: int) -> list[int]:
    connection = await asyncpg.connect(DATABASE)
    try:
        return [
            row["id"]
            for row in await connection.fetch("SELECT id FROM registration WHERE event = $1", event)
        ]
    finally:
        await connection.close()


async def queue_invitations(owner: int, mails: int) -> list[int]:
    """`mails` confirmed registrations on a published event; returns their outbox rows' ids."""
    connection = await asyncpg.connect(DATABASE)
    try:
        event = await connection.fetchval(
            "SELECT id FROM event WHERE slug LIKE 'bench-b-%' LIMIT 1"
        )
        await connection.execute("UPDATE outbox_message SET status = 'sent'")
        await connection.execute(
            """INSERT INTO registration (event, name, email, organisation, stakeholder_group, role,
                notes, answers, language, status, link_nonce, token_hash, search_text,
                added_by_organiser, consent_at, created_at, updated_at)
            SELECT $1, 'Mail ' || g, 'mail' || g || '@sink.example', 'Sink', 'business', '', '',
                '{}', CASE WHEN g % 2 = 0 THEN 'de' ELSE 'en' END, 'confirmed', md5('m' || g),
                md5('mh' || g), '', false, now(), now(), now()
            FROM generate_series(1, $2) AS g""",
            event,
            mails,
        )
        queued = await connection.fetch(
            """INSERT INTO outbox_message (kind, event, registration, recipient, language, payload,
                status, attempts, next_attempt_at, last_error, created_at)
            SELECT 'registration_confirmed', $1, r.id, r.email, r.language, '{}', 'pending', 0,
                now(), '', now() FROM registration r WHERE r.event = $1 AND r.email LIKE 'mail%'
            RETURNING id""",
            event,
        )
        return [row["id"] for row in queued]
    finally:
        await connection.close()


async def unsent(outbox_ids: list[int]) -> list[int]:
    connection = await asyncpg.connect(DATABASE)
    try:
        rows = await connection.fetch(
            "SELECT id FROM outbox_message WHERE id = ANY($1) AND status <> 'sent' ORDER BY id",
            outbox_ids,
        )
        return [row["id"] for row in rows]
    finally:
        await connection.close()


def run_mail(queued: list[int]) -> dict[str, Any]:
    """Two worker processes drain one outbox together, as two `treffpunkt worker`s would.

    Every queued row must reach the SMTP sinks exactly once: counted by the Message-ID,
    which names the outbox row it was made from.
    """
    workers = [
        subprocess.Popen(
            [str(BIN / "python"), str(HERE / "mail.py"), str(free_port())],
            env=app_env(),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    results = []
    for worker in workers:
        out, err = worker.communicate(timeout=600)
        match = re.search(r"MAIL_RESULT (\{.*\})", out)
        if not match:
            raise RuntimeError(out + err)
        results.append(json.loads(match.group(1)))
    sent = sum(r["sent"] for r in results)
    delivered = Counter(
        int(match.group(1))
        for r in results
        for message_id in r["message_ids"]
        if (match := re.fullmatch(r"<outbox-(\d+)-\w+@[^>]+>", message_id))
    )
    received = sum(len(r["message_ids"]) for r in results)
    return {
        "requests": sent,
        "seconds": max(r["seconds"] for r in results),
        "p50_ms": 0.0,
        "p99_ms": 0.0,
        "errors": sent - received,
        "non_2xx": 0,
        "received": received,
        "missing": sorted(set(queued) - set(delivered)),
        "duplicated": sorted(i for i, n in delivered.items() if n > 1),
        "unknown": sorted(set(delivered) - set(queued)),
        "unsent": asyncio.run(unsent(queued)),
    }


ROWS = [
    ("register", "registrations, hot event, 32 clients", "register_baseline_naive"),
    ("register_baseline_naive", "  baseline: asyncpg, UPDATE then INSERT", None),
    ("register_baseline_one_statement", "  baseline: asyncpg, one statement", None),
    ("register_sqlite", "registrations on SQLite, hot event, 32 clients, 1 process", None),
    (
        "catalogue_json",
        "catalogue JSON, region filter, page of 20",
        "catalogue_baseline_bare_litestar",
    ),
    ("catalogue_json_uncached", "catalogue JSON, cache off", "catalogue_baseline_bare_litestar"),
    ("catalogue_html", "catalogue HTML, region filter", "catalogue_baseline_bare_litestar"),
    ("catalogue_baseline_bare_litestar", "  baseline: bare Litestar JSON, same page", None),
    ("feed_full", "calendar feed, one region, full answer", None),
    ("feed_304", "calendar feed, one region, 304", None),
    ("check_in", "check-in scans, 8 scanners", None),
    ("mail", "invitation mails (MIME, iCal, QR) to SMTP, 2 workers", None),
    ("catalogue_small", "catalogue JSON at 1,000 events (cache off)", None),
    ("catalogue_large", "catalogue JSON at the large set (cache off)", "catalogue_small"),
]


def table(results: dict[str, Any]) -> str:
    scenarios = results["scenarios"]
    lines = [
        "| scenario | per second | p50 ms | p99 ms | errors | ratio to baseline |",
        "| --- | ---: | ---: | ---: | ---: | --- |",
    ]
    for key, label, baseline in ROWS:
        r = scenarios.get(key)
        if not r:
            continue
        ratio = ""
        if baseline and scenarios.get(baseline):
            if key == "catalogue_large":
                ratio = f"p50 {r['p50_ms'] / max(scenarios[baseline]['p50_ms'], 1e-9):.2f}× of 1,000 events"
            else:
                ratio = f"{rate(r) / max(rate(scenarios[baseline]), 1e-9):.2f}× {baseline}"
        # wrk's errors include its status errors (above 399); unexpected() counts those too.
        lines.append(
            f"| {label} | {rate(r):,.0f} | {r['p50_ms']:.1f} | {r['p99_ms']:.1f} | "
            f"{r['errors'] - r['non_2xx'] + sum(unexpected(r).values())} | {ratio} |"
        )
    register = scenarios.get("register", {})
    lines.append("")
    lines.append(
        f"Hot event afterwards: {register.get('acknowledged')} registrations acknowledged, "
        f"{register.get('on_roster')} on the roster, seats_taken {register.get('seats_taken')} "
        "(requests still in flight when wrk stops are answered by the server but not counted by wrk)."
    )
    on_sqlite = scenarios.get("register_sqlite")
    if on_sqlite:
        lines.append(
            f"Hot event on SQLite afterwards: {on_sqlite.get('acknowledged')} registrations "
            f"acknowledged, {on_sqlite.get('on_roster')} on the roster, seats_taken "
            f"{on_sqlite.get('seats_taken')}."
        )
    lines.append(
        f"Peak RSS per worker process: {', '.join(f'{m:.0f} MB' for m in results['peak_rss_mb'])}."
    )
    return "\n".join(lines)


ANALYSIS_MARKER = "<!-- Written by hand from here on; make bench keeps it. -->"


def report(results: dict[str, Any], *, smoke: bool) -> None:
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    out = HERE / "results"
    out.mkdir(exist_ok=True)
    (out / f"{stamp}{'-smoke' if smoke else ''}.json").write_text(json.dumps(results, indent=2))
    text = table(results)
    print(text)
    if smoke:
        return
    machine = f"{platform.node()}: {os.cpu_count()} cores, Python {platform.python_version()}"
    summary = ROOT / "docs" / "performance.md"
    # What people wrote below the marker (targets, profiles, what bounds each figure) stays.
    _, marker, analysis = summary.read_text().partition(ANALYSIS_MARKER)
    summary.write_text(
        "# Performance\n\n"
        f"Measured {stamp} on {machine}, PostgreSQL on the same machine, the app as "
        "`treffpunkt serve --workers 2` (SQLite: one process), load from wrk on 127.0.0.1.\n\n"
        "Command: `make bench` (`python bench/run.py`).\n\n"
        + text
        + "\n\n"
        + ANALYSIS_MARKER
        + (analysis if marker else "\n")
    )


if __name__ == "__main__":
    sys.exit(main())
