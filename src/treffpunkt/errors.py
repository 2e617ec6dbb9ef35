"""Domain errors: a stable code per failure, mapped to HTTP in treffpunkt.web.errors."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class FieldError:
    field: str
    message: str


class DomainError(Exception):
    """A rule refused the request; `code` is part of the public contract."""

    code = "domain_error"

    def __init__(self, message: str, *, code: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class ValidationFailed(DomainError):
    """Input broke one or more rules; each broken rule names its field."""

    code = "validation_error"

    def __init__(self, errors: list[FieldError]) -> None:
        super().__init__("; ".join(f"{e.field}: {e.message}" for e in errors))
        self.errors = errors

    @classmethod
    def single(cls, field_name: str, message: str) -> ValidationFailed:
        return cls([FieldError(field_name, message)])


class NotFound(DomainError):
    code = "not_found"


class Conflict(DomainError):
    """The request is well-formed but the current state forbids it."""

    code = "conflict"


@dataclass
class ErrorCollector:
    """Gathers every broken rule of one input so the caller sees them all at once."""

    errors: list[FieldError] = field(default_factory=list)

    def add(self, field_name: str, message: str) -> None:
        self.errors.append(FieldError(field_name, message))

    def raise_if_any(self) -> None:
        if self.errors:
            raise ValidationFailed(self.errors)
