from piccolo.conf.apps import AppConfig

from treffpunkt.audit.tables import AuditEntry
from treffpunkt.settings import MIGRATIONS_DIR

APP_CONFIG = AppConfig(
    app_name="audit",
    migrations_folder_path=str(MIGRATIONS_DIR / "audit"),
    table_classes=[AuditEntry],
    migration_dependencies=["treffpunkt.accounts.piccolo_app"],
)
