"""The registration form on the event page and the self-service pages behind the secret link."""

from __future__ import annotations

import asyncio
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from itertools import count
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from tests import factories
from treffpunkt.events.services import EventView
from treffpunkt.events.tables import Event
from treffpunkt.i18n import format_short, language
from treffpunkt.notifications.tables import OutboxMessage
from treffpunkt.registrations import services
from treffpunkt.registrations.event_changes import cancel_and_notify
from treffpunkt.registrations.schemas import RegistrationForm
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio

ENGLISH = {"Accept-Language": "en"}
QUESTIONS: list[dict[str, Any]] = [
    {"key": "diet", "kind": "short_text", "label": "Ernährungswünsche", "required": True},
    {
        "key": "motivation",
        "kind": "long_text",
        "label": "Was möchten Sie mitnehmen?",
        "help_text": "Ein paar Sätze genügen.",
    },
    {
        "key": "slot",
        "kind": "single_choice",
        "label": "Zeitfenster",
        "options": ["Vormittag", "Nachmittag"],
    },
    {
        "key": "topics",
        "kind": "multiple_choice",
        "label": "Themen",
        "options": ["Glasfaser", "WLAN", "Förderung"],
    },
    {"key": "parking", "kind": "yes_no", "label": "Benötigen Sie einen Parkplatz?"},
]
GROUP_LABELS_DE = {
    "public_administration": "Öffentliche Verwaltung",
    "politics": "Politik",
    "business": "Wirtschaft",
    "business_development": "Wirtschaftsförderung",
    "municipal_company": "Kommunales Unternehmen",
    "business_association": "Wirtschaftsverband",
    "regional_association": "Regionalverband",
    "research_education": "Forschung und Bildung",
    "civil_society": "Zivilgesellschaft und Öffentlichkeit",
    "other": "Sonstige",
}
CONSENT_DE = (
    "Ich bin damit einverstanden, dass meine Angaben zur Organisation dieser Veranstaltung "
    "gespeichert und verwendet werden und dass ich dazu kontaktiert werde."
)
CHECK_MAIL_DE = (
    "Bitte sehen Sie in Ihrem E-Mail-Postfach nach: Eine E-Mail an die angegebene Adresse ist "
    "unterwegs. Darin steht, ob Sie einen Platz haben, und Sie finden darin Ihren persönlichen "
    "Link, um Ihre Anmeldung zu ändern oder abzusagen."
)
CHECK_MAIL_EN = (
    "Please look in your mailbox: an email to the address you gave is on its way. It says "
    "whether you have a place and holds your personal link to change or cancel your "
    "registration."
)
FULLY_BOOKED_DE = "Diese Veranstaltung ist ausgebucht."
WAITLIST_HINT_DE = (
    "Diese Veranstaltung ist ausgebucht. Wenn Sie sich jetzt anmelden, kommen Sie auf die "
    "Warteliste und erhalten einen Platz, sobald einer frei wird."
)
ROSTER_KEYS = (
    "name",
    "email",
    "organisation",
    "stakeholder_group",
    "role",
    "notes",
    "language",
    "answers",
    "status",
)
FORM_RECEIVED_DE = "Wir haben Ihr Formular erhalten."
SAVED_DE = "Ihre Änderungen wurden gespeichert."
_numbers = count(1)


# --- reading pages ------------------------------------------------------------------------

VOID_TAGS = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "wbr"}


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    ancestors: tuple[Element, ...]
    parts: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The element's text with whitespace collapsed, as a reader would hear it."""
        return " ".join("".join(self.parts).split())

    @property
    def raw_text(self) -> str:
        return "".join(self.parts)


class Page(HTMLParser):
    """Just enough of the DOM to find elements by id, name and label."""

    def __init__(self, html: str) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self._open: list[Element] = []
        self.feed(html)
        self.close()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v or "" for k, v in attrs}, tuple(self._open))
        self.elements.append(element)
        if tag == "br":
            self.handle_data("\n")
        if tag not in VOID_TAGS:
            self._open.append(element)

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, {k: v or "" for k, v in attrs}, tuple(self._open)))

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self._open) - 1, -1, -1):
            if self._open[index].tag == tag:
                del self._open[index:]
                return

    def handle_data(self, data: str) -> None:
        for element in self._open:
            element.parts.append(data)

    def find(self, tag: str, **attrs: str) -> list[Element]:
        return [
            e
            for e in self.elements
            if e.tag == tag and all(e.attrs.get(k) == v for k, v in attrs.items())
        ]

    def one(self, tag: str, **attrs: str) -> Element:
        found = self.find(tag, **attrs)
        assert len(found) == 1, f"{len(found)} <{tag}> elements with {attrs}"
        return found[0]

    def by_id(self, element_id: str) -> Element:
        found = [e for e in self.elements if e.attrs.get("id") == element_id]
        assert len(found) == 1, f"{len(found)} elements with id {element_id!r}"
        return found[0]

    def has_id(self, element_id: str) -> bool:
        return any(e.attrs.get("id") == element_id for e in self.elements)

    def control(self, name: str) -> Element:
        """The one input, select or textarea with this name."""
        found = [
            e
            for e in self.elements
            if e.tag in ("input", "select", "textarea") and e.attrs.get("name") == name
        ]
        assert len(found) == 1, f"{len(found)} controls named {name!r}"
        return found[0]

    def label_of(self, control: Element) -> str:
        """The text of the label pointing at the control, or of the label around it."""
        if control.attrs.get("id"):
            pointing = self.find("label", **{"for": control.attrs["id"]})
            if pointing:
                assert len(pointing) == 1
                return pointing[0].text
        around = [a for a in control.ancestors if a.tag == "label"]
        assert around, f"control {control.attrs.get('name')!r} has no label"
        return around[-1].text

    def selected(self, select_name: str) -> str:
        select = self.control(select_name)
        chosen = [
            o.attrs["value"]
            for o in self.find("option")
            if select in o.ancestors and "selected" in o.attrs
        ]
        assert len(chosen) <= 1
        return chosen[0] if chosen else ""

    def options(self, select_name: str) -> list[tuple[str, str]]:
        select = self.control(select_name)
        return [(o.attrs["value"], o.text) for o in self.find("option") if select in o.ancestors]

    def checked(self, name: str) -> list[str]:
        return [e.attrs["value"] for e in self.find("input", name=name) if "checked" in e.attrs]

    def facts(self) -> dict[str, str]:
        """The page's <dt> terms and the text of the <dd> that follows each."""
        terms = self.find("dt")
        details = self.find("dd")
        assert len(terms) == len(details)
        return {t.text: d.text for t, d in zip(terms, details, strict=True)}

    def has_form(self, action: str) -> bool:
        return bool(self.find("form", action=action))

    @property
    def text(self) -> str:
        body = self.find("body")
        return body[0].text if body else ""


def notice(response: httpx.Response) -> str:
    """The text of the page's status notice (the outcome of a registration)."""
    return Page(response.text).one("div", role="status").text


async def follow(
    client: httpx.AsyncClient, response: httpx.Response, headers: dict[str, str] | None = None
) -> httpx.Response:
    """GET where a 303 See Other points, as the browser does (and does again on reload)."""
    assert response.status_code == 303, response.text
    return await client.get(response.headers["location"], headers=headers)


def hidden_value(html: str, name: str) -> str:
    match = re.search(rf'<input type="hidden" name="{name}" value="([^"]*)">', html)
    assert match, f"no hidden input {name!r} in the page"
    return match.group(1)


# --- data ---------------------------------------------------------------------------------


async def open_event(**overrides: Any) -> tuple[EventView, dict[str, str]]:
    """A published event and its organiser's Authorization header."""
    owner, auth = await factories.organiser_with_token()
    return await factories.event(owner, **overrides), auth


async def put_questions(client: httpx.AsyncClient, slug: str, auth: dict[str, str]) -> None:
    response = await client.put(f"/api/v1/events/{slug}/questions", json=QUESTIONS, headers=auth)
    assert response.status_code == 200, response.text


async def event_with_questions(
    client: httpx.AsyncClient, **overrides: Any
) -> tuple[EventView, dict[str, str]]:
    event, auth = await open_event(**overrides)
    await put_questions(client, event.slug, auth)
    return event, auth


def form_fields(**overrides: Any) -> dict[str, Any]:
    """What a person types into the form (without questions), a fresh email each time."""
    number = next(_numbers)
    fields: dict[str, Any] = {
        "name": f"Anna Schmidt {number}",
        "email": f"anna{number}@example.org",
        "organisation": "Stadt Leipzig",
        "stakeholder_group": "public_administration",
        "role": "Referentin",
        "notes": "",
        "language": "de",
        "consent": "yes",
    }
    fields.update(overrides)
    return {k: v for k, v in fields.items() if v is not None}


def answered(**overrides: Any) -> dict[str, Any]:
    """The form plus answers to every question of QUESTIONS."""
    return form_fields(
        **{
            "answers.diet": "vegetarisch",
            "answers.motivation": "Fördermittel verstehen",
            "answers.slot": "Nachmittag",
            "answers.topics": ["Glasfaser", "Förderung"],
            "answers.parking": "yes",
            **overrides,
        }
    )


async def post_form(
    client: httpx.AsyncClient,
    slug: str,
    fields: dict[str, Any],
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    """Open the event page (for the CSRF cookie and token) and send the form."""
    page = await client.get(f"/events/{slug}", headers=headers)
    assert page.status_code == 200, page.text
    return await client.post(
        f"/events/{slug}/register",
        data={"_csrf_token": hidden_value(page.text, "_csrf_token"), **fields},
        headers=headers,
    )


async def register_directly(event: EventView, email: str, **overrides: Any) -> int:
    """Someone else registers, through the service; answers the registration's id."""
    form = RegistrationForm(
        **{
            "name": "Bernd Bauer",
            "email": email,
            "organisation": "Landkreis Meißen",
            "stakeholder_group": "politics",
            "consent": True,
            **overrides,
        }
    )
    outcome = await services.register(event.slug, form, now=datetime.now(UTC))
    return outcome.registration_id


async def full_event(*, waitlist: bool) -> tuple[EventView, dict[str, str]]:
    event, auth = await open_event(capacity=1, waitlist=waitlist)
    await register_directly(event, "first@example.org")
    return event, auth


async def roster(client: httpx.AsyncClient, slug: str, auth: dict[str, str]) -> list[Any]:
    response = await client.get(f"/api/v1/events/{slug}/registrations", headers=auth)
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


async def stored(email: str) -> dict[str, Any]:
    row = await Registration.select().where(Registration.email == email).output(load_json=True)
    assert len(row) == 1, f"{len(row)} registrations of {email}"
    return dict(row[0])


async def registration_count() -> int:
    return int(await Registration.count())


async def mail_kinds() -> list[str]:
    """The kind of every message in the outbox, oldest first."""
    rows = await OutboxMessage.select(OutboxMessage.kind).order_by(OutboxMessage.id)
    return [row["kind"] for row in rows]


async def registrations_and_mails() -> tuple[int, list[str]]:
    """How many registrations there are, and the kind of every mail queued."""
    return await registration_count(), await mail_kinds()


async def manage_token(registration_id: int) -> str:
    return await services.token_for(registration_id)


# --- the event page -----------------------------------------------------------------------


async def test_event_page_labels_every_field_of_the_form(client: httpx.AsyncClient) -> None:
    event, _ = await open_event()

    page = Page((await client.get(f"/events/{event.slug}")).text)

    labels = {
        name: page.label_of(page.control(name))
        for name in (
            "name",
            "email",
            "organisation",
            "stakeholder_group",
            "role",
            "notes",
            "language",
            "consent",
        )
    }
    assert labels == {
        "name": "Name",
        "email": "E-Mail-Adresse",
        "organisation": "Organisation",
        "stakeholder_group": "Sie vertreten",
        "role": "Funktion oder Position (optional)",
        "notes": "Hinweise, z. B. zu Barrierefreiheit oder Ernährung (optional)",
        "language": "Sprache unserer E-Mails",
        "consent": CONSENT_DE,
    }


async def test_event_page_form_posts_to_the_register_address(client: httpx.AsyncClient) -> None:
    event, _ = await open_event()

    page = Page((await client.get(f"/events/{event.slug}")).text)

    form = page.one("form", action=f"/events/{event.slug}/register")
    assert form.attrs["method"] == "post"
    assert page.control("consent").attrs["type"] == "checkbox"
    assert page.control("email").attrs["type"] == "email"


async def test_event_page_offers_all_ten_stakeholder_groups(client: httpx.AsyncClient) -> None:
    event, _ = await open_event()

    page = Page((await client.get(f"/events/{event.slug}")).text)

    assert page.options("stakeholder_group") == [
        ("", "Bitte auswählen"),
        *GROUP_LABELS_DE.items(),
    ]
    assert page.selected("stakeholder_group") == ""


async def test_event_page_in_english_preselects_english_mails(client: httpx.AsyncClient) -> None:
    event, _ = await open_event()

    page = Page((await client.get(f"/events/{event.slug}", headers=ENGLISH)).text)

    assert page.label_of(page.control("email")) == "Email address"
    assert page.selected("language") == "en"


async def test_event_page_shows_a_text_field_for_each_text_question(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await event_with_questions(client)

    page = Page((await client.get(f"/events/{event.slug}")).text)

    short, long = page.control("answers.diet"), page.control("answers.motivation")
    assert (short.tag, short.attrs["type"]) == ("input", "text")
    assert page.label_of(short) == "Ernährungswünsche (Pflichtfeld)"
    assert long.tag == "textarea"
    assert page.label_of(long) == "Was möchten Sie mitnehmen?"
    assert page.by_id("answer-motivation-hint").text == "Ein paar Sätze genügen."


async def test_event_page_ties_the_help_text_of_a_text_question_to_its_field(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await event_with_questions(client)

    page = Page((await client.get(f"/events/{event.slug}")).text)

    assert page.control("answers.motivation").attrs.get("aria-describedby") == (
        "answer-motivation-hint"
    )


async def test_event_page_shows_choice_questions_as_labelled_groups(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await event_with_questions(client)

    page = Page((await client.get(f"/events/{event.slug}")).text)

    groups = {}
    for name in ("answers.slot", "answers.topics", "answers.parking"):
        inputs = page.find("input", name=name)
        fieldset = next(a for a in inputs[0].ancestors if a.tag == "fieldset")
        assert all(fieldset in i.ancestors for i in inputs), f"{name} spans several groups"
        legend = next(e for e in page.find("legend") if fieldset in e.ancestors)
        groups[name] = (
            legend.text,
            [(i.attrs["type"], i.attrs["value"], page.label_of(i)) for i in inputs],
        )
    assert groups == {
        "answers.slot": (
            "Zeitfenster",
            [("radio", "Vormittag", "Vormittag"), ("radio", "Nachmittag", "Nachmittag")],
        ),
        "answers.topics": (
            "Themen",
            [
                ("checkbox", "Glasfaser", "Glasfaser"),
                ("checkbox", "WLAN", "WLAN"),
                ("checkbox", "Förderung", "Förderung"),
            ],
        ),
        "answers.parking": (
            "Benötigen Sie einen Parkplatz?",
            [("radio", "yes", "Ja"), ("radio", "no", "Nein")],
        ),
    }


async def test_event_page_of_a_cancelled_event_says_so_instead_of_a_form(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await open_event()
    await cancel_and_notify(event.slug, "Referentin erkrankt", now=datetime.now(UTC))

    response = await client.get(f"/events/{event.slug}")

    page = Page(response.text)
    assert response.status_code == 200
    assert not page.has_form(f"/events/{event.slug}/register")
    assert page.by_id("register").text == (
        "Anmeldung Die Anmeldung ist geschlossen, weil die Veranstaltung abgesagt wurde."
    )


async def test_event_page_of_a_finished_event_says_it_is_over_instead_of_a_form(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await open_event()
    ended = datetime.now(UTC) - timedelta(hours=1)
    await Event.update({Event.starts_at: ended - timedelta(hours=3), Event.ends_at: ended}).where(
        Event.id == event.id
    )

    response = await client.get(f"/events/{event.slug}")

    page = Page(response.text)
    assert response.status_code == 200
    assert not page.has_form(f"/events/{event.slug}/register")
    assert page.by_id("register").text == "Anmeldung Diese Veranstaltung hat bereits stattgefunden."


async def test_event_page_before_registration_opens_says_when_it_opens_instead_of_a_form(
    client: httpx.AsyncClient,
) -> None:
    opens = (datetime.now(UTC) + timedelta(days=2)).replace(microsecond=0)
    event, _ = await open_event(registration_opens_at=opens.isoformat())

    response = await client.get(f"/events/{event.slug}")

    page = Page(response.text)
    with language("de"):
        when = format_short(opens.astimezone(ZoneInfo("Europe/Berlin")))
    assert when == opens.astimezone(ZoneInfo("Europe/Berlin")).strftime("%d.%m.%Y, %H:%M")
    assert response.status_code == 200
    assert not page.has_form(f"/events/{event.slug}/register")
    assert page.by_id("register").text == f"Anmeldung Die Anmeldung beginnt am {when}."


async def test_event_page_of_a_full_event_without_waiting_list_says_fully_booked_without_a_form(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await full_event(waitlist=False)

    response = await client.get(f"/events/{event.slug}")

    page = Page(response.text)
    assert response.status_code == 200
    assert not page.has_form(f"/events/{event.slug}/register")
    assert page.by_id("register").text == f"Anmeldung {FULLY_BOOKED_DE}"


async def test_event_page_of_a_full_event_with_waiting_list_shows_the_hint_and_the_form(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await full_event(waitlist=True)

    response = await client.get(f"/events/{event.slug}")

    page = Page(response.text)
    assert response.status_code == 200
    assert page.has_form(f"/events/{event.slug}/register")
    assert WAITLIST_HINT_DE in page.by_id("register").text


# --- registering through the form ---------------------------------------------------------


async def test_registering_without_csrf_token_is_forbidden(client: httpx.AsyncClient) -> None:
    event, _ = await open_event()
    await client.get(f"/events/{event.slug}")

    response = await client.post(f"/events/{event.slug}/register", data=form_fields())

    assert response.status_code == 403
    assert await registration_count() == 0


async def test_registering_without_csrf_token_explains_the_refusal_in_german(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await open_event()
    await client.get(f"/events/{event.slug}")

    response = await client.post(f"/events/{event.slug}/register", data=form_fields())

    page = Page(response.text)
    assert page.one("h1").text == "Zugriff verweigert"
    # Litestar's own English detail is no message for a German reader.
    assert "CSRF token verification failed" not in page.text


async def test_registering_answers_303_see_other_to_the_events_receipt_page(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await open_event()

    response = await post_form(client, event.slug, form_fields())

    assert response.status_code == 303
    assert response.headers["location"] == f"/events/{event.slug}/registered"


async def test_receipt_page_asks_the_person_to_look_in_their_mailbox(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await open_event()

    receipt = await follow(client, await post_form(client, event.slug, form_fields()))

    assert receipt.status_code == 200
    assert receipt.headers["content-type"].startswith("text/html")
    assert Page(receipt.text).one("h1").text == "Vielen Dank!"
    assert notice(receipt) == CHECK_MAIL_DE


async def test_receipt_page_speaks_english_when_asked(client: httpx.AsyncClient) -> None:
    event, _ = await open_event()

    response = await post_form(client, event.slug, form_fields(), headers=ENGLISH)

    assert notice(await follow(client, response, headers=ENGLISH)) == CHECK_MAIL_EN


async def test_registering_puts_the_person_in_the_roster_with_every_value(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await event_with_questions(client)
    fields = answered(
        email="  Anna.Schmidt@Example.ORG ", notes="Rollstuhl", language="en", role="Referentin"
    )

    await post_form(client, event.slug, fields)

    rows = await roster(client, event.slug, auth)
    assert [{k: row[k] for k in ROSTER_KEYS} for row in rows] == [
        {
            "name": fields["name"],
            "email": "anna.schmidt@example.org",
            "organisation": "Stadt Leipzig",
            "stakeholder_group": "public_administration",
            "role": "Referentin",
            "notes": "Rollstuhl",
            "language": "en",
            "answers": {
                "diet": "vegetarisch",
                "motivation": "Fördermittel verstehen",
                "slot": "Nachmittag",
                "topics": ["Glasfaser", "Förderung"],
                "parking": True,
            },
            "status": "confirmed",
        }
    ]


async def test_registering_when_full_puts_the_person_on_the_waiting_list(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await full_event(waitlist=True)
    fields = form_fields()

    await post_form(client, event.slug, fields)

    assert [
        (r["email"], r["status"], r["waitlist_position"])
        for r in await roster(client, event.slug, auth)
    ][1:] == [(fields["email"], "waitlisted", 1)]


async def test_registering_for_an_event_with_approval_leaves_it_pending(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await open_event(requires_approval=True)
    fields = form_fields()

    await post_form(client, event.slug, fields)

    assert [(r["email"], r["status"]) for r in await roster(client, event.slug, auth)] == [
        (fields["email"], "pending")
    ]


async def receipt_text(client: httpx.AsyncClient, slug: str, fields: dict[str, Any]) -> str:
    """What a person reads after sending the form: the receipt page's main part."""
    receipt = await follow(client, await post_form(client, slug, fields))
    assert receipt.status_code == 200, receipt.text
    return Page(receipt.text).one("main").text


async def test_receipt_reads_the_same_whether_confirmed_waitlisted_or_pending(
    client: httpx.AsyncClient,
) -> None:
    confirmed, _ = await open_event(title="Breitband")
    waitlisted, _ = await full_event(waitlist=True)
    pending, _ = await open_event(requires_approval=True)

    texts = {
        (await receipt_text(client, event.slug, form_fields())).replace(event.title, "…")
        for event in (confirmed, waitlisted, pending)
    }

    assert len(texts) == 1
    assert CHECK_MAIL_DE in texts.pop()


async def test_receipt_page_is_not_cached(client: httpx.AsyncClient) -> None:
    event, _ = await open_event()

    receipt = await follow(client, await post_form(client, event.slug, form_fields()))

    assert receipt.headers["cache-control"] == "no-store"


async def test_reloading_the_receipt_registers_and_mails_nothing_again(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await open_event()
    response = await post_form(client, event.slug, form_fields())

    reloads = [await follow(client, response) for _ in range(3)]

    assert [r.status_code for r in reloads] == [200, 200, 200]
    assert {notice(r) for r in reloads} == {CHECK_MAIL_DE}
    assert await registrations_and_mails() == (1, ["registration_confirmed"])


async def test_a_double_submitted_form_registers_once_and_mails_once(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await open_event()
    page = await client.get(f"/events/{event.slug}")
    data = {"_csrf_token": hidden_value(page.text, "_csrf_token"), **form_fields()}

    answers = await asyncio.gather(
        *[client.post(f"/events/{event.slug}/register", data=data) for _ in range(2)]
    )

    assert [a.status_code for a in answers] == [303, 303]
    assert await registrations_and_mails() == (1, ["registration_confirmed"])


async def test_receipt_page_without_a_sent_form_leads_to_the_event_page(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await open_event()

    response = await client.get(f"/events/{event.slug}/registered")

    assert response.status_code == 303
    assert response.headers["location"] == f"/events/{event.slug}"


async def test_receipt_of_one_event_is_not_shown_for_another(client: httpx.AsyncClient) -> None:
    event, _ = await open_event()
    other, _ = await open_event()
    await post_form(client, event.slug, form_fields())

    response = await client.get(f"/events/{other.slug}/registered")

    assert response.status_code == 303
    assert response.headers["location"] == f"/events/{other.slug}"


INVALID_FIELDS = [
    pytest.param({"name": "   "}, "name", "name", "darf nicht leer sein", id="empty-name"),
    pytest.param(
        {"email": "anna-at-example.org"},
        "email",
        "email",
        "muss eine E-Mail-Adresse sein",
        id="bad-email",
    ),
    pytest.param(
        {"stakeholder_group": ""},
        "stakeholder_group",
        "stakeholder_group",
        "muss aus der Liste gewählt werden",
        id="no-group",
    ),
    pytest.param(
        {"consent": None},
        "consent",
        "consent",
        "die Einwilligung in die Datenschutzhinweise ist erforderlich",
        id="no-consent",
    ),
    pytest.param(
        {"answers.diet": ""},
        "answers-diet",
        "answers.diet",
        "ist erforderlich",
        id="required-question",
    ),
]


@pytest.mark.parametrize(("change", "error_id", "control", "message"), INVALID_FIELDS)
async def test_invalid_registration_answers_422_with_the_message_next_to_the_field(
    client: httpx.AsyncClient, change: dict[str, Any], error_id: str, control: str, message: str
) -> None:
    event, _ = await event_with_questions(client)

    response = await post_form(client, event.slug, answered(**change))

    page = Page(response.text)
    assert response.status_code == 422
    assert page.by_id(f"{error_id}-error").text == message
    assert page.control(control).attrs.get("aria-invalid") == "true"
    assert page.control(control).attrs.get("aria-describedby") == f"{error_id}-error"


async def test_unanswered_required_choice_question_shows_the_message_on_its_group(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await open_event()
    question = {
        "key": "slot",
        "kind": "single_choice",
        "label": "Zeitfenster",
        "options": ["Vormittag", "Nachmittag"],
        "required": True,
    }
    put = await client.put(f"/api/v1/events/{event.slug}/questions", json=[question], headers=auth)
    assert put.status_code == 200, put.text

    response = await post_form(client, event.slug, form_fields())

    page = Page(response.text)
    radios = page.find("input", name="answers.slot")
    group = next(a for a in radios[0].ancestors if a.tag == "fieldset")
    assert response.status_code == 422
    assert page.by_id("answers-slot-error").text == "ist erforderlich"
    assert group.attrs.get("aria-describedby") == "answers-slot-error"
    assert page.checked("answers.slot") == []


async def test_invalid_registration_marks_only_the_broken_fields(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await event_with_questions(client)

    response = await post_form(client, event.slug, answered(name="", email="nope"))

    page = Page(response.text)
    invalid = [e.attrs.get("name") for e in page.elements if e.attrs.get("aria-invalid")]
    assert invalid == ["name", "email"]
    assert page.one("h2", id="error-summary-title").text == (
        "Bitte korrigieren Sie die markierten Felder."
    )


async def test_invalid_registration_keeps_every_typed_value(client: httpx.AsyncClient) -> None:
    event, _ = await event_with_questions(client)
    fields = answered(
        name="",
        email="anna@example.org",
        organisation="Stadt Görlitz",
        stakeholder_group="research_education",
        role="Professorin",
        notes="Bitte mit Aufzug <erreichbar> & ebenerdig",
        language="en",
        **{"answers.parking": "no", "answers.topics": ["WLAN"]},
    )

    response = await post_form(client, event.slug, fields)

    page = Page(response.text)
    assert response.status_code == 422
    typed = {
        name: page.control(name).attrs["value"]
        for name in ("name", "email", "organisation", "role", "answers.diet")
    }
    assert typed == {
        "name": "",
        "email": "anna@example.org",
        "organisation": "Stadt Görlitz",
        "role": "Professorin",
        "answers.diet": "vegetarisch",
    }
    assert page.control("notes").raw_text == "Bitte mit Aufzug <erreichbar> & ebenerdig"
    assert page.control("answers.motivation").raw_text == "Fördermittel verstehen"
    assert page.selected("stakeholder_group") == "research_education"
    assert page.selected("language") == "en"
    assert page.checked("answers.slot") == ["Nachmittag"]
    assert page.checked("answers.topics") == ["WLAN"]
    assert page.checked("answers.parking") == ["no"]
    assert page.checked("consent") == ["yes"]


async def test_invalid_registration_stores_nothing(client: httpx.AsyncClient) -> None:
    event, _ = await event_with_questions(client)

    await post_form(client, event.slug, answered(name="", consent=None))

    assert await registration_count() == 0


async def test_invalid_registration_shows_messages_in_english_when_asked(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await event_with_questions(client)

    response = await post_form(
        client,
        event.slug,
        answered(name="", email="x", stakeholder_group="", consent=None, **{"answers.diet": ""}),
        headers=ENGLISH,
    )

    page = Page(response.text)
    assert response.status_code == 422
    assert {
        key: page.by_id(f"{key}-error").text
        for key in ("name", "email", "stakeholder_group", "consent", "answers-diet")
    } == {
        "name": "must not be empty",
        "email": "must be an email address",
        "stakeholder_group": "must be chosen from the list",
        "consent": "consent to the privacy notice is required",
        "answers-diet": "is required",
    }
    assert page.one("h2", id="error-summary-title").text == "Please correct the marked fields."


async def test_registering_an_address_registered_already_reads_exactly_like_a_new_registration(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await open_event()
    await register_directly(event, "anna@example.org")

    again = await receipt_text(client, event.slug, form_fields(email="Anna@Example.org"))
    new = await receipt_text(client, event.slug, form_fields(email="carla@example.org"))

    assert again == new


async def test_registering_the_same_email_again_creates_no_second_registration(
    client: httpx.AsyncClient,
) -> None:
    event, auth = await open_event()
    await register_directly(event, "anna@example.org")

    await post_form(client, event.slug, form_fields(email="anna@example.org", name="Anna Neu"))

    rows = await roster(client, event.slug, auth)
    assert [(r["name"], r["email"]) for r in rows] == [("Bernd Bauer", "anna@example.org")]


async def test_registering_the_same_email_again_does_not_reveal_the_secret_link(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await open_event()
    registration_id = await register_directly(event, "anna@example.org")

    response = await post_form(client, event.slug, form_fields(email="anna@example.org"))
    receipt = await follow(client, response)

    token = await manage_token(registration_id)
    assert token not in response.headers["location"]
    assert token not in response.text
    assert token not in receipt.text
    assert "/registrations/" not in receipt.text


async def test_filled_honeypot_leads_to_a_receipt_that_promises_no_mail(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await open_event()

    response = await post_form(client, event.slug, form_fields(website="http://spam.example"))

    assert response.status_code == 303
    assert notice(await follow(client, response)) == FORM_RECEIVED_DE
    assert await registrations_and_mails() == (0, [])


async def test_honeypot_field_is_hidden_from_people_and_keyboards(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await open_event()

    page = Page((await client.get(f"/events/{event.slug}")).text)

    honeypot = page.control("website")
    assert honeypot.attrs["tabindex"] == "-1"
    assert honeypot.attrs["autocomplete"] == "off"
    assert [a.attrs.get("aria-hidden") for a in honeypot.ancestors if a.tag == "div"][-1] == "true"


async def filled_up_meanwhile(client: httpx.AsyncClient, fields: dict[str, Any]) -> httpx.Response:
    """Open the form of a one-seat event, let someone else take the seat, then send it."""
    event, _ = await open_event(capacity=1, waitlist=False)
    opened = await client.get(f"/events/{event.slug}")
    await register_directly(event, "first@example.org")
    return await client.post(
        f"/events/{event.slug}/register",
        data={"_csrf_token": hidden_value(opened.text, "_csrf_token"), **fields},
    )


async def test_registering_for_an_event_that_filled_up_meanwhile_answers_409_fully_booked(
    client: httpx.AsyncClient,
) -> None:
    response = await filled_up_meanwhile(client, form_fields())

    assert response.status_code == 409
    assert "ist ausgebucht" in Page(response.text).by_id("register").text


async def test_registering_for_an_event_that_filled_up_meanwhile_alerts_the_refusal(
    client: httpx.AsyncClient,
) -> None:
    response = await filled_up_meanwhile(client, form_fields())

    assert Page(response.text).one("p", role="alert").text == "die Veranstaltung ist ausgebucht"


async def test_registering_for_an_event_that_filled_up_meanwhile_keeps_the_typed_values(
    client: httpx.AsyncClient,
) -> None:
    fields = form_fields(name="Carla Czech", email="carla@example.org", notes="vegan")

    response = await filled_up_meanwhile(client, fields)

    page = Page(response.text)
    assert (page.control("name").attrs["value"], page.control("email").attrs["value"]) == (
        "Carla Czech",
        "carla@example.org",
    )
    assert page.control("notes").raw_text == "vegan"
    assert page.selected("stakeholder_group") == "public_administration"


async def test_registering_for_an_event_that_filled_up_meanwhile_stores_nothing(
    client: httpx.AsyncClient,
) -> None:
    await filled_up_meanwhile(client, form_fields())

    assert await registration_count() == 1


# --- the secret link's pages --------------------------------------------------------------


async def registered_person(
    client: httpx.AsyncClient, **event_overrides: Any
) -> tuple[EventView, str, int]:
    """An event with questions, Anna registered with answers; her token and id."""
    event, _ = await event_with_questions(client, **event_overrides)
    registration_id = await register_directly(
        event,
        "anna@example.org",
        name="Anna Schmidt",
        organisation="Stadt Leipzig",
        stakeholder_group="research_education",
        role="Referentin",
        notes="vegetarisch",
        language="en",
        answers={"diet": "vegan", "slot": "Vormittag", "topics": ["WLAN"], "parking": False},
    )
    return event, await manage_token(registration_id), registration_id


async def test_manage_page_names_the_event_and_the_status(client: httpx.AsyncClient) -> None:
    event, token, _ = await registered_person(client)

    response = await client.get(f"/registrations/{token}")

    page = Page(response.text)
    assert response.status_code == 200
    assert page.one("h1").text == event.title
    assert page.one("a", href=f"/events/{event.slug}").text == event.title
    assert page.facts() == {
        "Status": "Bestätigt",
        "Angemeldet als": "Anna Schmidt anna@example.org",
        "Sie vertreten": "Forschung und Bildung",
    }


async def test_manage_page_shows_the_waiting_list_position(client: httpx.AsyncClient) -> None:
    event, _ = await full_event(waitlist=True)
    await register_directly(event, "second@example.org")
    token = await manage_token(await register_directly(event, "anna@example.org"))

    response = await client.get(f"/registrations/{token}")

    assert Page(response.text).facts()["Status"] == (
        "Auf der Warteliste Platz 2 auf der Warteliste"
    )


async def test_manage_page_fills_the_form_with_the_current_values(
    client: httpx.AsyncClient,
) -> None:
    _, token, _ = await registered_person(client)

    page = Page((await client.get(f"/registrations/{token}")).text)

    assert {n: page.control(n).attrs["value"] for n in ("name", "organisation", "role")} == {
        "name": "Anna Schmidt",
        "organisation": "Stadt Leipzig",
        "role": "Referentin",
    }
    assert page.control("notes").raw_text == "vegetarisch"
    assert page.control("answers.diet").attrs["value"] == "vegan"
    assert page.selected("language") == "en"
    assert page.checked("answers.slot") == ["Vormittag"]
    assert page.checked("answers.topics") == ["WLAN"]
    assert page.checked("answers.parking") == ["no"]


async def test_manage_page_is_not_cached(client: httpx.AsyncClient) -> None:
    _, token, _ = await registered_person(client)

    response = await client.get(f"/registrations/{token}")

    assert response.headers["cache-control"] == "no-store"


async def change_form(client: httpx.AsyncClient, token: str, **changes: Any) -> httpx.Response:
    """Open the manage page, change some fields, keep the rest, and save."""
    page = await client.get(f"/registrations/{token}")
    fields: dict[str, Any] = {
        "_csrf_token": hidden_value(page.text, "_csrf_token"),
        "name": "Anna Schmidt",
        "organisation": "Stadt Leipzig",
        "role": "Referentin",
        "notes": "vegetarisch",
        "language": "en",
        "answers.diet": "vegan",
        "answers.slot": "Vormittag",
        "answers.topics": ["WLAN"],
        "answers.parking": "no",
    }
    fields.update(changes)
    return await client.post(f"/registrations/{token}", data=fields)


async def test_changing_details_answers_303_see_other_to_the_manage_page(
    client: httpx.AsyncClient,
) -> None:
    _, token, _ = await registered_person(client)

    response = await change_form(client, token, name="Anna Schmidt-Berg")

    assert response.status_code == 303
    assert response.headers["location"] == f"/registrations/{token}"


async def test_manage_page_after_changing_shows_the_saved_notice_and_the_new_values(
    client: httpx.AsyncClient,
) -> None:
    _, token, _ = await registered_person(client)

    page = await follow(client, await change_form(client, token, name="Anna Schmidt-Berg"))

    assert page.status_code == 200
    assert notice(page) == SAVED_DE
    assert Page(page.text).control("name").attrs["value"] == "Anna Schmidt-Berg"


async def test_reloading_the_manage_page_after_changing_drops_the_saved_notice(
    client: httpx.AsyncClient,
) -> None:
    _, token, _ = await registered_person(client)
    await follow(client, await change_form(client, token, name="Anna Schmidt-Berg"))

    reloaded = await client.get(f"/registrations/{token}")

    assert Page(reloaded.text).find("div", role="status") == []


async def test_changing_details_stores_them(client: httpx.AsyncClient) -> None:
    _, token, _ = await registered_person(client)

    await change_form(
        client,
        token,
        name="Anna Schmidt-Berg",
        organisation="Stadt Dresden",
        notes="",
        language="de",
        **{"answers.topics": ["Glasfaser", "WLAN"], "answers.parking": "yes"},
    )

    row = await stored("anna@example.org")
    assert {k: row[k] for k in ("name", "organisation", "role", "notes", "language")} == {
        "name": "Anna Schmidt-Berg",
        "organisation": "Stadt Dresden",
        "role": "Referentin",
        "notes": "",
        "language": "de",
    }
    assert row["answers"] == {
        "diet": "vegan",
        "slot": "Vormittag",
        "topics": ["Glasfaser", "WLAN"],
        "parking": True,
    }


async def test_changing_the_name_to_empty_answers_422_with_the_message_next_to_it(
    client: httpx.AsyncClient,
) -> None:
    _, token, _ = await registered_person(client)

    response = await change_form(client, token, name="", organisation="Stadt Dresden")

    page = Page(response.text)
    assert response.status_code == 422
    assert page.by_id("name-error").text == "darf nicht leer sein"
    assert page.control("name").attrs.get("aria-invalid") == "true"
    assert page.control("organisation").attrs["value"] == "Stadt Dresden"
    assert (await stored("anna@example.org"))["organisation"] == "Stadt Leipzig"


async def test_changing_without_csrf_token_is_forbidden(client: httpx.AsyncClient) -> None:
    _, token, _ = await registered_person(client)
    await client.get(f"/registrations/{token}")

    response = await client.post(f"/registrations/{token}", data={"name": "Mallory"})

    assert response.status_code == 403
    assert (await stored("anna@example.org"))["name"] == "Anna Schmidt"


async def test_cancel_link_asks_for_confirmation_and_cancels_nothing(
    client: httpx.AsyncClient,
) -> None:
    event, token, _ = await registered_person(client)

    response = await client.get(f"/registrations/{token}/cancel")

    page = Page(response.text)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert page.one("h1").text == "Möchten Sie Ihre Teilnahme absagen?"
    assert event.title in page.text
    assert page.one("form", action=f"/registrations/{token}/cancel").attrs["method"] == "post"
    assert (await stored("anna@example.org"))["status"] == "confirmed"


async def confirm_cancellation(client: httpx.AsyncClient, token: str) -> httpx.Response:
    page = await client.get(f"/registrations/{token}/cancel")
    return await client.post(
        f"/registrations/{token}/cancel",
        data={"_csrf_token": hidden_value(page.text, "_csrf_token")},
    )


async def test_confirming_the_cancellation_answers_303_see_other_to_the_manage_page(
    client: httpx.AsyncClient,
) -> None:
    _, token, _ = await registered_person(client)

    response = await confirm_cancellation(client, token)

    assert response.status_code == 303
    assert response.headers["location"] == f"/registrations/{token}"


async def test_confirming_the_cancellation_cancels_the_registration(
    client: httpx.AsyncClient,
) -> None:
    _, token, _ = await registered_person(client)

    page = await follow(client, await confirm_cancellation(client, token))

    assert Page(page.text).facts()["Status"] == "Abgesagt"
    assert (await stored("anna@example.org"))["status"] == "cancelled"


async def test_confirming_the_cancellation_gives_the_seat_to_the_head_of_the_waiting_list(
    client: httpx.AsyncClient,
) -> None:
    event, _ = await open_event(capacity=1, waitlist=True)
    token = await manage_token(await register_directly(event, "anna@example.org"))
    await register_directly(event, "head@example.org")
    await register_directly(event, "second@example.org")

    await confirm_cancellation(client, token)

    statuses = {
        r["email"]: (r["status"], r["waitlist_ticket"])
        for r in await Registration.select(
            Registration.email, Registration.status, Registration.waitlist_ticket
        )
    }
    assert statuses == {
        "anna@example.org": ("cancelled", None),
        "head@example.org": ("confirmed", None),
        "second@example.org": ("waitlisted", 2),
    }


async def test_cancelling_without_csrf_token_is_forbidden(client: httpx.AsyncClient) -> None:
    _, token, _ = await registered_person(client)
    await client.get(f"/registrations/{token}/cancel")

    response = await client.post(f"/registrations/{token}/cancel")

    assert response.status_code == 403
    assert (await stored("anna@example.org"))["status"] == "confirmed"


# --- what the pages promise about mail -----------------------------------------------------

UNDELIVERED_DE = (
    "Unsere letzte E-Mail an anna@example.org konnte nicht zugestellt werden. Alles, was darin "
    "stand, finden Sie auf dieser Seite; falls die Adresse falsch ist, wenden Sie sich bitte an "
    "das Veranstaltungsteam."
)


async def mail_outcomes(registration_id: int, *statuses: str) -> None:
    """The registration's mails so far, oldest first, ended as the worker would end them."""
    rows = await OutboxMessage.select(OutboxMessage.id).where(
        OutboxMessage.registration == registration_id
    )
    assert len(rows) == 1, rows
    first, *later = statuses
    await OutboxMessage.update(
        {OutboxMessage.status: first, OutboxMessage.last_error: "550 5.1.1 mailbox unknown"}
    ).where(OutboxMessage.id == rows[0]["id"])
    for status in later:
        await OutboxMessage.insert(
            OutboxMessage(
                kind="registration_resent",
                event=(await stored("anna@example.org"))["event"],
                registration=registration_id,
                recipient="anna@example.org",
                status=status,
            )
        )


async def test_manage_page_says_plainly_when_the_last_mail_could_not_be_delivered(
    client: httpx.AsyncClient,
) -> None:
    _, token, registration_id = await registered_person(client)
    await mail_outcomes(registration_id, "failed")

    page = Page((await client.get(f"/registrations/{token}")).text)

    assert page.one("div", role="alert").text == UNDELIVERED_DE


async def test_manage_page_says_so_in_english_when_asked(client: httpx.AsyncClient) -> None:
    _, token, registration_id = await registered_person(client)
    await mail_outcomes(registration_id, "failed")

    page = Page((await client.get(f"/registrations/{token}", headers=ENGLISH)).text)

    assert page.one("div", role="alert").text == (
        "Our last email to anna@example.org could not be delivered. Everything it said is on "
        "this page; if the address is wrong, please tell the organisers."
    )


@pytest.mark.parametrize("newest", ["sent", "pending"], ids=["delivered", "still-queued"])
async def test_manage_page_is_silent_about_mail_unless_the_newest_failed(
    client: httpx.AsyncClient, newest: str
) -> None:
    _, token, registration_id = await registered_person(client)
    await mail_outcomes(registration_id, "failed", newest)

    page = Page((await client.get(f"/registrations/{token}")).text)

    assert page.find("div", role="alert") == []


@pytest.mark.parametrize("suffix", ["", "/cancel"])
async def test_unknown_token_answers_the_404_page(client: httpx.AsyncClient, suffix: str) -> None:
    response = await client.get(f"/registrations/{'A' * 32}{suffix}")

    page = Page(response.text)
    assert response.status_code == 404
    assert response.headers["content-type"].startswith("text/html")
    assert page.one("h1").text == "Nicht gefunden"
    assert "zu diesem Link gibt es keine Anmeldung" in page.text
