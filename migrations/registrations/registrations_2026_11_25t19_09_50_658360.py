from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T19:09:50:658360"
VERSION = "1.38.0"
DESCRIPTION = "one active registration per email and event"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="registrations", description=DESCRIPTION)

    async def add_indexes() -> None:
        # Partial indexes work alike on SQLite and PostgreSQL; Piccolo cannot declare them.
        engine = engine_finder()
        await engine.run_ddl(
            "CREATE UNIQUE INDEX registration_one_active_per_email "
            "ON registration (event, email) "
            "WHERE status IN ('pending', 'confirmed', 'waitlisted')"
        )
        await engine.run_ddl(
            "CREATE UNIQUE INDEX registration_waitlist_ticket "
            "ON registration (event, waitlist_ticket) WHERE waitlist_ticket IS NOT NULL"
        )
        await engine.run_ddl(
            "CREATE UNIQUE INDEX registration_question_key ON registration_question (event, key)"
        )

    async def drop_indexes() -> None:
        engine = engine_finder()
        await engine.run_ddl("DROP INDEX registration_question_key")
        await engine.run_ddl("DROP INDEX registration_waitlist_ticket")
        await engine.run_ddl("DROP INDEX registration_one_active_per_email")

    manager.add_raw(add_indexes)
    manager.add_raw_backwards(drop_indexes)
    return manager
