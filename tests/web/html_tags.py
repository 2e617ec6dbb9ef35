"""Every start tag of a page with its attributes: enough to check heads, links and sources."""

from __future__ import annotations

from html.parser import HTMLParser


class _Tags(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.found: list[tuple[str, dict[str, str]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, {k: v or "" for k, v in attrs}))


def tags(html: str, name: str | None = None, **wanted: str) -> list[dict[str, str]]:
    """The attributes of each `name` tag (any tag without it) whose attributes match `wanted`."""
    parser = _Tags()
    parser.feed(html)
    parser.close()
    return [
        attrs
        for tag, attrs in parser.found
        if (name is None or tag == name) and all(attrs.get(k) == v for k, v in wanted.items())
    ]


def meta(html: str, key: str) -> str | None:
    """The content of <meta property=key> or <meta name=key>."""
    for attrs in tags(html, "meta"):
        if key in (attrs.get("property"), attrs.get("name")):
            return attrs.get("content")
    return None
