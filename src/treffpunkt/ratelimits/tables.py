from __future__ import annotations

from piccolo.columns import BigInt, Integer, Varchar
from piccolo.table import Table


class RateLimitCounter(Table, tablename="rate_limit_counter"):
    """Hits of one key in one time window; rows past `expires_at` are deleted.

    The key holds a keyed hash of the client address, never the address itself.
    """

    key = Varchar(length=100, primary_key=True)
    hits = Integer(default=0)
    # Seconds since the epoch: compared as numbers on both engines.
    expires_at = BigInt(index=True)
