"""Languages: the per-request language, gettext catalogues and locale-aware formatting.

The language lives in a ContextVar so that concurrent requests (and mails rendered by the
worker) never see each other's language; nothing is installed globally per request.
"""

from __future__ import annotations

import gettext as gettext_module
import io
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import datetime
from functools import cache

from babel import Locale, UnknownLocaleError
from babel.dates import format_date, format_time, get_datetime_format
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po

from treffpunkt.settings import DEFAULT_LANGUAGE, LANGUAGES, LOCALE_DIR, SettingsError

DOMAIN = "messages"
current_language: ContextVar[str] = ContextVar("current_language", default=DEFAULT_LANGUAGE)


@cache
def translations(language: str) -> gettext_module.GNUTranslations:
    """The language's catalogue, compiled in memory from its `.po` file once per process.

    Read from the source catalogue rather than a `.mo` that only `make` builds, so that a
    wheel, `pip install .` and a checkout all speak every language. A missing catalogue is
    an error, never a silent fall back to English.
    """
    path = LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"
    try:
        with path.open("rb") as po:
            catalogue = read_po(po, locale=language, abort_invalid=True)
    except (OSError, PoFileError) as error:
        raise SettingsError(
            f"no usable catalogue for the language {language!r}: {error}"
        ) from error
    compiled = io.BytesIO()
    write_mo(compiled, catalogue, use_fuzzy=False)
    compiled.seek(0)
    return gettext_module.GNUTranslations(compiled)


def check_catalogues() -> None:
    """Refuse to start when a language in LANGUAGES has no catalogue."""
    for language in LANGUAGES:
        translations(language)


def gettext(message: str) -> str:
    return translations(current_language.get()).gettext(message)


def ngettext(singular: str, plural: str, n: int) -> str:
    return translations(current_language.get()).ngettext(singular, plural, n)


def supported(language: str | None) -> str | None:
    """The supported language a code such as "de-AT" or "EN" stands for, if any."""
    if not language:
        return None
    code = language.strip().lower().replace("_", "-").split("-")[0]
    return code if code in LANGUAGES else None


def negotiate(accept_language: str | None) -> str:
    """Pick de or en from an Accept-Language header, honouring its q-values."""
    if not accept_language:
        return DEFAULT_LANGUAGE
    weighted: list[tuple[float, int, str]] = []
    for position, part in enumerate(accept_language.split(",")):
        tag, _, params = (piece.strip() for piece in part.partition(";"))
        tag, params = tag.replace("_", "-"), params.lower()
        try:
            quality = float(params.removeprefix("q=")) if params else 1.0
        except ValueError:
            continue
        if tag and tag != "*" and quality > 0:
            weighted.append((-quality, position, tag))
    preferences = [tag for *_, tag in sorted(weighted)]
    try:
        chosen = Locale.negotiate(preferences, list(LANGUAGES), sep="-")
    except (UnknownLocaleError, ValueError):
        chosen = None
    return chosen.language if chosen else DEFAULT_LANGUAGE


@contextmanager
def language(code: str) -> Iterator[None]:
    """Render something (a mail, say) in one person's language, whatever the request's is."""
    token = current_language.set(supported(code) or DEFAULT_LANGUAGE)
    try:
        yield
    finally:
        current_language.reset(token)


def format_day(moment: datetime) -> str:
    return format_date(moment, "full", locale=current_language.get())


def format_short(moment: datetime) -> str:
    """Date and clock time to the minute: seconds mean nothing to people planning a day."""
    locale = current_language.get()
    pattern = str(get_datetime_format("medium", locale=locale))
    return pattern.format(
        format_time(moment, "short", locale=locale), format_date(moment, "medium", locale=locale)
    )


def format_clock(moment: datetime) -> str:
    return format_time(moment, "short", locale=current_language.get())


def format_span(start: datetime, end: datetime) -> str:
    """A human span in the times' own zone: one day with two clock times, or two dates."""
    zone = start.tzname() or ""
    if start.date() == end.date():
        return f"{format_day(start)}, {format_clock(start)}–{format_clock(end)} {zone}".strip()
    return f"{format_short(start)} – {format_short(end)} {zone}".strip()
