"""Fail when a table differs from what its app's migrations build: a migration is missing.

This is Piccolo's own `migrations new --auto` comparison, without writing a file.
"""

import asyncio
import contextlib
import io
import sys

from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.conf.apps import Finder

import treffpunkt  # noqa: F401 - points PICCOLO_CONF at treffpunkt.db


async def drift() -> list[str]:
    found = []
    for app_config in Finder().get_app_configs():
        with contextlib.redirect_stdout(io.StringIO()):
            manager = AutoMigrationManager(auto_input="n")
            statements = await manager.get_alter_statements(app_config)
        found += [f"{app_config.app_name}: {s}" for group in statements for s in group.statements]
    return found


if __name__ == "__main__":
    changes = asyncio.run(drift())
    for change in changes:
        print(change)
    print("migrations are up to date" if not changes else f"{len(changes)} changes lack a migration")
    sys.exit(1 if changes else 0)
