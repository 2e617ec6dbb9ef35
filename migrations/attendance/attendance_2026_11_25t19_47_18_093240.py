from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-25T19:47:18:093240"
VERSION = "1.38.0"
DESCRIPTION = "feedback question keys unique per event"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="attendance", description=DESCRIPTION)

    async def add_index() -> None:
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX feedback_question_key ON feedback_question (event, key)"
        )

    async def drop_index() -> None:
        await engine_finder().run_ddl("DROP INDEX feedback_question_key")

    manager.add_raw(add_index)
    manager.add_raw_backwards(drop_index)
    return manager
