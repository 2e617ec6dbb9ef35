from piccolo.conf.apps import AppConfig

from treffpunkt.events.tables import Event, EventOrganiser, EventSector, Region, Sector
from treffpunkt.settings import MIGRATIONS_DIR

APP_CONFIG = AppConfig(
    app_name="events",
    migrations_folder_path=str(MIGRATIONS_DIR / "events"),
    table_classes=[Region, Sector, Event, EventSector, EventOrganiser],
    migration_dependencies=["treffpunkt.accounts.piccolo_app"],
)
