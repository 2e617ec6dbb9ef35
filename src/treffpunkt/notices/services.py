"""The privacy notice and the legal notice: the operator's own files, or our template.

Each notice is rendered once per process in every language. Its version is a hash of all
its languages' text, so any change of wording (a new file, another operator setting, a
corrected translation) gives a new version; a registration keeps the version its person
agreed to.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

from markdown_it import MarkdownIt
from markupsafe import Markup

from treffpunkt.i18n import language
from treffpunkt.settings import LANGUAGES, SettingsError, get_settings
from treffpunkt.templating import ENVIRONMENT

NoticeKind = Literal["privacy", "legal"]
NOTICE_KINDS: tuple[NoticeKind, ...] = ("privacy", "legal")
LANGUAGE_PLACEHOLDER = "{language}"


@dataclass(frozen=True)
class Notice:
    kind: NoticeKind
    bodies: dict[str, Markup]
    version: str

    def body(self, in_language: str) -> Markup:
        return self.bodies[in_language]


def _from_file(path_pattern: str, in_language: str) -> Markup:
    """The operator's file for this language: Markdown (`.md`) or trusted HTML."""
    path = Path(path_pattern.replace(LANGUAGE_PLACEHOLDER, in_language))
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise SettingsError(f"the notice file {path} cannot be read: {error}") from error
    if path.suffix.lower() in (".md", ".markdown"):
        # The operator's own text, but Markdown needs no raw HTML: keep it out.
        return Markup(MarkdownIt("commonmark", {"html": False}).render(text))  # noqa: S704
    return Markup(text)  # noqa: S704 - the operator's own file, trusted like a template


def _from_template(kind: NoticeKind, in_language: str) -> Markup:
    settings = get_settings()
    with language(in_language):
        return Markup(  # noqa: S704 - rendered by the autoescaping environment
            ENVIRONMENT.get_template(f"notices/_{kind}.html").render(
                operator_name=settings.operator_name,
                operator_address=[
                    line.strip() for line in settings.operator_address.split(";") if line.strip()
                ],
                operator_email=settings.operator_email,
                privacy_contact=settings.privacy_contact,
                base_url=settings.base_url,
            )
        )


def _version(bodies: dict[str, Markup]) -> str:
    digest = hashlib.sha256()
    for code in sorted(bodies):
        digest.update(f"{code}\0{bodies[code]}\0".encode())
    return digest.hexdigest()[:12]


@cache
def notice(kind: NoticeKind) -> Notice:
    """The notice in every language, with its version; read once per process."""
    settings = get_settings()
    path = settings.privacy_notice_file if kind == "privacy" else settings.legal_notice_file
    bodies = {
        code: _from_file(path, code) if path else _from_template(kind, code) for code in LANGUAGES
    }
    return Notice(kind=kind, bodies=bodies, version=_version(bodies))


def privacy_version() -> str:
    """The version of the privacy notice a person agrees to right now."""
    return notice("privacy").version
