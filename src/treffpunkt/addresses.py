"""Email addresses: one strict rule for every address that reaches a header, iCal or SMTP.

Registrations, event contacts and organiser accounts all pass through `normalise_address`,
so nothing that a mail header, an ORGANIZER/ATTENDEE property or an SMTP envelope cannot
carry is ever stored. Internationalised domains (`info@köln.de`) are accepted and stored as
people write them; `ascii_address` gives the IDNA form (`info@xn--kln-sna.de`) for the wire.
Local parts must be ASCII: SMTPUTF8 is not offered by every mail server on the way.
"""

from __future__ import annotations

import idna
from email_validator import EmailNotValidError, validate_email

MAX_LENGTH = 254


class InvalidAddress(ValueError):
    """The text is not an address Treffpunkt can mail; the message says why (in English)."""


def normalise_address(raw: str) -> str:
    """The stored form: trimmed, lower case, domain in Unicode; raises InvalidAddress."""
    text = raw.strip()
    if not text or len(text) > MAX_LENGTH:
        raise InvalidAddress("must be an email address")
    try:
        checked = validate_email(text, check_deliverability=False, allow_smtputf8=False)
    except EmailNotValidError as error:
        raise InvalidAddress(str(error)) from error
    return checked.normalized.lower()


def ascii_address(address: str) -> str:
    """The address as it goes on the wire: the domain IDNA-encoded, the rest unchanged."""
    local, _, domain = address.rpartition("@")
    if domain.isascii():
        return address
    return f"{local}@{idna.encode(domain, uts46=True).decode('ascii')}"
