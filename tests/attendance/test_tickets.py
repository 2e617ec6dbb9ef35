"""QR tickets by secret link: PNG and SVG images of the check-in code, and the printable page."""

from __future__ import annotations

import io
import re
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from xml.etree import ElementTree

import httpx
import pytest
import zxingcpp
from PIL import Image

from tests import factories
from tests.registrations.helpers import register_ok
from treffpunkt.attendance.codes import CheckInCode, check_in_code, read_code
from treffpunkt.events.services import EventView
from treffpunkt.registrations.services import cancel_by_person, token_for
from treffpunkt.registrations.tables import Registration

pytestmark = pytest.mark.anyio

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PROBLEM_JSON = "application/problem+json"
ENGLISH = {"Accept-Language": "en"}
TICKET_PARTS = ("ticket.png", "ticket.svg", "ticket")
IMAGES = ("ticket.png", "ticket.svg")


@dataclass(frozen=True)
class Holder:
    """One registration as its holder knows it: the secret link's token, and its ids."""

    event: EventView
    registration_id: int
    token: str

    @property
    def code(self) -> str:
        return check_in_code(self.event.id, self.registration_id)

    def url(self, part: str) -> str:
        return f"/registrations/{self.token}/{part}"


async def holder(
    client: httpx.AsyncClient, event: EventView, email: str = "anna@example.org", **person: str
) -> Holder:
    """Register `email` through the API; its registration id and secret link's token."""
    await register_ok(client, event.slug, email=email, **person)
    row = (
        await Registration.select(Registration.id)
        .where((Registration.event == event.id) & (Registration.email == email))
        .first()
    )
    assert row is not None
    return Holder(event, int(row["id"]), await token_for(row["id"]))


async def confirmed(client: httpx.AsyncClient, **person: str) -> Holder:
    event = await factories.event(await factories.organiser(), title="Breitband für Schulen")
    return await holder(client, event, **person)


async def waitlisted(client: httpx.AsyncClient) -> Holder:
    event = await factories.event(await factories.organiser(), capacity=1, waitlist=True)
    await register_ok(client, event.slug, email="bert@example.org")
    return await holder(client, event)


async def pending(client: httpx.AsyncClient) -> Holder:
    event = await factories.event(await factories.organiser(), requires_approval=True)
    return await holder(client, event)


async def cancelled(client: httpx.AsyncClient) -> Holder:
    person = await confirmed(client)
    await cancel_by_person(person.token, now=datetime.now(UTC))
    return person


async def status_of(person: Holder) -> str:
    row = (
        await Registration.select(Registration.status)
        .where(Registration.id == person.registration_id)
        .first()
    )
    assert row is not None
    return str(row["status"])


def decoded(png: bytes) -> list[str]:
    """The text of every barcode in the image, read the way a door scanner reads it."""
    return [barcode.text for barcode in zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))]


@dataclass
class Page:
    """What a test looks at on an HTML page: links, images, and the text by tag or class."""

    hrefs: list[str] = field(default_factory=list)
    images: list[dict[str, str]] = field(default_factory=list)
    texts: dict[str, str] = field(default_factory=dict)


class _PageParser(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.page = Page()
        self.open_classes: list[list[str]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {k: v or "" for k, v in attrs}
        if tag == "a" and values.get("href"):
            self.page.hrefs.append(values["href"])
        if tag == "img":
            self.page.images.append(values)
            return
        if tag == "br":
            self.handle_data(" ")  # a line break separates words as a reader sees them
            return
        if tag not in ("br", "meta", "link", "input"):
            self.open_classes.append([tag, *values.get("class", "").split()])

    def handle_endtag(self, tag: str) -> None:
        if tag not in ("img", "br", "meta", "link", "input") and self.open_classes:
            self.open_classes.pop()

    def handle_data(self, data: str) -> None:
        for classes in self.open_classes:
            for name in classes:
                self.page.texts[name] = self.page.texts.get(name, "") + data


def page_of(html: str) -> Page:
    parser = _PageParser()
    parser.feed(html)
    page = parser.page
    page.texts = {k: re.sub(r"\s+", " ", v).strip() for k, v in page.texts.items()}
    return page


# --- the PNG -------------------------------------------------------------------------------


async def test_ticket_png_is_a_png_image(client: httpx.AsyncClient) -> None:
    person = await confirmed(client)

    response = await client.get(person.url("ticket.png"))

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/png"
    assert response.content.startswith(PNG_SIGNATURE)
    assert Image.open(io.BytesIO(response.content)).format == "PNG"


async def test_ticket_png_is_a_qr_code(client: httpx.AsyncClient) -> None:
    person = await confirmed(client)

    png = (await client.get(person.url("ticket.png"))).content

    barcodes = zxingcpp.read_barcodes(Image.open(io.BytesIO(png)))
    assert [barcode.format for barcode in barcodes] == [zxingcpp.BarcodeFormat.QRCode]


async def test_ticket_png_decodes_to_the_registrations_check_in_code(
    client: httpx.AsyncClient,
) -> None:
    person = await confirmed(client)

    png = (await client.get(person.url("ticket.png"))).content

    assert decoded(png) == [person.code]


async def test_ticket_png_code_names_this_event_and_registration_when_read(
    client: httpx.AsyncClient,
) -> None:
    person = await confirmed(client)

    (text,) = decoded((await client.get(person.url("ticket.png"))).content)

    assert read_code(text) == CheckInCode(
        event_id=person.event.id, registration_id=person.registration_id
    )


async def test_ticket_png_holds_no_personal_data(client: httpx.AsyncClient) -> None:
    person = await confirmed(client, name="Anna Beispiel", organisation="Landkreis Meißen")

    (text,) = decoded((await client.get(person.url("ticket.png"))).content)

    assert re.fullmatch(r"TP-\d+-\d+-[A-Z2-7]{20}", text)


async def test_tickets_of_two_registrations_carry_different_codes(
    client: httpx.AsyncClient,
) -> None:
    anna = await confirmed(client)
    bert = await holder(client, anna.event, "bert@example.org")

    anna_png = (await client.get(anna.url("ticket.png"))).content
    bert_png = (await client.get(bert.url("ticket.png"))).content

    assert (decoded(anna_png), decoded(bert_png)) == ([anna.code], [bert.code])
    assert anna.code != bert.code


# --- the SVG -------------------------------------------------------------------------------


async def test_ticket_svg_is_an_svg_image(client: httpx.AsyncClient) -> None:
    person = await confirmed(client)

    response = await client.get(person.url("ticket.svg"))

    assert response.status_code == 200
    assert response.headers["content-type"] == "image/svg+xml"
    svg = ElementTree.fromstring(response.content)  # noqa: S314 - our own server's answer
    assert svg.tag == "{http://www.w3.org/2000/svg}svg"


# --- the printable page --------------------------------------------------------------------


async def test_ticket_page_shows_the_event_title(client: httpx.AsyncClient) -> None:
    person = await confirmed(client)

    response = await client.get(person.url("ticket"))

    assert response.status_code == 200
    assert page_of(response.text).texts["h1"] == "Breitband für Schulen"


async def test_ticket_page_shows_the_name_and_organisation(client: httpx.AsyncClient) -> None:
    person = await confirmed(client, name="Anna Beispiel", organisation="Landkreis Meißen")

    html = (await client.get(person.url("ticket"))).text

    assert page_of(html).texts["ticket-name"] == "Anna Beispiel Landkreis Meißen"


async def test_ticket_page_shows_the_code_as_text(client: httpx.AsyncClient) -> None:
    person = await confirmed(client)

    html = (await client.get(person.url("ticket"))).text

    assert page_of(html).texts["ticket-code"] == person.code


async def test_ticket_page_shows_the_qr_image_with_alt_text_naming_the_code(
    client: httpx.AsyncClient,
) -> None:
    person = await confirmed(client)

    html = (await client.get(person.url("ticket"), headers=ENGLISH)).text

    images = [image for image in page_of(html).images if "ticket-qr" in image.get("class", "")]
    assert [(image["src"], image["alt"]) for image in images] == [
        (person.url("ticket.svg"), f"QR code for the check-in: {person.code}")
    ]


async def test_ticket_page_alt_text_is_german_by_default(client: httpx.AsyncClient) -> None:
    person = await confirmed(client)

    html = (await client.get(person.url("ticket"), headers={"Accept-Language": "de"})).text

    alts = [image["alt"] for image in page_of(html).images if image.get("alt")]
    assert f"QR-Code für den Check-in: {person.code}" in alts


@pytest.mark.parametrize("part", TICKET_PARTS)
async def test_ticket_is_neither_stored_nor_shared_by_caches(
    client: httpx.AsyncClient, part: str
) -> None:
    person = await confirmed(client)

    response = await client.get(person.url(part))

    assert response.status_code == 200
    assert response.headers["cache-control"] == "private, no-store"


@pytest.mark.parametrize("part", TICKET_PARTS)
async def test_ticket_is_kept_out_of_search_engines(client: httpx.AsyncClient, part: str) -> None:
    person = await confirmed(client)

    response = await client.get(person.url(part))

    assert response.headers["x-robots-tag"] == "noindex"


# --- who has no ticket ---------------------------------------------------------------------


@pytest.mark.parametrize("part", TICKET_PARTS)
async def test_a_waitlisted_registration_has_no_ticket(
    client: httpx.AsyncClient, part: str
) -> None:
    person = await waitlisted(client)
    assert await status_of(person) == "waitlisted"

    response = await client.get(person.url(part))

    assert response.status_code == 404


@pytest.mark.parametrize("part", TICKET_PARTS)
async def test_a_cancelled_registration_has_no_ticket(client: httpx.AsyncClient, part: str) -> None:
    person = await cancelled(client)
    assert await status_of(person) == "cancelled"

    response = await client.get(person.url(part))

    assert response.status_code == 404


@pytest.mark.parametrize("part", TICKET_PARTS)
async def test_a_pending_registration_has_no_ticket(client: httpx.AsyncClient, part: str) -> None:
    person = await pending(client)
    assert await status_of(person) == "pending"

    response = await client.get(person.url(part))

    assert response.status_code == 404


@pytest.mark.parametrize("part", TICKET_PARTS)
async def test_an_unknown_link_has_no_ticket(client: httpx.AsyncClient, part: str) -> None:
    response = await client.get(f"/registrations/{'A' * 43}/{part}")

    assert response.status_code == 404


@pytest.mark.parametrize("part", IMAGES)
async def test_a_waitlisted_registrations_ticket_image_answers_problem_ticket_not_found(
    client: httpx.AsyncClient, part: str
) -> None:
    person = await waitlisted(client)

    response = await client.get(person.url(part))

    assert response.headers["content-type"] == PROBLEM_JSON
    assert (response.json()["status"], response.json()["code"]) == (404, "ticket_not_found")


@pytest.mark.parametrize("part", IMAGES)
async def test_a_cancelled_registrations_ticket_image_answers_problem_ticket_not_found(
    client: httpx.AsyncClient, part: str
) -> None:
    person = await cancelled(client)

    response = await client.get(person.url(part))

    assert response.headers["content-type"] == PROBLEM_JSON
    assert (response.json()["status"], response.json()["code"]) == (404, "ticket_not_found")


# --- the manage page -----------------------------------------------------------------------


async def test_manage_page_of_a_confirmed_registration_links_the_ticket(
    client: httpx.AsyncClient,
) -> None:
    person = await confirmed(client)

    html = (await client.get(f"/registrations/{person.token}")).text

    assert person.url("ticket") in page_of(html).hrefs


async def test_manage_page_of_a_confirmed_registration_links_the_personal_feed(
    client: httpx.AsyncClient,
) -> None:
    person = await confirmed(client)

    html = (await client.get(f"/registrations/{person.token}")).text

    assert person.url("calendar.ics") in page_of(html).hrefs


async def test_manage_page_of_a_waitlisted_registration_links_no_ticket(
    client: httpx.AsyncClient,
) -> None:
    person = await waitlisted(client)

    html = (await client.get(f"/registrations/{person.token}")).text

    assert [href for href in page_of(html).hrefs if "ticket" in href] == []
