from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T20:34:12:080281"
VERSION = "1.38.0"
DESCRIPTION = "catalogue count index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    async def add_index() -> None:
        # Counting a region's upcoming events reads this index alone (an index-only scan).
        await engine_finder().run_ddl(
            "CREATE INDEX event_region_status_ends_at ON event (region, status, ends_at)"
        )

    async def drop_index() -> None:
        await engine_finder().run_ddl("DROP INDEX event_region_status_ends_at")

    manager.add_raw(add_index)
    manager.add_raw_backwards(drop_index)
    return manager
