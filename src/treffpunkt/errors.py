"""Domain errors: a stable code per failure, mapped to HTTP in treffpunkt.web.errors.

Messages are English templates marked with N_ so they are extracted for translation; the
API answers in English, pages show `translated()` in the reader's language.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import Any


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "translate later"
    return message


def _render(template: str, params: dict[str, Any], *, translate: bool) -> str:
    if translate:
        from treffpunkt.i18n import gettext

        template = gettext(template)
    return template % params if params else template


@dataclass
class FieldError:
    field: str
    template: str
    params: dict[str, Any] = dataclasses.field(default_factory=dict)

    @property
    def message(self) -> str:
        return _render(self.template, self.params, translate=False)

    def translated(self) -> str:
        return _render(self.template, self.params, translate=True)


class DomainError(Exception):
    """A rule refused the request; `code` is part of the public contract."""

    code = "domain_error"

    def __init__(self, template: str, *, code: str | None = None, **params: Any) -> None:
        self.template = template
        self.params = params
        super().__init__(self.message)
        if code is not None:
            self.code = code

    @property
    def message(self) -> str:
        return _render(self.template, self.params, translate=False)

    def translated(self) -> str:
        return _render(self.template, self.params, translate=True)


class ValidationFailed(DomainError):
    """Input broke one or more rules; each broken rule names its field."""

    code = "validation_error"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors

    def by_field(self) -> dict[str, str]:
        """The first message per field, in the reader's language, for a page to show there."""
        messages: dict[str, str] = {}
        for error in self.errors:
            messages.setdefault(error.field, error.translated())
        return messages


class Invalid(DomainError):
    """A value is well-formed JSON but means nothing here (a forged ticket, say)."""

    code = "invalid"


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    """The caller is known but may not do this: not their event, or not an admin."""

    code = "forbidden"


class Conflict(DomainError):
    """The request is well-formed but the current state forbids it."""

    code = "conflict"


@dataclass
class ErrorCollector:
    """Gathers every broken rule of one input so the caller sees them all at once."""

    errors: list[FieldError] = dataclasses.field(default_factory=list)

    def add(self, field_name: str, template: str, **params: Any) -> None:
        self.errors.append(FieldError(field_name, template, params))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)
