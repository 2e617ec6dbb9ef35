"""The last guard before a log line is written: no email address leaves in it.

Our own log calls name ids and route templates only. An exception's text is another matter:
PostgreSQL's unique violations say `Key (email)=(anna@example.org) already exists`, and a
traceback carries whatever its message says. Rendered tracebacks and every other text value
of a log entry lose their addresses here, just before the JSON renderer.
"""

from __future__ import annotations

import re
from collections.abc import MutableMapping
from typing import Any

ADDRESS = re.compile(r"[\w.!#$%&'*+/=?^`{|}~-]+@[\w-]+(?:\.[\w-]+)+")
MASK = "<address>"


def mask_addresses(_: Any, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """A structlog processor: each text value with an address in it, the address masked."""
    for key, value in event.items():
        if isinstance(value, str) and "@" in value:
            event[key] = ADDRESS.sub(MASK, value)
    return event
