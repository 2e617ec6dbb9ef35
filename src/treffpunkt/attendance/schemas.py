from __future__ import annotations

from datetime import datetime
from typing import Annotated

from msgspec import Meta, Struct

from treffpunkt.registrations.schemas import Status


class CheckInRequest(Struct, kw_only=True, forbid_unknown_fields=True):
    """Either the code from the QR ticket, or (for people without one) the registration id."""

    code: Annotated[str, Meta(max_length=100)] | None = None
    registration_id: int | None = None


class CheckInAnswer(Struct, kw_only=True):
    registration_id: int
    already_checked_in: bool
    checked_in_at: datetime
    name: str
    organisation: str
    status: Status
