"""Steps for the editor tests: a complete event form as a browser sends it, and posting forms."""

from __future__ import annotations

import html as markup
import re
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
