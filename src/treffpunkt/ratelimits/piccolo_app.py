from piccolo.conf.apps import AppConfig

from treffpunkt.ratelimits.tables import RateLimitCounter
from treffpunkt.settings import MIGRATIONS_DIR

APP_CONFIG = AppConfig(
    app_name="ratelimits",
    migrations_folder_path=str(MIGRATIONS_DIR / "ratelimits"),
    table_classes=[RateLimitCounter],
)
