"""The questions editors' rows: read from the form, moved, and turned into the API's Structs.

Without JavaScript the page edits a list by re-rendering it: "add another", up, down and
remove are submit buttons that come back with the rows changed, and only "save" stores them.
The custom registration questions and the feedback questions share these rows; each editor
names its blank row, its limit and the Struct a row becomes.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

from msgspec import Struct

from treffpunkt.errors import ErrorCollector, ValidationFailed
from treffpunkt.registrations.schemas import QuestionSpec
from treffpunkt.text import slugify
from treffpunkt.workspace.event_form import decoded

Row = dict[str, Any]
S = TypeVar("S", bound=Struct)
MAX_ROWS = 50
BLANK_ROWS = 1
ROW_FIELDS = ("key", "label", "kind", "help_text", "options")
_MOVE = re.compile(r"^(up|down|remove)-(\d+)$")


def blank_row() -> Row:
    return {
        "key": "",
        "label": "",
        "kind": "short_text",
        "help_text": "",
        "options": "",
        "required": False,
    }


def row_of(question: QuestionSpec) -> Row:
    return {
        "key": question.key,
        "label": question.label,
        "kind": question.kind,
        "help_text": question.help_text,
        "options": "\n".join(question.options),
        "required": question.required,
    }


def with_blanks(
    rows: list[Row],
    blanks: int = BLANK_ROWS,
    *,
    blank: Callable[[], Row] = blank_row,
    limit: int = MAX_ROWS,
) -> list[Row]:
    return rows + [blank() for _ in range(min(blanks, limit - len(rows)))]


def _text(form: Any, name: str) -> str:
    value = form.get(name)
    return value if isinstance(value, str) else ""


def submitted_rows(form: Any) -> list[Row]:
    """The rows as typed, in the order shown."""
    count = _text(form, "rows")
    rows = []
    for index in range(min(int(count) if count.isdigit() else 0, MAX_ROWS)):
        row: Row = {name: _text(form, f"questions-{index}-{name}") for name in ROW_FIELDS}
        row["required"] = _text(form, f"questions-{index}-required") == "yes"
        rows.append(row)
    return rows


def is_blank(row: Row) -> bool:
    return not any(str(row[name]).strip() for name in ("label", "help_text", "options"))


def rearranged(
    rows: list[Row],
    action: str,
    *,
    blank: Callable[[], Row] = blank_row,
    limit: int = MAX_ROWS,
) -> list[Row] | None:
    """The rows after "add", "up-N", "down-N" or "remove-N"; None for any other action."""
    if action == "add":
        return with_blanks(rows, blank=blank, limit=limit)
    move = _MOVE.match(action)
    if not move or int(move[2]) >= len(rows):
        return None
    what, index = move[1], int(move[2])
    rows = list(rows)
    if what == "remove":
        del rows[index]
    else:
        other = index - 1 if what == "up" else index + 1
        if 0 <= other < len(rows):
            rows[index], rows[other] = rows[other], rows[index]
    return rows


def _new_key(label: str, taken: set[str]) -> str:
    """A key for a new question from its label: answers are stored under it for good."""
    base = slugify(label, 40).replace("-", "_") or "question"
    base = base if base[0].isalpha() else f"q_{base}"
    key, number = base, 2
    while key in taken:
        key, number = f"{base}_{number}", number + 1
    return key


def specs_from(
    rows: list[Row], spec: type[S], payload: Callable[[Row], dict[str, Any]]
) -> tuple[list[S], list[int]]:
    """The filled rows as `spec` Structs, and the row each one came from.

    A new row's key is made from its label. Every row is decoded with the API's limits from
    its `payload`; the problems of all rows raise together.
    """
    filled = [index for index, row in enumerate(rows) if not is_blank(row)]
    taken = {rows[index]["key"] for index in filled if rows[index]["key"]}
    problems = ErrorCollector()
    specs = []
    for index in filled:
        row = rows[index]
        key = row["key"] or _new_key(row["label"], taken)
        taken.add(key)
        try:
            specs.append(decoded({"key": key, **payload(row)}, spec))
        except ValidationFailed as failed:
            for error in failed.errors:
                error.field = f"questions-{index}-{error.field}"
                problems.errors.append(error)
    problems.raise_if_any()
    return specs, filled


def _question_payload(row: Row) -> dict[str, Any]:
    return {
        "kind": row["kind"],
        "label": row["label"].strip(),
        "help_text": row["help_text"],
        "options": [line.strip() for line in row["options"].splitlines() if line.strip()],
        "required": row["required"],
    }


def questions_from(rows: list[Row]) -> tuple[list[QuestionSpec], list[int]]:
    """The filled rows as the API's QuestionSpecs, and the row each one came from."""
    return specs_from(rows, QuestionSpec, _question_payload)


def row_errors(failed: ValidationFailed, filled: list[int]) -> dict[str, str]:
    """The service's `questions[n].field` errors, named by the form row they came from."""
    errors: dict[str, str] = {}
    for error in failed.errors:
        field = error.field
        match = re.match(r"^questions\[(\d+)\]\.(\w+)$", field)
        if match and int(match[1]) < len(filled):
            field = f"questions-{filled[int(match[1])]}-{match[2]}"
        errors.setdefault(field, error.translated())
    return errors


def anchor(field: str) -> str:
    """Where the summary links for a row's field: a key is named by its question's label."""
    return field.removesuffix("-key") + "-label" if field.endswith("-key") else field
