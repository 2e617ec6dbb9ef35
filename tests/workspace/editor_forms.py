"""Steps for the editor tests: a complete event form as a browser sends it, and posting forms."""

from __future__ import annotations

import html as markup
import re
from html.parser import HTMLParser
from typing import Any

import httpx

from tests.sessions import hidden_value

FormData = dict[str, Any]


def event_form(**overrides: Any) -> FormData:
    """Every field of the event form, filled in as a person would (local Berlin times)."""
    fields: FormData = {
        "title": "Wärmeplanung im Quartier",
        "summary": "Wie Kommunen ihre Wärmeplanung beginnen",
        "description": "Erste Zeile\nZweite Zeile",
        "kind": "workshop",
        "format": "hybrid",
        "region": "DE-SN",
        "locality": "Landkreis Görlitz",
        "sectors": ["energy", "administration"],
        "venue_name": "Rathaus",
        "venue_street": "Untermarkt 6",
        "venue_postal_code": "02826",
        "venue_city": "Görlitz",
        "online_url": "https://meet.example.org/waerme",
        "timezone": "Europe/Berlin",
        "starts_at_date": "2030-06-12",
        "starts_at_time": "10:00",
        "ends_at_date": "2030-06-12",
        "ends_at_time": "13:30",
        "capacity": "25",
        "waitlist": "yes",
        "requires_approval": "yes",
        "registration_opens_at_date": "2030-05-01",
        "registration_opens_at_time": "09:00",
        "registration_closes_at_date": "2030-06-10",
        "registration_closes_at_time": "18:00",
        "contact_name": "Petra Orga",
        "contact_email": "petra.orga@landkreis.example",
    }
    fields.update(overrides)
    return {name: value for name, value in fields.items() if value is not None}


async def post_form(
    client: httpx.AsyncClient, page: str, data: FormData, *, action: str | None = None
) -> httpx.Response:
    """Open the page as the browser would, then send its form with the page's hidden fields."""
    html = (await client.get(page)).text
    hidden = {"_csrf_token": hidden_value(html, "_csrf_token")}
    original = re.search(r'<input type="hidden" name="_original" value="([^"]*)">', html)
    if original:
        hidden["_original"] = markup.unescape(original.group(1))
    return await client.post(action or page, data={**hidden, **data})


def hidden_fields(html: str) -> FormData:
    """Every hidden input of the page (repeated names become lists), as a browser resends them."""
    found: FormData = {}
    for name, value in re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', html):
        value = markup.unescape(value)
        if name in found:
            previous = found[name]
            found[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            found[name] = value
    return found


def error_of(html: str, field: str) -> str:
    """The message shown next to the field."""
    match = re.search(rf'<p class="field-error" id="{re.escape(field)}-error">([^<]*)</p>', html)
    assert match, f"no error shown for {field}"
    return match.group(1)


def summary_links(html: str) -> list[str]:
    """The fields the error summary on top links to."""
    summary = re.search(r'<div class="error-summary".*?</div>', html, re.S)
    assert summary, "no error summary"
    return re.findall(r'<a href="#([^"]+)">', summary.group(0))


class _FormReader(HTMLParser):
    """Reads one form's fields as a browser would submit them (buttons aside)."""

    def __init__(self, action: str) -> None:
        super().__init__(convert_charrefs=True)
        self.action = action
        self.inside = False
        self.fields: list[tuple[str, str]] = []
        self.textarea: str | None = None
        self.select: str | None = None
        self.select_value: str | None = None
        self.text = ""

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {name: value or "" for name, value in attrs}
        if tag == "form":
            self.inside = found.get("action") == self.action
        if not self.inside:
            return
        name = found.get("name", "")
        if tag == "input" and name:
            kind = found.get("type", "text")
            if kind not in ("checkbox", "radio") or "checked" in found:
                self.fields.append((name, found.get("value", "on")))
        elif tag == "textarea":
            self.textarea, self.text = name, ""
        elif tag == "select":
            self.select, self.select_value = name, None
        elif (
            tag == "option"
            and self.select is not None
            and (self.select_value is None or "selected" in found)
        ):
            self.select_value = found.get("value", "")

    def handle_data(self, data: str) -> None:
        if self.textarea is not None:
            self.text += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "form":
            self.inside = False
        elif tag == "textarea" and self.textarea is not None:
            self.fields.append((self.textarea, self.text.removeprefix("\n")))
            self.textarea = None
        elif tag == "select" and self.select is not None:
            self.fields.append((self.select, self.select_value or ""))
            self.select = None


def form_fields(html: str, action: str) -> FormData:
    """Every field of the form posting to `action`, as shown; repeated names become lists."""
    reader = _FormReader(action)
    reader.feed(html)
    found: FormData = {}
    for name, value in reader.fields:
        if name in found:
            previous = found[name]
            found[name] = [*previous, value] if isinstance(previous, list) else [previous, value]
        else:
            found[name] = value
    return found
