from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns import Integer, Varchar
from piccolo.engine import engine_finder
from piccolo.table import Table

ID = "2026-11-25T18:57:30:169363"
VERSION = "1.38.0"
DESCRIPTION = "unique pairs and seed data"

REGIONS = [
    ("DE", "Bundesweit / online", "Nationwide / online"),
    ("DE-BW", "Baden-Württemberg", "Baden-Württemberg"),
    ("DE-BY", "Bayern", "Bavaria"),
    ("DE-BE", "Berlin", "Berlin"),
    ("DE-BB", "Brandenburg", "Brandenburg"),
    ("DE-HB", "Bremen", "Bremen"),
    ("DE-HH", "Hamburg", "Hamburg"),
    ("DE-HE", "Hessen", "Hesse"),
    ("DE-MV", "Mecklenburg-Vorpommern", "Mecklenburg-Western Pomerania"),
    ("DE-NI", "Niedersachsen", "Lower Saxony"),
    ("DE-NW", "Nordrhein-Westfalen", "North Rhine-Westphalia"),
    ("DE-RP", "Rheinland-Pfalz", "Rhineland-Palatinate"),
    ("DE-SL", "Saarland", "Saarland"),
    ("DE-SN", "Sachsen", "Saxony"),
    ("DE-ST", "Sachsen-Anhalt", "Saxony-Anhalt"),
    ("DE-SH", "Schleswig-Holstein", "Schleswig-Holstein"),
    ("DE-TH", "Thüringen", "Thuringia"),
]

SECTORS = [
    ("education", "Bildung", "Education"),
    ("energy", "Energie", "Energy"),
    ("health", "Gesundheit", "Health"),
    ("mobility", "Mobilität", "Mobility"),
    ("administration", "Verwaltung", "Administration"),
]


class Region(Table, tablename="region"):
    code = Varchar(length=12, primary_key=True)
    name_de = Varchar(length=100)
    name_en = Varchar(length=100)
    position = Integer(default=0)


class Sector(Table, tablename="sector"):
    code = Varchar(length=40, primary_key=True)
    name_de = Varchar(length=100)
    name_en = Varchar(length=100)
    position = Integer(default=0)


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="events", description=DESCRIPTION)

    async def seed() -> None:
        await Region.insert(
            *[
                Region(code=code, name_de=de, name_en=en, position=position)
                for position, (code, de, en) in enumerate(REGIONS)
            ]
        )
        await Sector.insert(
            *[
                Sector(code=code, name_de=de, name_en=en, position=position)
                for position, (code, de, en) in enumerate(SECTORS)
            ]
        )

    async def unseed() -> None:
        await Sector.delete(force=True)
        await Region.delete(force=True)

    async def unique_pairs() -> None:
        # Composite unique indexes, not constraints: SQLite cannot ALTER TABLE ADD CONSTRAINT.
        engine = engine_finder()
        await engine.run_ddl(
            "CREATE UNIQUE INDEX event_sector_event_sector ON event_sector (event, sector)"
        )
        await engine.run_ddl(
            "CREATE UNIQUE INDEX event_organiser_event_organiser "
            "ON event_organiser (event, organiser)"
        )

    async def drop_unique_pairs() -> None:
        engine = engine_finder()
        await engine.run_ddl("DROP INDEX event_organiser_event_organiser")
        await engine.run_ddl("DROP INDEX event_sector_event_sector")

    manager.add_raw(unique_pairs)
    manager.add_raw_backwards(drop_unique_pairs)
    manager.add_raw(seed)
    manager.add_raw_backwards(unseed)
    return manager
