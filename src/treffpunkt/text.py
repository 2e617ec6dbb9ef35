"""Text helpers shared by search and slugs, so both fold German the same way."""

from __future__ import annotations

import re
import unicodedata

_GERMAN = str.maketrans(
    {"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "Ä": "Ae", "Ö": "Oe", "Ü": "Ue"}
)


def fold(text: str) -> str:
    """Case- and accent-insensitive form: "Mobilität" and "MOBILITAT" fold alike."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def searchable(text: str) -> str:
    """Folded twice, so both "Mobilität" spellings match: "mobilitat" and "mobilitaet"."""
    plain = fold(text)
    transliterated = fold(text.translate(_GERMAN))
    return plain if plain == transliterated else f"{plain} {transliterated}"


def slugify(text: str, max_length: int = 80) -> str:
    ascii_text = fold(text.translate(_GERMAN)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", ascii_text).strip("-")[:max_length].rstrip("-")


def is_blank(text: str) -> bool:
    """Nothing a reader would see: spaces and invisible format characters (zero-width space,
    joiners, word joiner, byte-order mark) only."""
    return all(c.isspace() or unicodedata.category(c) == "Cf" for c in text)
