"""The registration API's shapes."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from msgspec import UNSET, Meta, Struct, UnsetType

from treffpunkt.addresses import EmailAddress
from treffpunkt.inputs import Line, Text

StakeholderGroup = Literal[
    "public_administration",
    "politics",
    "business",
    "business_development",
    "municipal_company",
    "business_association",
    "regional_association",
    "research_education",
    "civil_society",
    "other",
]
STAKEHOLDER_GROUPS: tuple[str, ...] = StakeholderGroup.__args__  # type: ignore[attr-defined]
Language = Literal["de", "en"]
Status = Literal["pending", "confirmed", "waitlisted", "declined", "cancelled"]
STATUSES: tuple[str, ...] = Status.__args__  # type: ignore[attr-defined]
Attendance = Literal["attended", "no_show"]
QuestionKind = Literal["short_text", "long_text", "single_choice", "multiple_choice", "yes_no"]
QUESTION_KINDS: tuple[str, ...] = QuestionKind.__args__  # type: ignore[attr-defined]

PersonName = Annotated[Line, Meta(min_length=1, max_length=200)]
Organisation = Annotated[Line, Meta(min_length=1, max_length=200)]
Role = Annotated[Line, Meta(max_length=200)]
Notes = Annotated[Text, Meta(max_length=2_000)]
AnswerValue = str | bool | list[str]
# Any JSON per answer: the question's own rules judge it, naming the answer that is wrong.
AnyAnswer = Any
Options = Annotated[list[Annotated[Line, Meta(min_length=1, max_length=300)]], Meta(max_length=50)]
Answers = Annotated[dict[Annotated[Line, Meta(max_length=60)], AnyAnswer], Meta(max_length=50)]


class RegistrationForm(Struct, kw_only=True, forbid_unknown_fields=True):
    """What a person sends to register; `consent` to the privacy notice must be true."""

    name: PersonName
    email: EmailAddress
    organisation: Organisation
    stakeholder_group: StakeholderGroup
    consent: bool
    role: Role = ""
    notes: Notes = ""
    answers: Answers = {}
    language: Language = "de"


class ManualRegistration(RegistrationForm, kw_only=True, forbid_unknown_fields=True):
    """An organiser adds someone by hand; beyond capacity only when they say so."""

    exceed_capacity: bool = False


class RegistrationChange(Struct, kw_only=True, forbid_unknown_fields=True):
    name: PersonName | UnsetType = UNSET
    organisation: Organisation | UnsetType = UNSET
    role: Role | UnsetType = UNSET
    notes: Notes | UnsetType = UNSET
    answers: Answers | UnsetType = UNSET
    language: Language | UnsetType = UNSET


class OrganiserDecision(Struct, kw_only=True, forbid_unknown_fields=True):
    exceed_capacity: bool = False


class Receipt(Struct, kw_only=True):
    """The answer to a registration: what anyone registering now is told.

    It is the same for an address that holds a registration already: whether it does, and
    the secret link, go only to the person's mailbox.
    """

    event: str
    status: Status
    waitlist_position: int | None
    # Double opt-in: the place is held until the address is confirmed from the mail.
    address_confirmation_required: bool
    message: str


class EventSummary(Struct, kw_only=True):
    slug: str
    title: str
    starts_at: datetime
    ends_at: datetime
    timezone: str
    status: str
    url: str


class PersonOut(Struct, kw_only=True):
    """What a registration says about its person, for the person and for the organisers."""

    name: str
    email: str
    organisation: str
    stakeholder_group: str
    role: str
    notes: str
    answers: dict[str, AnswerValue]
    language: str
    status: Status
    waitlist_position: int | None
    checked_in_at: datetime | None
    created_at: datetime
    consent_at: datetime
    # The version of the privacy notice agreed to (shown on /privacy).
    consent_version: str
    # Double opt-in: until then the place is only held; null once the address is confirmed.
    unconfirmed_until: datetime | None


class RegistrationOut(PersonOut, kw_only=True):
    event: EventSummary


class RosterRow(PersonOut, kw_only=True):
    id: int
    added_by_organiser: bool
    attendance: Attendance | None = None
    mail_problem: str | None = None


class RosterPage(Struct, kw_only=True):
    items: list[RosterRow]
    total: int
    limit: int
    offset: int


class QuestionSpec(Struct, kw_only=True, forbid_unknown_fields=True):
    """One custom question; `options` are the choices of single and multiple choice."""

    key: Annotated[str, Meta(pattern=r"^[a-z][a-z0-9_]{0,59}$")]
    kind: QuestionKind
    label: Annotated[Line, Meta(min_length=1, max_length=300)]
    help_text: Annotated[Text, Meta(max_length=500)] = ""
    options: Options = []
    required: bool = False
