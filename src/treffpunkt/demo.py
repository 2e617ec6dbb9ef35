"""Demo data: a programme that shows every page's purpose at first start, loaded idempotently.

Each event is played through with the real services (register, approve, decline, cancel,
check in, thank, feedback) at the moments it would have happened, given by an injected
clock, so seats, waiting-list tickets, SEQUENCE and the outbox agree with what the rules
produce. The past event is played at its own dates, which is how check-ins and feedback
exist for an event the services would now refuse to touch.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from treffpunkt.accounts.services import CurrentOrganiser, create_organiser, organiser_by_email
from treffpunkt.attendance.feedback import (
    FeedbackQuestionSpec,
    answer_feedback,
    replace_feedback_questions,
    thank_attendees,
)
from treffpunkt.attendance.services import check_in_by_id
from treffpunkt.clock import utcnow
from treffpunkt.events import services
from treffpunkt.events.schemas import EventCreate, Venue
from treffpunkt.events.services import EventView
from treffpunkt.events.tables import Event
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations.event_changes import cancel_and_notify
from treffpunkt.registrations.questions import replace_questions
from treffpunkt.registrations.schemas import QuestionSpec, RegistrationForm
from treffpunkt.registrations.services import (
    approve,
    by_id,
    cancel_by_person,
    decline,
    register,
    token_for,
)
from treffpunkt.registrations.tables import Registration
from treffpunkt.text import slugify

DEMO_EMAIL = "demo@treffpunkt.example"
KOMMUNE_EMAIL = "kommune@treffpunkt.example"
DEMO_PASSWORD = "treffpunkt-demo"  # noqa: S105 - published in the README for local use
BERLIN = ZoneInfo("Europe/Berlin")
# Who signs in to the demo: the admin, and a district that owns its own events.
ORGANISERS = (
    (DEMO_EMAIL, "Demo-Organisation", True),
    (KOMMUNE_EMAIL, "Landkreis Mittelsachsen", False),
)


@dataclass(frozen=True)
class DemoEvent:
    """One event and its story: how many registered and what became of them."""

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
    owner: str = DEMO_EMAIL
    co_organiser: str = ""
    draft: bool = False
    questions: tuple[QuestionSpec, ...] = ()
    feedback: tuple[FeedbackQuestionSpec, ...] = ()
    registrations: int = 0
    approved: int = 0  # of the pending requests, in order; the next `declined` are declined
    declined: int = 0
    cancelled: int = 0  # confirmed people who cancel themselves (a full event promotes)
    attended: int = 0  # past events: confirmed people checked in; the others did not come
    answered_feedback: int = 0  # of those who came


def _venue(name: str, street: str, postal_code: str, city: str) -> Venue:
    return Venue(name=name, street=street, postal_code=postal_code, city=city)


SCHOOL_QUESTIONS = (
    QuestionSpec(
        key="rolle",
        kind="single_choice",
        label="Wo arbeiten Sie im Schulwesen?",
        options=["Schulträger", "Schulleitung", "Medienzentrum", "Anderes"],
        required=True,
    ),
    QuestionSpec(key="praxisbeispiel", kind="yes_no", label="Möchten Sie ein Projekt vorstellen?"),
)
HYBRID_QUESTIONS = (
    QuestionSpec(
        key="teilnahme",
        kind="single_choice",
        label="Wie nehmen Sie teil?",
        options=["vor Ort", "online"],
        required=True,
    ),
)
ENERGY_QUESTIONS = (
    QuestionSpec(
        key="stand",
        kind="single_choice",
        label="Wie weit ist Ihre Energiegemeinschaft?",
        options=["eine Idee", "in Gründung", "gegründet"],
        required=True,
    ),
    QuestionSpec(
        key="themen",
        kind="multiple_choice",
        label="Welche Themen interessieren Sie?",
        options=["Rechtsform", "Energy Sharing", "Finanzierung", "Mieterstrom"],
    ),
    QuestionSpec(key="frage", kind="long_text", label="Welche Frage bringen Sie mit?"),
)
FEEDBACK_QUESTIONS = (
    FeedbackQuestionSpec(
        key="gesamt", kind="rating", label="Wie hat Ihnen der Workshop gefallen?", required=True
    ),
    FeedbackQuestionSpec(
        key="nutzen", kind="rating", label="Wie nützlich war er für Ihre Arbeit?", required=True
    ),
    FeedbackQuestionSpec(
        key="kommentar", kind="text", label="Was sollen wir beim nächsten Mal besser machen?"
    ),
)


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
        registrations=18,
        cancelled=2,
        co_organiser=KOMMUNE_EMAIL,
        questions=SCHOOL_QUESTIONS,
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
        registrations=14,
        cancelled=2,
        questions=HYBRID_QUESTIONS,
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
        registrations=22,
        cancelled=2,
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
        registrations=12,
        cancelled=3,
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
        registrations=9,
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
        registrations=23,
        cancelled=1,
        questions=HYBRID_QUESTIONS,
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
        registrations=30,
        approved=10,
        declined=10,
        questions=ENERGY_QUESTIONS,
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
        registrations=10,
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
        registrations=8,
        cancelled=1,
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
        registrations=11,
        cancelled=2,
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
        registrations=6,
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
        registrations=7,
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
        registrations=9,
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
        registrations=5,
    ),
    DemoEvent(
        "Breitbandausbau: Erfahrungen aus dem Graue-Flecken-Programm",
        "Förderung, Ausschreibung und Bauüberwachung: was die Landkreise im ersten Jahr lernten.",
        "workshop",
        "in_person",
        "DE-SN",
        ("administration",),
        -6,
        time(9, 30),
        5,
        venue=_venue("Landratsamt Mittelsachsen", "Frauensteiner Straße 43", "09599", "Freiberg"),
        locality="Landkreis Mittelsachsen",
        capacity=30,
        owner=KOMMUNE_EMAIL,
        registrations=24,
        cancelled=2,
        attended=17,
        answered_feedback=11,
        feedback=FEEDBACK_QUESTIONS,
    ),
    DemoEvent(
        "Open Data im Landkreis: die ersten Datensätze veröffentlichen",
        "Welche Daten der Verwaltung offen sein können, und wie sie ins Datenportal kommen.",
        "workshop",
        "online",
        "DE-SN",
        ("administration",),
        55,
        time(10, 0),
        2,
        online_url="https://meet.example.org/open-data",
        capacity=50,
        owner=KOMMUNE_EMAIL,
        draft=True,
    ),
]


@dataclass(frozen=True)
class Person:
    name: str
    organisation: str
    group: str
    language: str = "de"
    role: str = ""
    notes: str = ""

    @property
    def email(self) -> str:
        """A reserved .example address from name and organisation: no real mailbox is hit."""
        return f"{slugify(self.name).replace('-', '.')}@{slugify(self.organisation)}.example"


# Rows of ten in the order of STAKEHOLDER_GROUPS, so any ten people in a row cover them all.
PEOPLE = (
    Person(
        "Anna Schäfer",
        "Landratsamt Mittelsachsen",
        "public_administration",
        role="Sachgebietsleiterin E-Government",
    ),
    Person("Marie Wagner", "Gemeinde Havixbeck", "politics", role="Bürgermeisterin"),
    Person("Ahmet Demir", "Digitalagentur Nordlicht GmbH", "business"),
    Person("Tobias Krüger", "Wirtschaftsförderung Münster", "business_development"),
    Person("Leyla Yılmaz", "Stadtwerke Münster", "municipal_company", notes="vegetarisch"),
    Person("Peter Hoffmann", "IHK Nord Westfalen", "business_association"),
    Person("Claudia Neumann", "Münsterland e.V.", "regional_association"),
    Person("Sofia Lange", "Hochschule Mittweida", "research_education", role="Doktorandin"),
    Person("Felix Braun", "Bürgerinitiative Digitales Dorf", "civil_society"),
    Person("Olivia Bennett", "Freelance journalist", "other", language="en"),
    Person("Jonas Becker", "Kreisverwaltung Steinfurt", "public_administration"),
    Person("Hans-Jürgen Meier", "Kreistag Mittelsachsen", "politics", role="Kreisrat"),
    Person(
        "Daniel Okafor",
        "Brightgrid Ltd",
        "business",
        language="en",
        notes="I use a wheelchair; step-free access, please.",
    ),
    Person("Sabine Koch", "Wirtschaftsförderung Region Stuttgart", "business_development"),
    Person("Tomasz Nowak", "Stadtwerke Frankfurt (Oder)", "municipal_company", language="en"),
    Person("Ulrike Schmitt", "Handwerkskammer Chemnitz", "business_association"),
    Person("Mehmet Arslan", "Regionalverband Nordhessen", "regional_association"),
    Person(
        "Emily Carter",
        "Fraunhofer IESE",
        "research_education",
        language="en",
        role="Research fellow",
    ),
    Person(
        "Jana Richter",
        "Digitale Nachbarschaft e.V.",
        "civil_society",
        notes="Ich bringe meinen Assistenzhund mit.",
    ),
    Person("Friedrich Walter", "Evangelische Kirchengemeinde Freiberg", "other"),
    Person("Katharina Vogel", "Kreis Coesfeld", "public_administration", role="CDO"),
    Person("Stefan Zimmermann", "Stadtrat Freiberg", "politics"),
    Person("Lena Hartmann", "Hartmann Solar GmbH", "business", role="Geschäftsführerin"),
    Person("Moritz Schulz", "Wirtschaftsförderung Mittelsachsen", "business_development"),
    Person("Birgit Wolf", "Stadtwerke Freiberg", "municipal_company", notes="vegan"),
    Person("Christian Schneider", "IHK Chemnitz", "business_association"),
    Person("Ayşe Kaya", "Metropolregion Hamburg", "regional_association"),
    Person(
        "Thomas Berger",
        "TU Bergakademie Freiberg",
        "research_education",
        role="Professor für Geoinformatik",
    ),
    Person("Hannah Fischer", "Landfrauenverband Sachsen e.V.", "civil_society"),
    Person("Lukas Weber", "Freiwillige Feuerwehr Brand-Erbisdorf", "other"),
)
COMMENTS = {
    "de": [
        "Mehr Zeit für den Austausch in Kleingruppen.",
        "Die Praxisbeispiele aus den Landkreisen waren am wertvollsten.",
        "Bitte die Folien vorab verschicken.",
    ],
    "en": ["More time for questions, please.", "Very useful, thank you!"],
}
RATINGS = (5, 4, 5, 3, 4, 5, 4, 2, 5, 4, 4)
QUESTION_ANSWERS = ("Wie binden wir die Stadtwerke ein?", "Welche Förderung passt zu uns?")


def _answer(question: QuestionSpec, number: int) -> Any:
    """A plausible answer that varies from person to person, or None to leave it open."""
    if question.kind == "single_choice":
        return question.options[number % len(question.options)]
    if question.kind == "multiple_choice":
        return question.options[number % len(question.options) :][:2]
    if question.kind == "yes_no":
        return number % 3 == 0
    return QUESTION_ANSWERS[number % 2] if number % 4 == 0 else None


def _form(item: DemoEvent, number: int) -> RegistrationForm:
    person = PEOPLE[number % len(PEOPLE)]
    answers = {q.key: _answer(q, number) for q in item.questions}
    return RegistrationForm(
        name=person.name,
        email=person.email,
        organisation=person.organisation,
        stakeholder_group=person.group,  # type: ignore[arg-type]
        role=person.role,
        notes=person.notes,
        answers={key: value for key, value in answers.items() if value is not None},
        language=person.language,  # type: ignore[arg-type]
        consent=True,
    )


def _event_create(item: DemoEvent, starts_at: datetime) -> EventCreate:
    return EventCreate(
        title=item.title,
        summary=item.summary,
        description=f"{item.summary}\n\nProgramm, Referierende und Materialien folgen.",
        kind=item.kind,  # type: ignore[arg-type]
        format=item.format,  # type: ignore[arg-type]
        region=item.region,
        sectors=list(item.sectors),
        starts_at=starts_at,
        ends_at=starts_at + timedelta(hours=item.hours),
        locality=item.locality,
        venue=item.venue,
        online_url=item.online_url,
        capacity=item.capacity,
        requires_approval=item.requires_approval,
        registration_closes_at=starts_at - timedelta(days=1),
        contact_name="Geschäftsstelle Treffpunkt",
        contact_email=item.owner,
    )


@dataclass(frozen=True)
class Timeline:
    """When each step of an event's story happens; every moment lies in the past."""

    opened: datetime  # created and published
    last_registration: datetime
    decided: datetime  # approvals, declines and cancellations
    door: datetime  # check-in, for events that have begun
    after: datetime  # thanks and feedback, for events that are over

    @classmethod
    def of(cls, starts_at: datetime, ends_at: datetime, now: datetime) -> Timeline:
        closes = starts_at - timedelta(days=1)
        last = min(now, closes) - timedelta(hours=6)
        return cls(
            opened=last - timedelta(days=21),
            last_registration=last,
            decided=last + timedelta(hours=1),
            door=starts_at - timedelta(minutes=30),
            after=ends_at + timedelta(hours=2),
        )

    def registration_at(self, number: int, count: int) -> datetime:
        """Spread over the three weeks, busiest at the start as real sign-ups are."""
        share = (number / count) ** 2
        return self.opened + timedelta(hours=1) + (self.last_registration - self.opened) * share


async def _organisers() -> dict[str, CurrentOrganiser]:
    found = {}
    for email, name, is_admin in ORGANISERS:
        organiser = await organiser_by_email(email)
        if organiser is None:
            organiser = await create_organiser(email, DEMO_PASSWORD, name=name, is_admin=is_admin)
        found[email] = organiser
    return found


async def _call_off(slug: str, reason: str, *, now: datetime) -> None:
    """Cancel the event and tell its registrants: the one place the demo cancels an event."""
    await cancel_and_notify(slug, reason, now=now)


async def _statuses(event_id: int) -> list[dict[str, Any]]:
    return list(
        await Registration.select(Registration.id, Registration.status)
        .where(Registration.event == event_id)
        .order_by(Registration.id)
    )


async def _decide(event: EventView, item: DemoEvent, at: datetime) -> None:
    """The organiser approves and declines requests; some confirmed people cancel."""
    rows = await _statuses(event.id)
    pending = [row["id"] for row in rows if row["status"] == "pending"]
    for number, registration_id in enumerate(pending[: item.approved]):
        await approve(event.slug, registration_id, now=at + timedelta(minutes=number))
    for number, registration_id in enumerate(
        pending[item.approved : item.approved + item.declined]
    ):
        await decline(event.slug, registration_id, now=at + timedelta(minutes=30 + number))
    confirmed = [row["id"] for row in rows if row["status"] == "confirmed"]
    # Not the first to register: they are the ones a newcomer sees at the top of the roster.
    for number, registration_id in enumerate(confirmed[1 : 1 + item.cancelled]):
        token = await token_for(registration_id)
        await cancel_by_person(token, now=at + timedelta(hours=2, minutes=number))


async def _hold(event: EventView, item: DemoEvent, timeline: Timeline) -> None:
    """The day itself: people checked in at the door, then thanked and asked for feedback."""
    rows = await _statuses(event.id)
    confirmed = [row["id"] for row in rows if row["status"] == "confirmed"]
    came = confirmed[: item.attended]
    for number, registration_id in enumerate(came):
        await check_in_by_id(
            event.slug, registration_id, now=timeline.door + timedelta(minutes=number)
        )
    await replace_feedback_questions(event, list(item.feedback))
    await thank_attendees(event, now=timeline.after)
    for number, registration_id in enumerate(came[: item.answered_feedback]):
        registration = await by_id(event.slug, registration_id)
        comments = COMMENTS[registration.language]
        answers = {
            "gesamt": RATINGS[number % len(RATINGS)],
            "nutzen": RATINGS[(number + 3) % len(RATINGS)],
            "kommentar": comments[number % len(comments)] if number % 2 == 0 else "",
        }
        await answer_feedback(
            registration, answers, now=timeline.after + timedelta(hours=1, minutes=7 * number)
        )


async def _mark_mail_delivered(event_id: int) -> None:
    """Demo mail counts as sent: the dev mailbox shows it, but no SMTP server ever gets it.

    The rows stay because every change writes its message (the mailbox would look broken
    without them); marked sent, a worker pointed at a real server later never mails a
    hundred made-up people at addresses that exist nowhere.
    """
    await OutboxMessage.update(
        {OutboxMessage.status: "sent", OutboxMessage.sent_at: OutboxMessage.created_at}
    ).where((OutboxMessage.event == event_id) & (OutboxMessage.status == "pending"))


async def _play(item: DemoEvent, first_person: int, owner: CurrentOrganiser) -> None:
    """Create one event and play its story up to today."""
    now = utcnow()
    day = (now + timedelta(days=item.days_ahead)).astimezone(BERLIN).date()
    starts_at = datetime.combine(day, item.start, BERLIN)
    data = _event_create(item, starts_at)
    timeline = Timeline.of(data.starts_at, data.ends_at, now)
    event = await services.create_event(data, owner, now=timeline.opened)
    if item.questions:
        await replace_questions(event.id, list(item.questions))
    if item.co_organiser:
        await services.add_co_organiser(event.slug, item.co_organiser)
    if item.draft:
        return
    await services.publish_event(event.slug, now=timeline.opened)
    for number in range(item.registrations):
        at = timeline.registration_at(number, item.registrations)
        await register(event.slug, _form(item, first_person + number), now=at)
    await _decide(event, item, timeline.decided)
    if event.is_finished(now):
        await _hold(event, item, timeline)
    if item.cancelled_because:
        await _call_off(
            event.slug, item.cancelled_because, now=timeline.decided + timedelta(hours=3)
        )
    await _mark_mail_delivered(event.id)


async def load_demo_data() -> str:
    """Create the demo organisers and programme; anything already there is left alone."""
    organisers = await _organisers()
    created = 0
    for number, item in enumerate(PROGRAMME):
        owner = organisers[item.owner]
        if await Event.exists().where((Event.title == item.title) & (Event.owner == owner.id)):
            continue
        # Each event starts further along the list of people, so rosters differ; with this
        # offset the counts in PROGRAMME give every status people from every group.
        await _play(item, 7 * number, owner)
        created += 1
    logins = " and ".join(f"{email} / {DEMO_PASSWORD}" for email, _, _ in ORGANISERS)
    return (
        f"demo data: {created} new events, {len(PROGRAMME) - created} already there; "
        f"organiser login {logins}"
    )
