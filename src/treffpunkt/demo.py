"""Demo data: a realistic programme of upcoming workshops, in German, loaded idempotently."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

from treffpunkt.accounts.services import create_organiser, organiser_by_email
from treffpunkt.clock import utcnow
from treffpunkt.events import services
from treffpunkt.events.schemas import EventCreate, Venue
from treffpunkt.events.tables import Event
from treffpunkt.registrations.event_changes import cancel_and_notify
from treffpunkt.registrations.schemas import RegistrationForm
from treffpunkt.registrations.services import register

DEMO_EMAIL = "demo@treffpunkt.example"
DEMO_PASSWORD = "treffpunkt-demo"  # noqa: S105 - published in the README for local use
BERLIN = ZoneInfo("Europe/Berlin")


@dataclass(frozen=True)
class DemoEvent:
    title: str
    summary: str
    kind: str
    format: str
    region: str
    sectors: tuple[str, ...]
    days_ahead: int
    start: time
    hours: float
    venue: Venue | None = None
    locality: str = ""
    online_url: str = ""
    capacity: int | None = None
    requires_approval: bool = False
    cancelled_because: str = ""
    registrations: int = 0


def _venue(name: str, street: str, postal_code: str, city: str) -> Venue:
    return Venue(name=name, street=street, postal_code=postal_code, city=city)


PROGRAMME = [
    DemoEvent(
        "Digitale Schule im ländlichen Raum",
        "Wie Schulträger, Medienzentren und Schulen WLAN, Endgeräte und Support gemeinsam lösen.",
        "workshop",
        "in_person",
        "DE-SN",
        ("education",),
        9,
        time(9, 30),
        6,
        venue=_venue("Rathaus Freiberg, Ratssaal", "Obermarkt 24", "09599", "Freiberg"),
        locality="Landkreis Mittelsachsen",
        capacity=40,
    ),
    DemoEvent(
        "Kommunale Wärmeplanung digital",
        "Datengrundlagen, Geoinformation und Beteiligung: die Wärmeplanung mit offenen Werkzeugen.",
        "workshop",
        "hybrid",
        "DE-BW",
        ("energy", "administration"),
        12,
        time(10, 0),
        5,
        venue=_venue("Haus der Wirtschaft", "Willi-Bleicher-Straße 19", "70174", "Stuttgart"),
        online_url="https://meet.example.org/waermeplanung",
        capacity=60,
    ),
    DemoEvent(
        "Netzwerktreffen Smarte Region Nordhessen",
        "Kommunen, Stadtwerke und Unternehmen der Region lernen einander und ihre Projekte kennen.",
        "networking_meeting",
        "in_person",
        "DE-HE",
        ("energy", "mobility", "administration"),
        15,
        time(17, 0),
        3,
        venue=_venue("Kulturbahnhof Kassel", "Rainer-Dierichs-Platz 1", "34117", "Kassel"),
        locality="Nordhessen",
        capacity=80,
    ),
    DemoEvent(
        "Telemedizin in der Pflege",
        "Erfahrungen aus Modellprojekten: Videosprechstunde, Sensorik und Datenschutz.",
        "workshop",
        "online",
        "DE",
        ("health",),
        18,
        time(14, 0),
        2.5,
        online_url="https://meet.example.org/telemedizin",
        capacity=150,
    ),
    DemoEvent(
        "On-Demand-Verkehr zwischen Dorf und Stadt",
        "Rufbusse, Mitfahrbänke, Buchungsplattformen: was trägt sich, was nicht?",
        "workshop",
        "in_person",
        "DE-BY",
        ("mobility",),
        21,
        time(9, 0),
        7,
        venue=_venue("Landratsamt Regen", "Poschetsrieder Straße 16", "94209", "Regen"),
        locality="Landkreis Regen",
        capacity=35,
    ),
    DemoEvent(
        "OZG-Umsetzung: Leistungen gemeinsam digitalisieren",
        "Interkommunale Zusammenarbeit bei Online-Diensten nach dem Onlinezugangsgesetz.",
        "workshop",
        "hybrid",
        "DE-NW",
        ("administration",),
        24,
        time(10, 0),
        6,
        venue=_venue("Stadthaus Münster", "Klemensstraße 10", "48143", "Münster"),
        online_url="https://meet.example.org/ozg",
        capacity=12,
        registrations=11,
    ),
    DemoEvent(
        "Energiegemeinschaften gründen",
        "Bürgerenergie, Mieterstrom und Energy Sharing: Rechtsrahmen und erste Schritte.",
        "workshop",
        "in_person",
        "DE-SH",
        ("energy",),
        27,
        time(13, 0),
        4,
        venue=_venue("Wissenschaftspark Kiel", "Fraunhoferstraße 13", "24118", "Kiel"),
        capacity=30,
        requires_approval=True,
    ),
    DemoEvent(
        "Netzwerkabend Digitale Gesundheitsregion",
        "Kliniken, Praxen, Krankenkassen und Start-ups im Gespräch über regionale Versorgung.",
        "networking_meeting",
        "in_person",
        "DE-MV",
        ("health",),
        30,
        time(18, 0),
        3,
        venue=_venue("Speicher Rostock", "Am Strande 3a", "18055", "Rostock"),
        capacity=70,
    ),
    DemoEvent(
        "Lernplattformen und Datenschutz",
        "Was Schulen bei Lernmanagementsystemen, Messengern und KI-Werkzeugen beachten müssen.",
        "workshop",
        "online",
        "DE",
        ("education", "administration"),
        33,
        time(15, 0),
        2,
        online_url="https://meet.example.org/lernplattformen",
    ),
    DemoEvent(
        "Mobilitätsdaten teilen: Mobilithek und offene Schnittstellen",
        "Fahrplandaten, Sharing-Angebote und Parkraum in Echtzeit für die Region öffnen.",
        "workshop",
        "hybrid",
        "DE-BE",
        ("mobility", "administration"),
        36,
        time(9, 30),
        6.5,
        venue=_venue("CityLAB Berlin", "Platz der Luftbrücke 4", "12101", "Berlin"),
        online_url="https://meet.example.org/mobilitaetsdaten",
        capacity=45,
    ),
    DemoEvent(
        "Netzwerktreffen Smart City Thüringen",
        "Austausch der Modellkommunen über Sensorik, Datenplattformen und Bürgerbeteiligung.",
        "networking_meeting",
        "in_person",
        "DE-TH",
        ("administration", "energy"),
        40,
        time(16, 0),
        3,
        venue=_venue("Kaisersaal Erfurt", "Futterstraße 15/16", "99084", "Erfurt"),
        capacity=100,
    ),
    DemoEvent(
        "Digitale Weiterbildung für Verwaltungsbeschäftigte",
        "Lernpfade, Qualifizierungsbedarfe und gute Beispiele aus Landkreisen.",
        "workshop",
        "online",
        "DE",
        ("education", "administration"),
        44,
        time(10, 0),
        3,
        online_url="https://meet.example.org/weiterbildung",
        capacity=200,
    ),
    DemoEvent(
        "Ladeinfrastruktur im ländlichen Raum",
        "Standortplanung, Förderung und Betreibermodelle für öffentliche Ladepunkte.",
        "workshop",
        "in_person",
        "DE-NI",
        ("mobility", "energy"),
        20,
        time(9, 0),
        5,
        venue=_venue("Kreishaus Lüneburg", "Auf dem Michaeliskloster 4", "21335", "Lüneburg"),
        capacity=40,
        cancelled_because="Die Referentin ist erkrankt; ein neuer Termin folgt.",
    ),
    DemoEvent(
        "Gesundheitskioske und digitale Lotsen",
        "Niedrigschwellige Beratung im Quartier mit digitaler Unterstützung.",
        "workshop",
        "in_person",
        "DE-HH",
        ("health",),
        48,
        time(13, 30),
        4,
        venue=_venue("Bezirksamt Hamburg-Nord", "Kümmellstraße 6", "20249", "Hamburg"),
        capacity=25,
    ),
]


DEMO_PEOPLE = [
    ("Anna Schäfer", "Stadt Münster", "public_administration"),
    ("Jonas Becker", "Kreis Steinfurt", "public_administration"),
    ("Leyla Yılmaz", "Stadtwerke Münster", "municipal_company"),
    ("Peter Hoffmann", "IHK Nord Westfalen", "business_association"),
    ("Marie Wagner", "Gemeinde Havixbeck", "politics"),
    ("Tobias Krüger", "Wirtschaftsförderung Münster", "business_development"),
    ("Sofia Lange", "Universität Münster", "research_education"),
    ("Ahmet Demir", "Digitalagentur Nordlicht GmbH", "business"),
    ("Claudia Neumann", "Münsterland e.V.", "regional_association"),
    ("Felix Braun", "Bürgerinitiative Digitales Dorf", "civil_society"),
    ("Katharina Vogel", "Kreis Coesfeld", "public_administration"),
]


def _demo_person(number: int) -> RegistrationForm:
    name, organisation, group = DEMO_PEOPLE[number % len(DEMO_PEOPLE)]
    return RegistrationForm(
        name=name,
        email=f"teilnahme{number + 1}@demo.treffpunkt.example",
        organisation=organisation,
        stakeholder_group=group,  # type: ignore[arg-type]
        consent=True,
    )


def _event_create(item: DemoEvent, today: datetime) -> EventCreate:
    day = (today + timedelta(days=item.days_ahead)).date()
    starts_at = datetime.combine(day, item.start, BERLIN)
    ends_at = starts_at + timedelta(hours=item.hours)
    return EventCreate(
        title=item.title,
        summary=item.summary,
        description=f"{item.summary}\n\nProgramm, Referierende und Materialien folgen.",
        kind=item.kind,  # type: ignore[arg-type]
        format=item.format,  # type: ignore[arg-type]
        region=item.region,
        sectors=list(item.sectors),
        starts_at=starts_at,
        ends_at=ends_at,
        locality=item.locality,
        venue=item.venue,
        online_url=item.online_url,
        capacity=item.capacity,
        requires_approval=item.requires_approval,
        registration_closes_at=starts_at - timedelta(days=1),
        contact_name="Geschäftsstelle Treffpunkt",
        contact_email=DEMO_EMAIL,
    )


async def load_demo_data() -> str:
    """Create the demo organiser and programme; anything already there is left alone."""
    organiser = await organiser_by_email(DEMO_EMAIL)
    if organiser is None:
        organiser = await create_organiser(
            DEMO_EMAIL, DEMO_PASSWORD, name="Demo-Organisation", is_admin=True
        )
    now = utcnow()
    created = 0
    for item in PROGRAMME:
        if await Event.exists().where((Event.title == item.title) & (Event.owner == organiser.id)):
            continue
        event = await services.create_event(_event_create(item, now), organiser, now=now)
        await services.publish_event(event.slug, now=now)
        for number in range(item.registrations):
            await register(event.slug, _demo_person(number), now=now)
        if item.cancelled_because:
            await cancel_and_notify(event.slug, item.cancelled_because, now=now)
        created += 1
    return (
        f"demo data: {created} new events, {len(PROGRAMME) - created} already there; "
        f"organiser login {DEMO_EMAIL} / {DEMO_PASSWORD}"
    )
