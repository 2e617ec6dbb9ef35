from piccolo.conf.apps import AppConfig

from treffpunkt.registrations.tables import Question, Registration
from treffpunkt.settings import MIGRATIONS_DIR

APP_CONFIG = AppConfig(
    app_name="registrations",
    migrations_folder_path=str(MIGRATIONS_DIR / "registrations"),
    table_classes=[Registration, Question],
    migration_dependencies=["treffpunkt.events.piccolo_app"],
)
