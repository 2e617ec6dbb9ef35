from piccolo.conf.apps import AppConfig

from treffpunkt.privacy.tables import Erasure
from treffpunkt.settings import MIGRATIONS_DIR

APP_CONFIG = AppConfig(
    app_name="privacy",
    migrations_folder_path=str(MIGRATIONS_DIR / "privacy"),
    table_classes=[Erasure],
    migration_dependencies=["treffpunkt.events.piccolo_app"],
)
