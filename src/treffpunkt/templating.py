"""The one jinja2 environment for pages and mails; gettext follows the current language.

It belongs to neither the web layer nor the mail worker, so the worker runs without the web app.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape

from treffpunkt import i18n
from treffpunkt.settings import LANGUAGES, TEMPLATES_DIR, get_settings


def query_string(params: dict[str, Any], **changes: Any) -> str:
    """The query string for `params` with `changes` applied, leaving out empty values."""
    merged = {**params, **changes}
    return urlencode({k: v for k, v in merged.items() if v not in (None, "", False)})


def site_url(path: str = "") -> str:
    """An absolute address on this site (TREFFPUNKT_BASE_URL), for feeds, canonical and OG."""
    return get_settings().base_url + path


def build_environment() -> Environment:
    environment = Environment(
        loader=FileSystemLoader(TEMPLATES_DIR),
        autoescape=select_autoescape(["html", "xml"]),
        extensions=["jinja2.ext.i18n"],
        trim_blocks=True,
        lstrip_blocks=True,
    )
    environment.install_gettext_callables(  # type: ignore[attr-defined]
        i18n.gettext, i18n.ngettext, newstyle=True
    )
    environment.globals.update(
        current_language=i18n.current_language.get,
        languages=LANGUAGES,
        format_span=i18n.format_span,
        format_day=i18n.format_day,
        format_short=i18n.format_short,
        query_string=query_string,
        site_url=site_url,
    )
    return environment


ENVIRONMENT = build_environment()
