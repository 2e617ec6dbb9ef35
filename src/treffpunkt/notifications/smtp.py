"""SMTP delivery with aiosmtplib: one connection per batch, and what each failure means."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import Message
from urllib.parse import unquote, urlsplit

import aiosmtplib

from treffpunkt.settings import SettingsError

SMTP_TIMEOUT = 30


@dataclass(frozen=True)
class SmtpServer:
    hostname: str
    port: int
    use_tls: bool
    start_tls: bool
    username: str | None
    password: str | None


def parse_smtp_url(url: str) -> SmtpServer:
    """smtp://host:port, smtp+starttls://user:pass@host:587 or smtps://user:pass@host:465.

    TLS is never left to chance: plain smtp:// means no STARTTLS at all (for a relay on the
    same host), smtp+starttls:// requires it, smtps:// is TLS from the first byte.
    """
    parts = urlsplit(url)
    schemes = {
        "smtp": (False, False, 25),
        "smtp+starttls": (False, True, 587),
        "smtps": (True, False, 465),
    }
    if parts.scheme not in schemes or not parts.hostname:
        raise SettingsError(
            "TREFFPUNKT_SMTP_URL must look like smtp://host:port, "
            "smtp+starttls://user:pass@host:587 or smtps://user:pass@host:465"
        )
    use_tls, start_tls, default_port = schemes[parts.scheme]
    return SmtpServer(
        hostname=parts.hostname,
        port=parts.port or default_port,
        use_tls=use_tls,
        start_tls=start_tls,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
    )


class PermanentFailure(Exception):
    """The server refused this message for good (5xx): retrying cannot help."""


class TemporaryFailure(Exception):
    """Try this message again later (4xx, or the connection broke)."""


def connect(server: SmtpServer) -> aiosmtplib.SMTP:
    return aiosmtplib.SMTP(
        hostname=server.hostname,
        port=server.port,
        use_tls=server.use_tls,
        start_tls=server.start_tls,
        username=server.username,
        password=server.password,
        timeout=SMTP_TIMEOUT,
    )


async def send(connection: aiosmtplib.SMTP, message: Message) -> None:
    """Send one message on an open connection, classifying every failure."""
    try:
        refused, _ = await connection.send_message(message)
    except aiosmtplib.SMTPRecipientsRefused as error:
        codes = [r.code for r in error.recipients]
        reason = "; ".join(f"{r.code} {r.message}" for r in error.recipients)
        if all(500 <= code < 600 for code in codes):
            raise PermanentFailure(reason) from error
        raise TemporaryFailure(reason) from error
    except aiosmtplib.SMTPResponseException as error:
        if 500 <= error.code < 600:
            raise PermanentFailure(f"{error.code} {error.message}") from error
        raise TemporaryFailure(f"{error.code} {error.message}") from error
    if refused:
        reason = "; ".join(f"{code} {text}" for code, text in refused.values())
        if all(500 <= code < 600 for code, _ in refused.values()):
            raise PermanentFailure(reason)
        raise TemporaryFailure(reason)
