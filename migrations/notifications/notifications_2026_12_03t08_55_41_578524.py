from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Timestamptz
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T08:55:41:578524"
VERSION = "1.38.0"
DESCRIPTION = "lease owner; the event start a reminder was made for"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="notifications", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="OutboxMessage",
        tablename="outbox_message",
        column_name="event_starts_at",
        db_column_name="event_starts_at",
        column_class_name="Timestamptz",
        column_class=Timestamptz,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="OutboxMessage",
        tablename="outbox_message",
        column_name="lease_owner",
        db_column_name="lease_owner",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 32,
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
