from piccolo.conf.apps import AppConfig

from treffpunkt.accounts.tables import ApiToken, Organiser
from treffpunkt.settings import MIGRATIONS_DIR

APP_CONFIG = AppConfig(
    app_name="accounts",
    migrations_folder_path=str(MIGRATIONS_DIR / "accounts"),
    table_classes=[Organiser, ApiToken],
)
