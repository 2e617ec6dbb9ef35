"""Set-password links by mail: invitations to new organisers and password resets.

A link names the organiser and its expiry and carries an HMAC over both and a fingerprint of
the account's password hash and session epoch. Setting a password changes the fingerprint,
so the link works once and every older link dies with it; no secret is stored anywhere. The
outbox row holds only the expiry: the mail renderer derives the link when it sends.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from treffpunkt.accounts.services import (
    ORGANISER_FIELDS,
    CurrentOrganiser,
    as_current,
    check_invitation,
    check_new_password,
    hash_password,
    insert_organiser,
    lookup_form,
)
from treffpunkt.accounts.tables import Organiser
from treffpunkt.audit.actors import account_actor
from treffpunkt.audit.services import record
from treffpunkt.db import is_postgres, write_transaction
from treffpunkt.errors import N_, Conflict, ErrorCollector, Invalid, NotFound
from treffpunkt.i18n import format_short, gettext, language, supported
from treffpunkt.inputs import INT_MAX
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.settings import DEFAULT_LANGUAGE, DEFAULT_TIMEZONE, get_settings
from treffpunkt.signing import derived_key
from treffpunkt.templating import ENVIRONMENT

LINK_PURPOSE = "set-password-link"
INVITED = "organiser_invited"
PASSWORD_RESET = "password_reset"  # noqa: S105 - a mail kind, not a password
RESET_VALID = timedelta(hours=1)
# One reset mail per account in this time, however often the form is sent: a stranger who
# types someone's address again and again must not flood their inbox.
RESET_PAUSE = timedelta(minutes=5)
SUBJECTS = {
    INVITED: N_("You are invited to organise events on Treffpunkt"),
    PASSWORD_RESET: N_("Set a new password for Treffpunkt"),
}
LINK_REFUSED = N_("This link has expired or has already been used.")


def _mac(organiser_id: int, expiry: int, password_hash: str, epoch: int) -> str:
    fingerprint = hashlib.sha256(f"{password_hash}\x00{epoch}".encode()).hexdigest()
    key = derived_key(get_settings().secret_key, LINK_PURPOSE)
    digest = hmac.new(key, f"{organiser_id}.{expiry}.{fingerprint}".encode(), "sha256").digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode()


def link_token(organiser_id: int, expires_at: datetime, password_hash: str, epoch: int) -> str:
    expiry = int(expires_at.timestamp())
    return f"{organiser_id}.{expiry}.{_mac(organiser_id, expiry, password_hash, epoch)}"


_HOLDER_FIELDS = (*ORGANISER_FIELDS, Organiser.password_hash)


async def _holder(token: str, now: datetime) -> dict[str, Any]:
    """The active account a valid, unexpired, unused link names; Invalid otherwise."""
    refused = Invalid(LINK_REFUSED, code="link_invalid")
    organiser_part, _, rest = token.partition(".")
    expiry_part, _, mac = rest.partition(".")
    if not (organiser_part.isdigit() and expiry_part.isdigit()) or len(organiser_part) > 10:
        raise refused
    organiser_id, expiry = int(organiser_part), int(expiry_part)
    if not 1 <= organiser_id <= INT_MAX or expiry <= now.timestamp():
        raise refused
    row = (
        await Organiser.select(*_HOLDER_FIELDS)
        .where((Organiser.id == organiser_id) & (Organiser.is_active == True))  # noqa: E712
        .first()
    )
    if row is None:
        raise refused
    expected = _mac(organiser_id, expiry, row["password_hash"], row["session_epoch"])
    if not hmac.compare_digest(mac.encode(), expected.encode()):
        raise refused
    return dict(row)


async def link_holder(token: str, *, now: datetime) -> CurrentOrganiser:
    """Who a set-password link is for, while it works."""
    return as_current(await _holder(token, now))


async def set_password_by_link(
    token: str, password: str, repeat: str, *, now: datetime
) -> CurrentOrganiser:
    """Set the password a link is for; the link and every browser session end with it.

    The update only applies while the account's password and epoch are what the link was
    made for, so two uses of one link at once set a password once.
    """
    holder = await _holder(token, now)
    problems = ErrorCollector()
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
            .where(
                (Organiser.id == holder["id"])
                & (Organiser.password_hash == holder["password_hash"])
                & (Organiser.session_epoch == holder["session_epoch"])
            )
            .returning(*ORGANISER_FIELDS)
        )
        if not changed:
            raise Invalid(LINK_REFUSED, code="link_invalid")
        # The link's holder acts, signed in or not: an invitee's first password, or a reset.
        await record(
            "account.password_reset" if holder["password_hash"] else "account.invitation_accepted",
            account_id=holder["id"],
            actor=account_actor(holder["id"], is_admin=bool(holder["is_admin"])),
            now=now,
        )
    return as_current(changed[0])


async def _enqueue(
    kind: str, organiser: dict[str, Any], *, language_code: str, expires_at: datetime, now: datetime
) -> None:
    await OutboxMessage.insert(
        OutboxMessage(
            kind=kind,
            organiser=organiser["id"],
            recipient=organiser["email"],
            language=supported(language_code) or DEFAULT_LANGUAGE,
            payload=json.dumps({"expires_at": expires_at.isoformat()}),
            created_at=now,
        )
    )


async def request_password_reset(email: str, language_code: str, *, now: datetime) -> None:
    """Mail a reset link to an active account with this address, at most once per pause.

    Says nothing either way: the answer to the form must not tell whether an account exists.
    """
    async with write_transaction():
        query = Organiser.select(Organiser.id, Organiser.email).where(
            (Organiser.email == lookup_form(email)) & (Organiser.is_active == True)  # noqa: E712
        )
        if is_postgres():
            # Requests for one account queue here, so the pause check sees the mail before.
            query = query.lock_rows("UPDATE")
        row = await query.first()
        if row is None:
            return
        recently = await OutboxMessage.exists().where(
            (OutboxMessage.organiser == row["id"])
            & (OutboxMessage.kind == PASSWORD_RESET)
            & (OutboxMessage.created_at > now - RESET_PAUSE)
        )
        if not recently:
            await _enqueue(
                PASSWORD_RESET,
                row,
                language_code=language_code,
                expires_at=now + RESET_VALID,
                now=now,
            )


@dataclass(frozen=True)
class Invitation:
    email: str
    name: str
    is_admin: bool
    language: str


async def invite_organiser(invitation: Invitation, *, now: datetime) -> CurrentOrganiser:
    """An account without a usable password, and a mail inviting the person to set one."""
    async with write_transaction():
        email = await check_invitation(invitation.email, invitation.name)
        row = await insert_organiser(
            email=email,
            name=invitation.name.strip(),
            password_hash="",
            is_admin=invitation.is_admin,
        )
        await record(
            "account.invited",
            account_id=row["id"],
            changes={"is_admin": [None, invitation.is_admin]},
            now=now,
        )
        await _enqueue(
            INVITED,
            row,
            language_code=invitation.language,
            expires_at=now + timedelta(days=get_settings().invite_days),
            now=now,
        )
    return as_current(row)


async def invitee(organiser_id: int) -> CurrentOrganiser:
    """An active account still waiting for its first password: one an invite may go to."""
    row = (
        await Organiser.select(*_HOLDER_FIELDS)
        .where((Organiser.id == organiser_id) & (Organiser.is_active == True))  # noqa: E712
        .first()
    )
    if row is None:
        raise NotFound(N_("no such organiser"), code="organiser_not_found")
    if row["password_hash"]:
        raise Conflict(N_("this organiser has set a password already"), code="not_invited")
    return as_current(row)


async def resend_invitation(organiser_id: int, *, now: datetime) -> CurrentOrganiser:
    """A fresh invite in the language of the last one; earlier invite links stop working."""
    async with write_transaction():
        person = await invitee(organiser_id)
        last = (
            await OutboxMessage.select(OutboxMessage.language)
            .where((OutboxMessage.organiser == organiser_id) & (OutboxMessage.kind == INVITED))
            .order_by(OutboxMessage.id, ascending=False)
            .first()
        )
        await Organiser.update({Organiser.session_epoch: Organiser.session_epoch + 1}).where(
            Organiser.id == organiser_id
        )
        await record("account.invitation_resent", account_id=organiser_id, now=now)
        await _enqueue(
            INVITED,
            {"id": person.id, "email": person.email},
            language_code=last["language"] if last else DEFAULT_LANGUAGE,
            expires_at=now + timedelta(days=get_settings().invite_days),
            now=now,
        )
    return person


# --- the mail ---------------------------------------------------------------------------------


class NoLongerApplies(Exception):
    """The account mail would be useless now: the account is gone, or the link has expired."""


@dataclass(frozen=True)
class AccountMail:
    subject: str
    text: str
    html: str
    name: str


async def account_mail(row: dict[str, Any], *, now: datetime) -> AccountMail:
    """An invite or reset mail for one outbox row, with a link made at send time."""
    account = (
        await Organiser.select(*_HOLDER_FIELDS, Organiser.is_active)
        .where(Organiser.id == row["organiser"])
        .first()
        if row["organiser"]
        else None
    )
    if account is None or not account["is_active"]:
        raise NoLongerApplies("the account is deactivated")
    payload = json.loads(row["payload"]) if isinstance(row["payload"], str) else row["payload"]
    expires_at = datetime.fromisoformat(payload["expires_at"]).astimezone(UTC)
    if expires_at <= now:
        raise NoLongerApplies("the link has expired")
    if row["kind"] == INVITED and account["password_hash"]:
        raise NoLongerApplies("the password is set already")
    token = link_token(
        account["id"], expires_at, account["password_hash"], account["session_epoch"]
    )
    with language(row["language"]):
        context = {
            "kind": row["kind"],
            "name": account["name"],
            "email": account["email"],
            "link": f"{get_settings().base_url}/password/set/{token}",
            "expires": format_short(expires_at.astimezone(ZoneInfo(DEFAULT_TIMEZONE))),
            "subject": gettext(SUBJECTS[row["kind"]]),
        }
        return AccountMail(
            subject=context["subject"],
            text=ENVIRONMENT.get_template("mail/account.txt").render(context),
            html=ENVIRONMENT.get_template("mail/account.html").render(context),
            name=account["name"],
        )
