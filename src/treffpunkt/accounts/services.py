"""Organiser accounts, API tokens and password checks."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import anyio.to_thread
from piccolo.custom_types import Combinable
from pwdlib import PasswordHash

from treffpunkt.accounts.tables import ApiToken, Organiser
from treffpunkt.addresses import checked_address, mailable
from treffpunkt.audit.services import record
from treffpunkt.clock import utcnow
from treffpunkt.db import as_datetime, write_transaction
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


def lookup_form(email: str) -> str:
    """The stored form to find an organiser by; accounts stored before the rule still match."""
    return mailable(email) or email.strip().lower()


def _hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def as_current(row: dict[str, object]) -> CurrentOrganiser:
    return CurrentOrganiser(
        id=int(row["id"]),  # type: ignore[call-overload]
        email=str(row["email"]),
        name=str(row["name"]),
        is_admin=bool(row["is_admin"]),
        session_epoch=int(row["session_epoch"]),  # type: ignore[call-overload]
    )


ORGANISER_FIELDS = (
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


def check_new_password(problems: ErrorCollector, password: str, repeat: str) -> None:
    """The password rules, and the repeat that catches a typo nobody can see."""
    _check_password(problems, password)
    if password != repeat:
        problems.add("password_repeat", N_("does not match the new password"))


async def _verifies(password: str, stored: str) -> bool:
    """Off the event loop; an account without a password (invited) verifies nothing.

    An empty hash is checked against the dummy, so it costs as long as a real one.
    """
    valid = await anyio.to_thread.run_sync(_hasher.verify, password, stored or _DUMMY_HASH)
    return bool(stored) and valid


async def hash_password(password: str) -> str:
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def _check_new_address(problems: ErrorCollector, email: str) -> str:
    """The normalised address of an account about to be made: valid, and nobody's yet."""
    known_problems = len(problems.errors)
    email = checked_address(email, "email", problems)
    valid = len(problems.errors) == known_problems
    if valid and await Organiser.exists().where(Organiser.email == email):
        raise Conflict(
            N_("an organiser with the email %(email)s exists already"),
            email=email,
            code="organiser_exists",
        )
    return email


async def check_invitation(email: str, name: str) -> str:
    """Whether an invitation could go to this address; its normalised form.

    A taken address is one more field problem here, shown beside the others.
    """
    problems = ErrorCollector()
    if not name.strip():
        problems.add("name", N_("must not be empty"))
    try:
        email = await _check_new_address(problems, email)
    except Conflict as taken:
        problems.add("email", taken.template, **taken.params)
    problems.raise_if_any()
    return email


async def create_organiser(
    email: str, password: str, *, name: str = "", is_admin: bool = False
) -> CurrentOrganiser:
    problems = ErrorCollector()
    email = await _check_new_address(problems, email)
    _check_password(problems, password)
    problems.raise_if_any()
    password_hash = await hash_password(password)
    async with write_transaction():
        row = await insert_organiser(
            email=email, name=name, password_hash=password_hash, is_admin=is_admin
        )
        await record(
            "account.created", account_id=row["id"], changes={"is_admin": [None, is_admin]}
        )
    return as_current(row)


async def insert_organiser(
    *, email: str, name: str, password_hash: str, is_admin: bool
) -> dict[str, Any]:
    """The new account's row; a refusal, not an integrity error, when the address was taken.

    Checking first is not enough: two requests can both find the address free.
    """
    inserted = (
        await Organiser.insert(
            Organiser(email=email, name=name, password_hash=password_hash, is_admin=is_admin)
        )
        .on_conflict(target=Organiser.email, action="DO NOTHING")
        .returning(*ORGANISER_FIELDS)
    )
    if not inserted:
        raise Conflict(
            N_("an organiser with the email %(email)s exists already"),
            email=email,
            code="organiser_exists",
        )
    return inserted[0]


async def create_api_token(email: str) -> str:
    """Make a new bearer token for the organiser and return it; it is never shown again."""
    organiser_id = (
        await Organiser.select(Organiser.id)
        .where(
            (Organiser.email == lookup_form(email)) & (Organiser.is_active == True)  # noqa: E712
        )
        .first()
    )
    if organiser_id is None:
        raise NotFound(N_("no active organiser with the email %(email)s"), email=email)
    return await create_own_api_token(organiser_id["id"])


async def create_own_api_token(organiser_id: int, label: str = "") -> str:
    """A new bearer token for this organiser; only its hash is kept, so it is shown once."""
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    async with write_transaction():
        rows = await ApiToken.insert(
            ApiToken(organiser=organiser_id, token_hash=_hash_token(token), label=label.strip())
        ).returning(ApiToken.id)
        await record(
            "account.token_created",
            account_id=organiser_id,
            changes={"token": [None, rows[0]["id"]]},
        )
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
    return as_current(row)


async def organiser_by_id(organiser_id: int) -> CurrentOrganiser | None:
    row = (
        await Organiser.select(*ORGANISER_FIELDS)
        .where(
            (Organiser.id == organiser_id) & (Organiser.is_active == True)  # noqa: E712
        )
        .first()
    )
    return as_current(row) if row else None


async def organiser_by_email(email: str) -> CurrentOrganiser | None:
    row = (
        await Organiser.select(*ORGANISER_FIELDS)
        .where(
            (Organiser.email == lookup_form(email)) & (Organiser.is_active == True)  # noqa: E712
        )
        .first()
    )
    return as_current(row) if row else None


async def check_password(email: str, password: str) -> CurrentOrganiser | None:
    """The organiser if the password is right; hashing runs off the event loop."""
    row = (
        await Organiser.select(*ORGANISER_FIELDS, Organiser.password_hash)
        .where(
            (Organiser.email == lookup_form(email)) & (Organiser.is_active == True)  # noqa: E712
        )
        .first()
    )
    valid = await _verifies(password, row["password_hash"] if row else "")
    return as_current(row) if row and valid else None


async def end_all_sessions(organiser_id: int) -> None:
    """Log the organiser out of every browser at once."""
    async with write_transaction():
        await Organiser.update({Organiser.session_epoch: Organiser.session_epoch + 1}).where(
            Organiser.id == organiser_id
        )
        await record("account.signed_out_everywhere", account_id=organiser_id)


async def change_password(organiser_id: int, current: str, password: str, repeat: str) -> int:
    """A new password, given the current one; every browser is signed out.

    Returns the new session epoch, so that the browser that asked can stay signed in.
    """
    problems = ErrorCollector()
    row = (
        await Organiser.select(Organiser.password_hash).where(Organiser.id == organiser_id).first()
    )
    if not await _verifies(current, row["password_hash"] if row else ""):
        problems.add("current_password", N_("is not your current password"))
    check_new_password(problems, password, repeat)
    problems.raise_if_any()
    password_hash = await hash_password(password)
    async with write_transaction():
        changed = (
            await Organiser.update(
                {
                    Organiser.password_hash: password_hash,
                    Organiser.session_epoch: Organiser.session_epoch + 1,
                }
            )
            .where(Organiser.id == organiser_id)
            .returning(Organiser.session_epoch)
        )
        await record("account.password_changed", account_id=organiser_id)
    return int(changed[0]["session_epoch"])


# --- operator commands (treffpunkt users …, treffpunkt tokens …) -----------------------------


@dataclass(frozen=True)
class TokenView:
    """What an operator may see of a token: never the secret (only its hash is stored)."""

    id: int
    label: str
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


async def _organiser_id(email: str) -> int:
    """Any organiser, active or not: operators also manage deactivated accounts."""
    row = await Organiser.select(Organiser.id).where(Organiser.email == lookup_form(email)).first()
    if row is None:
        raise NotFound(
            N_("no organiser with the email %(email)s"), email=email, code="organiser_not_found"
        )
    return int(row["id"])


_TOKEN_FIELDS = (
    ApiToken.id,
    ApiToken.label,
    ApiToken.created_at,
    ApiToken.last_used_at,
    ApiToken.revoked_at,
)


async def list_api_tokens(email: str) -> list[TokenView]:
    """The organiser's tokens, oldest first."""
    return await own_api_tokens(await _organiser_id(email))


async def own_api_tokens(organiser_id: int) -> list[TokenView]:
    """This organiser's tokens, oldest first; nobody else's."""
    rows = (
        await ApiToken.select(*_TOKEN_FIELDS)
        .where(ApiToken.organiser == organiser_id)
        .order_by(ApiToken.id)
    )
    return [TokenView(**row) for row in rows]


async def own_api_token(organiser_id: int, token_id: int) -> TokenView:
    """One of this organiser's tokens; another organiser's is as unknown as a missing one."""
    row = (
        await ApiToken.select(*_TOKEN_FIELDS)
        .where((ApiToken.id == token_id) & (ApiToken.organiser == organiser_id))
        .first()
    )
    if row is None:
        raise NotFound(N_("no such API token"), code="token_not_found")
    return TokenView(**row)


async def revoke_api_token(
    *,
    token: str | None = None,
    token_id: int | None = None,
    owner: int | None = None,
    now: datetime,
) -> int:
    """Revoke a token, named by its secret or its id (and, from a page, its owner).

    Its next call answers 401. Revoking a revoked token again keeps the first revocation
    time. Returns the token's id.
    """
    which: Combinable = (
        ApiToken.token_hash == _hash_token(token) if token is not None else ApiToken.id == token_id
    )
    if owner is not None:
        which &= ApiToken.organiser == owner
    async with write_transaction():
        revoked = (
            await ApiToken.update({ApiToken.revoked_at: now})
            .where(which & ApiToken.revoked_at.is_null())
            .returning(ApiToken.id, ApiToken.organiser)
        )
        if revoked:
            await record(
                "account.token_revoked",
                account_id=revoked[0]["organiser"],
                changes={"token": [revoked[0]["id"], None]},
                now=now,
            )
            return int(revoked[0]["id"])
    existing = await ApiToken.select(ApiToken.id).where(which).first()
    if existing is None:
        raise NotFound(N_("no such API token"), code="token_not_found")
    return int(existing["id"])


async def deactivate_organiser(email: str) -> None:
    """Take an organiser's access away: no sign-in, no API token, every browser signed out."""
    await _turn_access(await _organiser_id(email), "deactivate")


async def set_password(email: str, password: str) -> None:
    """Give an organiser a new password and sign them out of every browser."""
    problems = ErrorCollector()
    _check_password(problems, password)
    problems.raise_if_any()
    organiser_id = await _organiser_id(email)
    password_hash = await hash_password(password)
    async with write_transaction():
        await Organiser.update(
            {
                Organiser.password_hash: password_hash,
                Organiser.session_epoch: Organiser.session_epoch + 1,
            }
        ).where(Organiser.id == organiser_id)
        await record("account.password_set", account_id=organiser_id)


# --- admins: organiser accounts ---------------------------------------------------------------


@dataclass(frozen=True)
class AccountView:
    """An organiser account as admins see it; `invited` until a password is set."""

    id: int
    email: str
    name: str
    is_admin: bool
    is_active: bool
    invited: bool
    created_at: datetime


_ACCESS_VALUES: dict[str, dict[Any, Any]] = {
    "deactivate": {
        Organiser.is_active: False,
        Organiser.session_epoch: Organiser.session_epoch + 1,
    },
    "reactivate": {Organiser.is_active: True},
    "make_admin": {Organiser.is_admin: True},
    "remove_admin": {Organiser.is_admin: False},
}
# Each access change's audit action and the key field it turns.
_ACCESS_ACTIONS: dict[str, tuple[str, dict[str, list[bool]]]] = {
    "deactivate": ("account.deactivated", {"is_active": [True, False]}),
    "reactivate": ("account.reactivated", {"is_active": [False, True]}),
    "make_admin": ("account.admin_granted", {"is_admin": [False, True]}),
    "remove_admin": ("account.admin_removed", {"is_admin": [True, False]}),
}


async def all_accounts() -> list[AccountView]:
    """Every organiser account, active or not, by address."""
    rows = await Organiser.select(
        Organiser.id,
        Organiser.email,
        Organiser.name,
        Organiser.is_admin,
        Organiser.is_active,
        Organiser.created_at,
        Organiser.password_hash,
    ).order_by(Organiser.email)
    return [
        AccountView(
            **{k: v for k, v in row.items() if k != "password_hash"},
            invited=not row["password_hash"],
        )
        for row in rows
    ]


async def change_access(actor: CurrentOrganiser, organiser_id: int, change: str) -> str:
    """Deactivate, reactivate, make admin or remove admin; the account's address.

    Never deactivate or demote oneself: an admin who could lock themselves out might leave
    nobody to let them back in. Deactivating also signs the account out of every browser;
    its API tokens stop working because token lookups ask for an active account.
    """
    if change not in _ACCESS_VALUES:
        raise NotFound(N_("no such change"), code="change_not_found")
    if organiser_id == actor.id and change in ("deactivate", "remove_admin"):
        raise Conflict(
            N_("you cannot deactivate your own account")
            if change == "deactivate"
            else N_("you cannot remove your own admin rights"),
            code="own_account",
        )
    return await _turn_access(organiser_id, change)


async def _turn_access(organiser_id: int, change: str) -> str:
    """Apply one access change; the audit trail records it only when the flag really turned."""
    action, changes = _ACCESS_ACTIONS[change]
    ((flag, (_, after)),) = changes.items()
    async with write_transaction():
        current = (
            await Organiser.select(Organiser.email, getattr(Organiser, flag))
            .where(Organiser.id == organiser_id)
            .first()
        )
        if current is None:
            raise NotFound(N_("no such organiser"), code="organiser_not_found")
        await Organiser.update(_ACCESS_VALUES[change]).where(Organiser.id == organiser_id)
        if current[flag] != after:
            await record(action, account_id=organiser_id, changes=changes)
    return str(current["email"])
