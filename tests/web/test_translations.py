"""The de and en catalogues are complete, well-formed and really translated.

The msgids are what `make messages` would extract today (Babel's own extractor with the
method map from babel.cfg), so a string added to the code or a template without a
translation fails here until the catalogues are updated.
"""

from __future__ import annotations

import re
import shutil
from collections import Counter
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog, Message
from babel.messages.extract import extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from treffpunkt import i18n
from treffpunkt.settings import LANGUAGES, LOCALE_DIR, PROJECT_ROOT, SettingsError

SOURCE_DIRS = (PROJECT_ROOT / "src", PROJECT_ROOT / "templates")
# `%(name)s`-style placeholders, as Python's %-formatting reads them.
PLACEHOLDER = re.compile(r"%\((?P<name>\w+)\)[#0 +-]*\d*(?:\.\d+)?(?P<type>[diouxXeEfFgGcrsa])")
# Cognates and names that are the same word in German; any other identical msgstr is a copy.
SAME_IN_GERMAN = {
    "Format",
    "Hybrid",
    "Name",
    "Online",
    "Organisation",
    "Region",
    "Status",
    "Check-in",
    "Ticket",
    "Treffpunkt",
    "Workshop",
}

MsgId = str | tuple[str, ...]

# An entry's identity: its optional context and its msgid, each possibly over several lines.
PO_STRING = r'(?:"(?:[^"\\]|\\.)*"\n)+'
PO_KEY = rf"^((?:msgctxt {PO_STRING})?)msgid ({PO_STRING})"


def extracted_msgids() -> set[MsgId]:
    """Every message id `pybabel extract -F babel.cfg … src templates` finds."""
    with (PROJECT_ROOT / "babel.cfg").open() as config:
        method_map, options_map = parse_mapping_cfg(config)
    found: set[MsgId] = set()
    for directory in SOURCE_DIRS:
        for _filename, _lineno, message, _comments, _context in extract_from_dir(
            directory, method_map, options_map
        ):
            found.add(message if isinstance(message, str) else tuple(message))
    return found


def load_catalogue(language: str) -> Catalog:
    path = LOCALE_DIR / language / "LC_MESSAGES" / "messages.po"
    with path.open("rb") as po:
        return read_po(po, locale=language, abort_invalid=True)


def real_messages(catalogue: Catalog) -> list[Message]:
    return [message for message in catalogue if message.id]


def as_tuple(value: str | tuple[str, ...] | list[str]) -> tuple[str, ...]:
    """A message's id or string as a tuple, whether it has plural forms or not."""
    return (value,) if isinstance(value, str) else tuple(value)


def placeholders(text: str) -> set[tuple[str, str]]:
    return {(found["name"], found["type"]) for found in PLACEHOLDER.finditer(text)}


def stray_percent(text: str) -> bool:
    """A `%` that is neither a placeholder nor `%%` breaks newstyle gettext's formatting."""
    return "%" in PLACEHOLDER.sub("", text).replace("%%", "")


def translation_problem(catalogue: Catalog, msgid: MsgId) -> str | None:
    """Why this msgid has no usable translation, or None when it has one."""
    message = catalogue.get(msgid if isinstance(msgid, str) else msgid[0])
    if message is None:
        return "missing"
    if message.fuzzy:
        return "fuzzy"
    if isinstance(msgid, tuple):
        if not isinstance(message.id, tuple) or message.id[1] != msgid[1]:
            return "not a plural entry"
        forms = message.string if isinstance(message.string, tuple) else ()
        if len(forms) != catalogue.num_plurals or not all(forms):
            return f"needs {catalogue.num_plurals} non-empty plural forms"
        return None
    if not isinstance(message.string, str) or not message.string:
        return "empty"
    return None


def test_extraction_finds_messages_in_python_and_templates() -> None:
    msgids = extracted_msgids()

    assert "The email address or the password is wrong." in msgids  # src/…/controllers.py
    assert ("%(num)d place left", "%(num)d places left") in msgids  # templates/events/


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_extracted_message_has_a_translation(language: str) -> None:
    catalogue = load_catalogue(language)

    problems = {
        msgid: problem
        for msgid in extracted_msgids()
        if (problem := translation_problem(catalogue, msgid)) is not None
    }

    assert problems == {}, f"{language}: run `make messages` and translate: {problems}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_parses_with_a_usable_header(language: str) -> None:
    catalogue = load_catalogue(language)

    assert not catalogue.fuzzy  # pybabel compile skips a catalogue whose header is fuzzy
    assert str(catalogue.locale) == language
    assert catalogue.num_plurals == 2
    assert catalogue.plural_expr == "(n != 1)"
    assert real_messages(catalogue)


@pytest.mark.parametrize("language", LANGUAGES)
def test_catalogue_defines_each_message_once(language: str) -> None:
    """Babel quietly keeps the last of two definitions; GNU msgfmt refuses the catalogue."""
    text = (LOCALE_DIR / language / "LC_MESSAGES" / "messages.po").read_text(encoding="utf-8")
    keys = Counter(re.findall(PO_KEY, text, re.MULTILINE))

    assert [key for key, times in keys.items() if times > 1] == []


@pytest.mark.parametrize("language", LANGUAGES)
def test_translations_keep_the_placeholders_of_their_msgid(language: str) -> None:
    mismatches: dict[MsgId, list[str]] = {}
    for message in real_messages(load_catalogue(language)):
        ids = as_tuple(message.id)
        expected = placeholders(ids[-1])
        bad = [
            text
            for text in as_tuple(message.string or "")
            if text and (placeholders(text) != expected or stray_percent(text))
        ]
        if bad or placeholders(ids[0]) != expected:
            mismatches[ids if len(ids) > 1 else ids[0]] = bad or list(ids)

    assert mismatches == {}


@pytest.mark.parametrize(
    ("msgid", "german"),
    [
        ("Events", "Veranstaltungen"),
        ("Networking meeting", "Netzwerktreffen"),
        ("Registration", "Anmeldung"),
        ("Fully booked: waiting list open", "Ausgebucht – Warteliste offen"),
        ("Signed in as %(email)s.", "Angemeldet als %(email)s."),
        ("You do not manage any events yet.", "Sie verwalten noch keine Veranstaltungen."),
    ],
)
def test_german_catalogue_translates_known_string(msgid: str, german: str) -> None:
    message = load_catalogue("de").get(msgid)

    assert message is not None
    assert message.string == german


def test_german_plural_entry_has_singular_and_plural_forms() -> None:
    message = load_catalogue("de").get("%(num)d place left")

    assert message is not None
    assert message.string == ("Noch %(num)d Platz frei", "Noch %(num)d Plätze frei")


def test_german_catalogue_is_not_a_copy_of_english() -> None:
    copied = {
        message.id
        for message in real_messages(load_catalogue("de"))
        if message.string == message.id
    }

    assert copied <= SAME_IN_GERMAN, f"untranslated in de: {copied - SAME_IN_GERMAN}"


def test_english_catalogue_repeats_its_msgids() -> None:
    differing = {
        message.id: message.string
        for message in real_messages(load_catalogue("en"))
        if message.string != message.id
    }

    assert differing == {}


def test_a_language_without_its_catalogue_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    english = tmp_path / "en" / "LC_MESSAGES"
    english.mkdir(parents=True)
    shutil.copy(LOCALE_DIR / "en" / "LC_MESSAGES" / "messages.po", english)
    monkeypatch.setattr(i18n, "LOCALE_DIR", tmp_path)
    i18n.translations.cache_clear()
    try:
        with pytest.raises(SettingsError, match="no usable catalogue for the language 'de'"):
            i18n.check_catalogues()
    finally:
        i18n.translations.cache_clear()


def test_runtime_gettext_reads_the_compiled_german_catalogue() -> None:
    with i18n.language("de"):
        assert i18n.gettext("Workshops and networking meetings") == (
            "Workshops und Netzwerktreffen"
        )
        assert i18n.ngettext("%(num)d event found", "%(num)d events found", 1) == (
            "%(num)d Veranstaltung gefunden"
        )
        assert i18n.ngettext("%(num)d event found", "%(num)d events found", 3) == (
            "%(num)d Veranstaltungen gefunden"
        )
