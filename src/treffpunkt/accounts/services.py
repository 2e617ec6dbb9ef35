"""Organiser accounts, API tokens and password checks."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

import anyio.to_thread
from pwdlib import PasswordHash

from treffpunkt.accounts.tables import ApiToken, Organiser
from treffpunkt.addresses import checked_address, mailable
from treffpunkt.clock import utcnow
from treffpunkt.db import as_datetime
from treffpunkt.errors import N_, Conflict, ErrorCollector, NotFound

MIN_PASSWORD_LENGTH = 10
TOKEN_PREFIX = "tp_"  # noqa: S105 - a marker, not a secret
# Writing last_used_at on every call would turn each API read into a write.
TOKEN_USE_RESOLUTION = timedelta(minutes=10)

_hasher = PasswordHash.recommended()
# Verified against when the email is unknown, so a miss costs as long as a wrong password.
_DUMMY_HASH = _hasher.hash(secrets.token_urlsafe(16))


@dataclass(frozen=True)
class CurrentOrganiser:
    """The authenticated caller, as guards and services see it."""

    id: int
    email: str
    name: str
    is_admin: bool
    session_epoch: int


def _lookup_form(email: str) -> str:
    """The stored form to find an organiser by; accounts stored before the rule still match."""
    return mailable(email) or email.strip().lower()


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _as_current(row: dict[str, object]) -> CurrentOrganiser:
    return CurrentOrganiser(
        id=int(row["id"]),  # type: ignore[call-overload]
        email=str(row["email"]),
        name=str(row["name"]),
        is_admin=bool(row["is_admin"]),
        session_epoch=int(row["session_epoch"]),  # type: ignore[call-overload]
    )


_ORGANISER_FIELDS = (
    Organiser.id,
    Organiser.email,
    Organiser.name,
    Organiser.is_admin,
    Organiser.session_epoch,
)


def _check_password(problems: ErrorCollector, password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        problems.add(
            "password",
            N_("must be at least %(length)d characters long"),
            length=MIN_PASSWORD_LENGTH,
        )


async def create_organiser(
    email: str, password: str, *, name: str = "", is_admin: bool = False
) -> CurrentOrganiser:
    problems = ErrorCollector()
    email = checked_address(email, "email", problems)
    _check_password(problems, password)
    problems.raise_if_any()
    if await Organiser.exists().where(Organiser.email == email):
        raise Conflict(
            N_("an organiser with the email %(email)s exists already"),
            email=email,
            code="organiser_exists",
        )
    password_hash = await anyio.to_thread.run_sync(_hasher.hash, password)
    organiser = Organiser(email=email, name=name, password_hash=password_hash, is_admin=is_admin)
    await organiser.save()
    row = await Organiser.select(*_ORGANISER_FIELDS).where(Organiser.id == organiser.id).first()
    assert row is not None
    return _as_current(row)


async def create_api_token(email: str) -> str:
    """Make a new bearer token for the organiser and return it; it is never shown again."""
    organiser_id = (
        await Organiser.select(Organiser.id)
        .where(
            (Organiser.email == _lookup_form(email)) & (Organiser.is_active == True)  # noqa: E712
        )
        .first()
    )
    if organiser_id is None:
        raise NotFound(N_("no active organiser with the email %(email)s"), email=email)
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    await ApiToken.insert(ApiToken(organiser=organiser_id["id"], token_hash=_hash_token(token)))
    return token


# Every organiser API call asks this: plain SQL spares the query builder's work each time.
ORGANISER_BY_HASH = """SELECT t.id AS token_id, t.last_used_at, o.id, o.email, o.name, o.is_admin,
    o.session_epoch
FROM api_token t JOIN organiser o ON o.id = t.organiser
WHERE t.token_hash = {} AND t.revoked_at IS NULL AND o.is_active = {}"""


async def organiser_for_token(
    token: str, *, now: datetime | None = None
) -> CurrentOrganiser | None:
    now = now or utcnow()
    rows = await ApiToken.raw(ORGANISER_BY_HASH, _hash_token(token), True)
    if not rows:
        return None
    row = rows[0]
    last_used = row["last_used_at"] and as_datetime(row["last_used_at"])
    if last_used is None or now - last_used > TOKEN_USE_RESOLUTION:
        await ApiToken.update({ApiToken.last_used_at: now}).where(ApiToken.id == row["token_id"])
    return _as_current(row)


async def organiser_by_id(organiser_id: int) -> CurrentOrganiser | None:
    row = (
        await Organiser.select(*_ORGANISER_FIELDS)
        .where(
            (Organiser.id == organiser_id) & (Organiser.is_active == True)  # noqa: E712
        )
        .first()
    )
    return _as_current(row) if row else None


async def organiser_by_email(email: str) -> CurrentOrganiser | None:
    row = (
        await Organiser.select(*_ORGANISER_FIELDS)
        .where(
            (Organiser.email == _lookup_form(email)) & (Organiser.is_active == True)  # noqa: E712
        )
        .first()
    )
    return _as_current(row) if row else None


async def check_password(email: str, password: str) -> CurrentOrganiser | None:
    """The organiser if the password is right; hashing runs off the event loop."""
    row = (
        await Organiser.select(*_ORGANISER_FIELDS, Organiser.password_hash)
        .where(
            (Organiser.email == _lookup_form(email)) & (Organiser.is_active == True)  # noqa: E712
        )
        .first()
    )
    stored = row["password_hash"] if row else _DUMMY_HASH
    valid = await anyio.to_thread.run_sync(_hasher.verify, password, stored)
    return _as_current(row) if row and valid else None


async def end_all_sessions(organiser_id: int) -> None:
    """Log the organiser out of every browser at once."""
    await Organiser.update({Organiser.session_epoch: Organiser.session_epoch + 1}).where(
        Organiser.id == organiser_id
    )


# --- operator commands (treffpunkt users …, treffpunkt tokens …) -----------------------------


@dataclass(frozen=True)
class TokenView:
    """What an operator may see of a token: never the secret (only its hash is stored)."""

    id: int
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


async def _organiser_id(email: str) -> int:
    """Any organiser, active or not: operators also manage deactivated accounts."""
    row = await Organiser.select(Organiser.id).where(Organiser.email == _lookup_form(email)).first()
    if row is None:
        raise NotFound(
            N_("no organiser with the email %(email)s"), email=email, code="organiser_not_found"
        )
    return int(row["id"])


async def list_api_tokens(email: str) -> list[TokenView]:
    """The organiser's tokens, oldest first."""
    rows = (
        await ApiToken.select(
            ApiToken.id, ApiToken.created_at, ApiToken.last_used_at, ApiToken.revoked_at
        )
        .where(ApiToken.organiser == await _organiser_id(email))
        .order_by(ApiToken.id)
    )
    return [TokenView(**row) for row in rows]


async def revoke_api_token(
    *, token: str | None = None, token_id: int | None = None, now: datetime
) -> int:
    """Revoke a token, named by its secret or its id; its next call answers 401.

    Revoking a revoked token again keeps the first revocation time. Returns the token's id.
    """
    which = (
        ApiToken.token_hash == _hash_token(token) if token is not None else ApiToken.id == token_id
    )
    revoked = (
        await ApiToken.update({ApiToken.revoked_at: now})
        .where(which & ApiToken.revoked_at.is_null())
        .returning(ApiToken.id)
    )
    if revoked:
        return int(revoked[0]["id"])
    existing = await ApiToken.select(ApiToken.id).where(which).first()
    if existing is None:
        raise NotFound(N_("no such API token"), code="token_not_found")
    return int(existing["id"])


async def deactivate_organiser(email: str) -> None:
    """Take an organiser's access away: no sign-in, no API token, every browser signed out."""
    await Organiser.update(
        {Organiser.is_active: False, Organiser.session_epoch: Organiser.session_epoch + 1}
    ).where(Organiser.id == await _organiser_id(email))


async def set_password(email: str, password: str) -> None:
    """Give an organiser a new password and sign them out of every browser."""
    problems = ErrorCollector()
    _check_password(problems, password)
    problems.raise_if_any()
    organiser_id = await _organiser_id(email)
    password_hash = await anyio.to_thread.run_sync(_hasher.hash, password)
    await Organiser.update(
        {
            Organiser.password_hash: password_hash,
            Organiser.session_epoch: Organiser.session_epoch + 1,
        }
    ).where(Organiser.id == organiser_id)
