"""The `treffpunkt` command: migrate, demo data, users, tokens, serving."""

from __future__ import annotations

import asyncio
import contextlib
import io
import sys
from collections.abc import Awaitable
from datetime import UTC, datetime
from typing import TypeVar

import click

from treffpunkt.errors import DomainError

T = TypeVar("T")


def _run(work: Awaitable[T]) -> T:
    """Run one coroutine; a rule's refusal becomes a clear message and exit status 1."""

    async def runner() -> T:
        return await work

    try:
        return asyncio.run(runner())
    except DomainError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(1)


def _ready() -> None:
    """Refuse to start on a bad setting or a language without its catalogue, in one line."""
    from treffpunkt.i18n import check_catalogues
    from treffpunkt.settings import SettingsError, get_settings

    try:
        get_settings()
        check_catalogues()
    except SettingsError as error:
        click.echo(f"error: {error}", err=True)
        sys.exit(1)


def _password(given: str | None) -> str:
    """The password from the option, else prompted on a terminal, else stdin's first line."""
    if given is not None:
        return given
    if sys.stdin.isatty():
        return str(click.prompt("Password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@click.group()
def main() -> None:
    """Treffpunkt: regional workshops and networking meetings, end to end."""


async def apply_migrations(*, quiet: bool = False) -> bool:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    output = io.StringIO()
    with contextlib.redirect_stdout(output) if quiet else contextlib.nullcontext():
        result = await run_forwards("all")
    if not result.success:
        click.echo(output.getvalue() + (result.message or ""), err=True)
    return bool(result.success)


@main.command()
def migrate() -> None:
    """Apply all database migrations."""
    _ready()
    if not _run(apply_migrations()):
        sys.exit(1)


@main.command()
def demo() -> None:
    """Load demo data (safe to run again: it adds only what is missing)."""
    from treffpunkt.demo import load_demo_data

    summary = _run(load_demo_data())
    click.echo(summary)


@main.group()
def users() -> None:
    """Organiser accounts."""


@users.command("create")
@click.option("--email", required=True)
@click.option(
    "--password",
    help="Unsafe: it stays in the shell history and shows in `ps`. "
    "Without it the password is read from stdin, or prompted for on a terminal.",
)
@click.option("--name", default="")
@click.option("--admin", is_flag=True, help="May manage every event.")
def create_user(email: str, password: str | None, name: str, admin: bool) -> None:
    """Create an organiser (or an admin)."""
    from treffpunkt.accounts.services import create_organiser

    organiser = _run(create_organiser(email, _password(password), name=name, is_admin=admin))
    click.echo(f"created {'admin' if organiser.is_admin else 'organiser'} {organiser.email}")


@users.command("set-password")
@click.option("--email", required=True)
def set_user_password(email: str) -> None:
    """Change a password (read from stdin, or prompted for) and end every browser session."""
    from treffpunkt.accounts.services import set_password

    _run(set_password(email, _password(None)))
    click.echo(f"changed the password of {email}")


@users.command("deactivate")
@click.option("--email", required=True)
def deactivate_user(email: str) -> None:
    """Take an organiser's access away: sign-in, API tokens and open browser sessions."""
    from treffpunkt.accounts.services import deactivate_organiser

    _run(deactivate_organiser(email))
    click.echo(f"deactivated {email}")


@main.group()
def tokens() -> None:
    """API tokens."""


@tokens.command("create")
@click.option("--email", required=True)
def create_token(email: str) -> None:
    """Print a new API token for that organiser, and nothing else."""
    from treffpunkt.accounts.services import create_api_token

    click.echo(_run(create_api_token(email)))


@tokens.command("list")
@click.option("--email", required=True)
def list_tokens(email: str) -> None:
    """List an organiser's tokens: id, created, last used, revoked (never the secret)."""
    from treffpunkt.accounts.services import list_api_tokens

    def shown(moment: datetime | None) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment else "-"

    listed = _run(list_api_tokens(email))
    click.echo(f"{'id':>6}  {'created':<20}  {'last used':<20}  revoked")
    for token in listed:
        click.echo(
            f"{token.id:>6}  {shown(token.created_at):<20}  {shown(token.last_used_at):<20}  "
            f"{shown(token.revoked_at)}"
        )


@tokens.command("revoke")
@click.option("--token", "secret", help="The token itself, as the API caller sends it.")
@click.option("--id", "token_id", type=int, help="The token's id, from `tokens list`.")
def revoke_token(secret: str | None, token_id: int | None) -> None:
    """Revoke an API token at once; the next call with it answers 401."""
    from treffpunkt.accounts.services import revoke_api_token
    from treffpunkt.clock import utcnow

    if (secret is None) == (token_id is None):
        raise click.UsageError("give either --token or --id")
    revoked = _run(revoke_api_token(token=secret, token_id=token_id, now=utcnow()))
    click.echo(f"revoked token {revoked}")


@main.group()
def privacy() -> None:
    """Personal data: export or erase one address; what retention has due and has done."""


@privacy.command("export")
@click.option("--email", required=True)
def privacy_export(email: str) -> None:
    """Print, as JSON, everything stored about this address (registrations, organiser account)."""
    import msgspec

    from treffpunkt.privacy.services import export_address

    data = _run(_with_database(export_address(email)))
    click.echo(msgspec.json.format(msgspec.json.encode(data)).decode())


@privacy.command("erase")
@click.option("--email", required=True)
@click.option("--yes", is_flag=True, help="Do not ask (it never asks when stdin is no terminal).")
def privacy_erase(email: str, yes: bool) -> None:
    """Erase every registration of this address: seats freed, personal data anonymised."""
    from treffpunkt.clock import utcnow
    from treffpunkt.privacy.services import erase_address, registrations_of

    found = _run(_with_database(registrations_of(email)))
    if found and not yes and sys.stdin.isatty():
        click.confirm(f"Erase {len(found)} registration(s) of {email}?", abort=True)
    outcomes = _run(_with_database(erase_address(email, now=utcnow())))
    for outcome in outcomes:
        freed = ", seat freed" if outcome.seat_freed else ""
        mailed = ", calendar cancellation queued" if outcome.calendar_cancel_sent else ""
        click.echo(
            f"erased registration {outcome.registration_id} at {outcome.event_slug}"
            f" (was {outcome.previous_status}{freed}{mailed})"
        )
    click.echo(f"erased {len(outcomes)} registration(s)")


@privacy.command("due")
def privacy_due() -> None:
    """What retention has due now, what comes due within 30 days, and what was done."""
    from treffpunkt.clock import utcnow
    from treffpunkt.privacy.retention import report

    found = _run(_with_database(report(utcnow())))

    def day(moment: datetime) -> str:
        return moment.astimezone(UTC).strftime("%Y-%m-%d")

    click.echo(f"retention: {found.days} days after an event ends")
    for heading, events in (("due now", found.due), ("due within 30 days", found.coming)):
        click.echo(f"{heading}: {len(events)} event(s)")
        for event in events:
            click.echo(
                f"  {event.slug}  ended {day(event.ends_at)}  due {day(event.due_at)}"
                f"  {event.registrations} registration(s)"
            )
    click.echo(f"done: {len(found.done)} erasure(s), newest first")
    for done in found.done:
        click.echo(
            f"  {day(done.done_at)}  {done.event_slug}  {done.reason}"
            f"  {done.registrations} registration(s)"
        )


async def _with_database(work: Awaitable[T]) -> T:
    """One command's work with the connection pool open (transactions need it)."""
    from treffpunkt.db import connection_pool

    async with connection_pool(max_size=2):
        return await work


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64))
@click.option(
    "--mail-worker/--no-mail-worker",
    default=True,
    show_default=True,
    help="Also deliver the outbox in each app process.",
)
def serve(host: str, port: int, workers: int, mail_worker: bool) -> None:
    """Serve the web app (and, unless told not to, deliver mail in-process)."""
    import os

    import uvicorn

    os.environ["TREFFPUNKT_MAIL_WORKER"] = "true" if mail_worker else "false"
    _ready()  # fail before forking on a bad setting; fixes the dev secret for all workers
    uvicorn.run(
        "treffpunkt.web.app:create_app",
        factory=True,
        host=host,
        port=port,
        workers=workers,
        # The app believes X-Forwarded-For from TREFFPUNKT_FORWARDED_ALLOW_IPS only (web/app.py).
        proxy_headers=False,
        access_log=False,
        log_level="warning",
    )


@main.command()
def worker() -> None:
    """Deliver the outbox (mail) alone, until stopped with Ctrl-C or SIGTERM."""
    import signal

    _ready()
    from treffpunkt.notifications.worker import run_worker

    async def run() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(signum, stop.set)
        async with connection_pool(max_size=4):
            await run_worker(stop)

    from treffpunkt.db import connection_pool

    asyncio.run(run())
