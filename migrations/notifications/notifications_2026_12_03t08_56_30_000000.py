from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-12-03T08:56:30:000000"
VERSION = "1.38.0"
DESCRIPTION = "one reminder per registration and event start"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="notifications", description=DESCRIPTION)

    async def per_start() -> None:
        engine = engine_finder()
        # Reminders made before this migration were made for the event's current start.
        await engine.run_ddl(
            "UPDATE outbox_message SET event_starts_at = "
            "(SELECT starts_at FROM event WHERE event.id = outbox_message.event) "
            "WHERE kind = 'reminder'"
        )
        await engine.run_ddl("DROP INDEX outbox_message_one_reminder")
        await engine.run_ddl(
            "CREATE UNIQUE INDEX outbox_message_one_reminder_per_start "
            "ON outbox_message (registration, event_starts_at) WHERE kind = 'reminder'"
        )

    async def per_registration() -> None:
        engine = engine_finder()
        await engine.run_ddl("DROP INDEX outbox_message_one_reminder_per_start")
        # Keep the latest reminder of each registration, as the older index allowed one.
        await engine.run_ddl(
            "DELETE FROM outbox_message WHERE kind = 'reminder' AND id < "
            "(SELECT max(o.id) FROM outbox_message AS o "
            "WHERE o.kind = 'reminder' AND o.registration = outbox_message.registration)"
        )
        await engine.run_ddl(
            "CREATE UNIQUE INDEX outbox_message_one_reminder "
            "ON outbox_message (registration) WHERE kind = 'reminder'"
        )

    manager.add_raw(per_start)
    manager.add_raw_backwards(per_registration)
    return manager
