from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T19:34:16:419855"
VERSION = "1.38.0"
DESCRIPTION = "one reminder per registration"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def add_index() -> None:
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX outbox_message_one_reminder "
            "ON outbox_message (registration) WHERE kind = 'reminder'"
        )

    async def drop_index() -> None:
        await engine_finder().run_ddl("DROP INDEX outbox_message_one_reminder")

    manager.add_raw(add_index)
    manager.add_raw_backwards(drop_index)
    return manager
