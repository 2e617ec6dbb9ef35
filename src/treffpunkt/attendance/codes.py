"""Signed check-in codes: what the QR ticket says and what the check-in API takes.

A code names the event and the registration by number and carries an HMAC over both, so it
cannot be forged or moved to another event, and it holds no personal data. Upper-case
letters, digits and dashes keep the QR code small (alphanumeric mode) and easy to type.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

from treffpunkt.settings import get_settings
from treffpunkt.signing import derived_key

PREFIX = "TP"
SIGNATURE_LENGTH = 20  # base32 characters: 100 bits
_CODE = re.compile(r"^TP-(\d{1,12})-(\d{1,12})-([A-Z2-7]{20})$")


@dataclass(frozen=True)
class CheckInCode:
    event_id: int
    registration_id: int


def _signature(event_id: int, registration_id: int) -> str:
    key = derived_key(get_settings().secret_key, "check-in-code")
    digest = hmac.new(key, f"{event_id}.{registration_id}".encode(), hashlib.sha256).digest()
    return base64.b32encode(digest).decode()[:SIGNATURE_LENGTH]


def check_in_code(event_id: int, registration_id: int) -> str:
    return f"{PREFIX}-{event_id}-{registration_id}-{_signature(event_id, registration_id)}"


def read_code(text: str) -> CheckInCode | None:
    """The code's contents if it is genuine; None for anything forged or garbled."""
    match = _CODE.match(text.strip().upper().replace(" ", ""))
    if match is None:
        return None
    event_id, registration_id = int(match.group(1)), int(match.group(2))
    if not hmac.compare_digest(match.group(3), _signature(event_id, registration_id)):
        return None
    return CheckInCode(event_id, registration_id)
