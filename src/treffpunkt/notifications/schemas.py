from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from treffpunkt.inputs import Line, Text


class OrganiserMessage(Struct, kw_only=True, forbid_unknown_fields=True):
    """A message from the organisers to everyone with a confirmed place."""

    subject: Annotated[Line, Meta(min_length=1, max_length=200)]
    body: Annotated[Text, Meta(min_length=1, max_length=10_000)]


class MessageReceipt(Struct, kw_only=True):
    recipients: int
