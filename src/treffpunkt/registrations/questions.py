"""Custom questions per event, and checking the answers people give."""

from __future__ import annotations

import json
from typing import Any

from treffpunkt.audit.services import record
from treffpunkt.db import write_transaction
from treffpunkt.errors import N_, ErrorCollector
from treffpunkt.registrations.schemas import QuestionSpec
from treffpunkt.registrations.tables import Question

SHORT_TEXT_LIMIT = 200
LONG_TEXT_LIMIT = 2_000
CHOICE_KINDS = ("single_choice", "multiple_choice")


async def questions_of(event_id: int) -> list[QuestionSpec]:
    rows = (
        await Question.select()
        .where(Question.event == event_id)
        .order_by(Question.position)
        .output(load_json=True)
    )
    return [
        QuestionSpec(
            key=row["key"],
            kind=row["kind"],
            label=row["label"],
            help_text=row["help_text"],
            options=row["options"],
            required=row["required"],
        )
        for row in rows
    ]


def check_questions(questions: list[QuestionSpec]) -> None:
    problems = ErrorCollector()
    seen: set[str] = set()
    for index, question in enumerate(questions):
        where = f"questions[{index}]"
        if question.key in seen:
            problems.add(f"{where}.key", N_("the key %(key)s is used twice"), key=question.key)
        seen.add(question.key)
        if question.kind in CHOICE_KINDS:
            if len(question.options) < 2:
                problems.add(f"{where}.options", N_("a choice needs at least two options"))
            if len(set(question.options)) != len(question.options):
                problems.add(f"{where}.options", N_("lists an option twice"))
        elif question.options:
            problems.add(f"{where}.options", N_("only choices have options"))
    problems.raise_if_any()


async def replace_questions(event_id: int, questions: list[QuestionSpec]) -> list[QuestionSpec]:
    """Set the event's questions; answers already given stay with their registrations."""
    check_questions(questions)
    async with write_transaction():
        current = await questions_of(event_id)
        if current != questions:
            await record(
                "event.questions_replaced",
                event=event_id,
                changes={"questions": [[q.key for q in current], [q.key for q in questions]]},
            )
        await Question.delete().where(Question.event == event_id)
        if questions:
            await Question.insert(
                *[
                    Question(
                        event=event_id,
                        position=position,
                        key=q.key,
                        kind=q.kind,
                        label=q.label.strip(),
                        help_text=q.help_text.strip(),
                        options=json.dumps(q.options),
                        required=q.required,
                    )
                    for position, q in enumerate(questions)
                ]
            )
    return await questions_of(event_id)


def _is_blank(value: Any) -> bool:
    return value is None or value == "" or value == []


def _checked(question: QuestionSpec, value: Any, problems: ErrorCollector) -> Any:
    field = f"answers.{question.key}"
    if question.kind in ("short_text", "long_text"):
        limit = SHORT_TEXT_LIMIT if question.kind == "short_text" else LONG_TEXT_LIMIT
        if not isinstance(value, str):
            problems.add(field, N_("must be text"))
        elif len(value) > limit:
            problems.add(field, N_("must be at most %(limit)d characters long"), limit=limit)
        else:
            return value.strip()
    elif question.kind == "yes_no":
        if not isinstance(value, bool):
            problems.add(field, N_("must be true or false"))
        else:
            return value
    elif question.kind == "single_choice":
        if not isinstance(value, str) or value not in question.options:
            problems.add(field, N_("must be one of: %(value)s"), value=", ".join(question.options))
        else:
            return value
    else:
        if (
            not isinstance(value, list)
            or not all(isinstance(v, str) for v in value)
            or not set(value) <= set(question.options)
        ):
            problems.add(
                field, N_("must be a list of: %(value)s"), value=", ".join(question.options)
            )
        elif len(set(value)) != len(value):
            problems.add(field, N_("names an option twice"))
        else:
            return [option for option in question.options if option in value]
    return None


def checked_answers(
    questions: list[QuestionSpec], answers: dict[str, Any], problems: ErrorCollector
) -> dict[str, Any]:
    """The answers in canonical form; every broken rule goes to `problems`."""
    known = {q.key for q in questions}
    for key in sorted(set(answers) - known):
        problems.add(f"answers.{key}", N_("is not a question of this event"))
    result: dict[str, Any] = {}
    for question in questions:
        value = answers.get(question.key)
        if _is_blank(value):
            if question.required:
                problems.add(f"answers.{question.key}", N_("is required"))
            continue
        assert value is not None
        checked = _checked(question, value, problems)
        if checked is not None:
            result[question.key] = checked
    return result
