from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T20:27:12:315064"
VERSION = "1.38.0"
DESCRIPTION = "catalogue index"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    async def add_index() -> None:
        # The catalogue filters by region and reads soonest first: one index serves both.
        await engine_finder().run_ddl(
            "CREATE INDEX event_region_starts_at ON event (region, starts_at, id)"
        )
        await engine_finder().run_ddl("CREATE INDEX event_starts_at_id ON event (starts_at, id)")

    async def drop_index() -> None:
        await engine_finder().run_ddl("DROP INDEX event_starts_at_id")
        await engine_finder().run_ddl("DROP INDEX event_region_starts_at")

    manager.add_raw(add_index)
    manager.add_raw_backwards(drop_index)
    return manager
