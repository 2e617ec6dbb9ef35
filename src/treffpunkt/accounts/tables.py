from __future__ import annotations

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.base import OnDelete
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Organiser(Table, tablename="organiser"):
    """A person who manages events; an admin manages every event."""

    id: Serial

    email = Varchar(length=254, unique=True, index=True)
    name = Varchar(length=200, default="")
    password_hash = Text()
    is_admin = Boolean(default=False)
    is_active = Boolean(default=True)
    # Raised to log out every browser session at once (cookie sessions cannot be revoked).
    session_epoch = Integer(default=0)
    created_at = Timestamptz(default=TimestamptzNow())


class ApiToken(Table, tablename="api_token"):
    """A bearer token for the API; only its SHA-256 hash is stored."""

    id: Serial

    organiser = ForeignKey(Organiser, on_delete=OnDelete.cascade, index=True)
    token_hash = Varchar(length=64, unique=True, index=True)
    # The owner's own note of what the token is for ("CRM import"); never the secret.
    label = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())
    last_used_at = Timestamptz(null=True, default=None)
    revoked_at = Timestamptz(null=True, default=None)
