from piccolo.conf.apps import AppConfig

from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.settings import MIGRATIONS_DIR

APP_CONFIG = AppConfig(
    app_name="notifications",
    migrations_folder_path=str(MIGRATIONS_DIR / "notifications"),
    table_classes=[OutboxMessage],
    migration_dependencies=["treffpunkt.registrations.piccolo_app"],
)
