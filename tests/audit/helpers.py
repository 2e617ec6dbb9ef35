"""Reading the audit trail back in tests."""

from __future__ import annotations

import json
from typing import Any

from treffpunkt.audit.tables import AuditEntry


async def entries(**where: Any) -> list[dict[str, Any]]:
    """Every entry (optionally with these column values), oldest first, changes decoded."""
    query = AuditEntry.select().order_by(AuditEntry.id)
    for column, value in where.items():
        query = query.where(getattr(AuditEntry, column) == value)
    rows = await query
    for row in rows:
        if isinstance(row["changes"], str):
            row["changes"] = json.loads(row["changes"])
    return list(rows)


async def newest_id() -> int:
    row = await AuditEntry.select(AuditEntry.id).order_by(AuditEntry.id, ascending=False).first()
    return int(row["id"]) if row else 0
