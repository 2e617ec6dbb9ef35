"""Email addresses: one strict rule for every address that reaches a header, iCal or SMTP.

Registrations, event contacts and organiser accounts all pass through `normalise_address`,
so nothing that a mail header, an ORGANIZER/ATTENDEE property or an SMTP envelope cannot
carry is ever stored. Internationalised domains (`info@köln.de`) are accepted and stored in
Unicode, also when written in their IDNA form, so both spellings are one address (one
registration per event); `ascii_address` gives the IDNA form (`info@xn--kln-sna.de`) for the
wire. Local parts must be ASCII: SMTPUTF8 is not offered by every mail server on the way.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Annotated

import idna
from email_validator import EmailNotValidError, validate_email
from msgspec import Meta

from treffpunkt.errors import N_, ErrorCollector

MAX_LENGTH = 254
# An address field at the edge: only its length is checked there, so that a line break or any
# other fault is refused by the rule below, with the rule's message on the field.
EmailAddress = Annotated[str, Meta(max_length=MAX_LENGTH)]
NOT_AN_ADDRESS = N_("must be an email address")
ASCII_LOCAL_PART = N_(
    "must use only the letters a-z, digits and . _ + - before the @ "
    "(international domains such as köln.de are fine)"
)


class InvalidAddress(ValueError):
    """The text is not an address Treffpunkt can mail.

    The text says why in detail (in English); `template` is the message for the field.
    """

    def __init__(self, detail: str, template: str = NOT_AN_ADDRESS) -> None:
        super().__init__(detail)
        self.template = template


def normalise_address(raw: str) -> str:
    """The stored form: trimmed, lower case, domain in Unicode; raises InvalidAddress."""
    text = raw.strip()
    if not text or len(text) > MAX_LENGTH:
        raise InvalidAddress("must be an email address")
    local, at, _ = text.rpartition("@")
    if at and not local.isascii():
        raise InvalidAddress("the part before the @ is not ASCII", ASCII_LOCAL_PART)
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise InvalidAddress(str(error)) from error
    return checked.normalized.lower()


@lru_cache(maxsize=4096)
def mailable(raw: str) -> str | None:
    """The stored form, or None for text that fails the rule (rows stored before it, lookups).

    Cached: feeds and mails ask it for the same stored contacts again and again, and one
    check takes about 0.2 ms (a 500-event feed would spend 0.1 s on it).
    """
    try:
        return normalise_address(raw)
    except InvalidAddress:
        return None


def checked_address(raw: str, field_name: str, problems: ErrorCollector) -> str:
    """The stored form of an address field; an invalid one adds its message to the field."""
    try:
        return normalise_address(raw)
    except InvalidAddress as invalid:
        problems.add(field_name, invalid.template)
        return raw


def ascii_address(address: str) -> str:
    """The address as it goes on the wire: the domain IDNA-encoded, the rest unchanged."""
    local, _, domain = address.rpartition("@")
    if domain.isascii():
        return address
    return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
