from piccolo.conf.apps import AppConfig

from treffpunkt.attendance.tables import FeedbackQuestion, FeedbackResponse
from treffpunkt.settings import MIGRATIONS_DIR

APP_CONFIG = AppConfig(
    app_name="attendance",
    migrations_folder_path=str(MIGRATIONS_DIR / "attendance"),
    table_classes=[FeedbackQuestion, FeedbackResponse],
    migration_dependencies=["treffpunkt.registrations.piccolo_app"],
)
