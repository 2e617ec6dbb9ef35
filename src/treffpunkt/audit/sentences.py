"""Entries as sentences in the reader's language: "Anna Beispiel changed the capacity …".

Moments are shown in the zone given (an event's own, or the default for an account's
history); registrations by roster number and their name while it is still stored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo

from treffpunkt.audit.services import Entry
from treffpunkt.errors import N_
from treffpunkt.i18n import format_short, gettext

MOMENT_FIELDS = frozenset(
    {"starts_at", "ends_at", "registration_opens_at", "registration_closes_at", "checked_in_at"}
)

FIELD_LABELS = {
    "title": N_("title"),
    "summary": N_("summary"),
    "description": N_("description"),
    "kind": N_("kind"),
    "format": N_("format"),
    "region": N_("region"),
    "locality": N_("locality"),
    "venue_name": N_("venue"),
    "venue_street": N_("street"),
    "venue_postal_code": N_("postal code"),
    "venue_city": N_("city"),
    "online_url": N_("online link"),
    "starts_at": N_("start"),
    "ends_at": N_("end"),
    "timezone": N_("time zone"),
    "capacity": N_("capacity"),
    "waitlist": N_("waiting list"),
    "requires_approval": N_("approval"),
    "registration_opens_at": N_("registration opening"),
    "registration_closes_at": N_("registration deadline"),
    "contact_name": N_("contact name"),
    "contact_email": N_("contact address"),
    "sectors": N_("sectors"),
    "status": N_("status"),
    "waitlist_position": N_("waiting-list position"),
    "checked_in_at": N_("check-in"),
    "name": N_("name"),
    "email": N_("email address"),
    "organisation": N_("organisation"),
    "stakeholder_group": N_("stakeholder group"),
    "role": N_("role"),
    "notes": N_("notes"),
    "answers": N_("answers"),
    "language": N_("language"),
}

STATUS_LABELS = {
    "draft": N_("draft"),
    "published": N_("published"),
    "cancelled": N_("cancelled"),
    "pending": N_("pending"),
    "confirmed": N_("confirmed"),
    "waitlisted": N_("waitlisted"),
    "declined": N_("declined"),
}

# One sentence per action; %(field)s-wise changes of an event edit are spelled out below.
SENTENCES = {
    "event.created": N_("%(actor)s created the event"),
    "event.published": N_("%(actor)s published the event"),
    "event.cancelled": N_("%(actor)s cancelled the event"),
    "event.deleted": N_("%(actor)s deleted the draft"),
    "event.duplicated": N_("%(actor)s duplicated the event as %(copy)s"),
    "event.series_created": N_("%(actor)s created further dates from the event: %(copies)s"),
    "event.co_organiser_added": N_("%(actor)s added %(account)s as a co-organiser"),
    "event.co_organiser_removed": N_("%(actor)s removed %(account)s as a co-organiser"),
    "event.questions_replaced": N_("%(actor)s changed the registration questions"),
    "event.feedback_questions_replaced": N_("%(actor)s changed the feedback questions"),
    "event.message_sent": N_("%(actor)s sent a message to %(recipients)s confirmed registrants"),
    "registration.registered": N_("%(registration)s registered (%(status)s)"),
    "registration.changed": N_("%(registration)s changed their %(fields)s"),
    "registration.cancelled": N_("%(actor)s cancelled %(registration)s"),
    "registration.declined": N_("%(actor)s declined %(registration)s"),
    "registration.approved": N_("%(actor)s approved %(registration)s (%(status)s)"),
    "registration.moved_up": N_(
        "%(actor)s moved %(registration)s up the waiting list from %(before)s to %(after)s"
    ),
    "registration.promoted": N_("%(actor)s gave %(registration)s a seat from the waiting list"),
    "registration.promoted_from_waitlist": N_(
        "%(registration)s got a freed seat from the waiting list"
    ),
    "registration.added": N_("%(actor)s added %(registration)s (%(status)s)"),
    "registration.walk_in": N_("%(actor)s added %(registration)s as a walk-in"),
    "registration.checked_in": N_("%(actor)s checked in %(registration)s"),
    "registration.check_in_undone": N_("%(actor)s undid the check-in of %(registration)s"),
    "registration.erased": N_("%(actor)s erased the personal data of registration #%(number)s"),
    "event.personal_data_anonymised": N_(
        "%(actor)s anonymised the personal data of %(count)s registrations (retention)"
    ),
    "registration.feedback_given": N_("%(registration)s gave feedback"),
    "registration.address_confirmed": N_("%(registration)s confirmed their email address"),
    "registration.hold_released": N_(
        "%(actor)s released the place of %(registration)s: the address was not confirmed in time"
    ),
    "account.created": N_("%(actor)s created the account of %(account)s"),
    "account.invited": N_("%(actor)s invited %(account)s"),
    "account.invitation_resent": N_("%(actor)s sent %(account)s a new invitation"),
    "account.invitation_accepted": N_("%(account)s accepted the invitation and set a password"),
    "account.deactivated": N_("%(actor)s deactivated the account of %(account)s"),
    "account.reactivated": N_("%(actor)s reactivated the account of %(account)s"),
    "account.admin_granted": N_("%(actor)s made %(account)s an admin"),
    "account.admin_removed": N_("%(actor)s removed the admin rights of %(account)s"),
    "account.password_changed": N_("%(actor)s changed the password of %(account)s"),
    "account.password_set": N_("%(actor)s set a new password for %(account)s"),
    "account.password_reset": N_("%(account)s set a new password through a mailed link"),
    "account.token_created": N_("%(actor)s created API token %(token)s of %(account)s"),
    "account.token_revoked": N_("%(actor)s revoked API token %(token)s of %(account)s"),
    "account.signed_out_everywhere": N_("%(actor)s signed %(account)s out everywhere"),
}
CHANGED = N_("%(actor)s changed the %(field)s from %(before)s to %(after)s")
CHANGED_UNQUOTED = N_("%(actor)s changed the %(field)s")
CANCELLED_BY_REGISTRANT = N_("%(registration)s cancelled their registration")
ERASED_BY_REGISTRANT = N_("The person of registration #%(number)s erased their personal data")
CANCELLATION_REASON = N_("Reason: %(reason)s")

ACTOR_KINDS = {
    "registrant": N_("a registrant"),
    "system": N_("Treffpunkt"),
    "operator": N_("an operator (command line)"),
    "organiser": N_("a former organiser"),
    "admin": N_("a former admin"),
}


def _value(field: str, value: Any, zone: ZoneInfo) -> str:
    if value is None:
        return gettext(N_("unlimited")) if field == "capacity" else "–"
    if isinstance(value, bool):
        return gettext(N_("yes")) if value else gettext(N_("no"))
    if field in MOMENT_FIELDS and isinstance(value, str):
        return format_short(datetime.fromisoformat(value).astimezone(zone))
    if field == "status":
        return gettext(STATUS_LABELS.get(str(value), str(value)))
    if isinstance(value, list):
        return ", ".join(str(item) for item in value) or "–"
    return str(value)


def _field(name: str) -> str:
    return gettext(FIELD_LABELS[name]) if name in FIELD_LABELS else name


def actor_name(entry: Entry) -> str:
    if entry.actor_name:
        return entry.actor_name
    return gettext(ACTOR_KINDS.get(entry.actor_kind, entry.actor_kind))


def registration_name(entry: Entry) -> str:
    if entry.registration_name:
        return f"{entry.registration_name} (#{entry.registration_id})"
    return gettext(N_("an erased registration"))


def _after(entry: Entry, field: str) -> Any:
    change = entry.changes.get(field)
    return change[1] if isinstance(change, list) else None


def sentences(entry: Entry, zone: ZoneInfo) -> list[str]:
    """What the entry says, as one sentence or (an event edit) one per changed field."""
    params: dict[str, Any] = {
        "actor": actor_name(entry),
        "account": entry.account_name or gettext(N_("a deleted account")),
        "registration": registration_name(entry),
        "status": _value("status", _after(entry, "status"), zone),
        "copy": _after(entry, "copy") or "",
        "copies": _value("copies", _after(entry, "copies"), zone),
        "recipients": _after(entry, "recipients") or 0,
        "token": f"#{_after(entry, 'token') or (entry.changes.get('token') or [None])[0]}",
        "fields": ", ".join(_field(name) for name in sorted(entry.changes)),
        "number": entry.registration_id,
        "count": _after(entry, "registrations") or 0,
    }
    position = entry.changes.get("waitlist_position")
    if isinstance(position, list):
        params["before"], params["after"] = position
    if entry.action == "event.changed":
        return [
            _change(params["actor"], name, change, zone) for name, change in entry.changes.items()
        ]
    if entry.action == "registration.cancelled" and entry.actor_kind == "registrant":
        return [gettext(CANCELLED_BY_REGISTRANT) % params]
    if entry.action == "registration.erased" and entry.actor_kind == "registrant":
        return [gettext(ERASED_BY_REGISTRANT) % params]
    template = SENTENCES.get(entry.action)
    said = [gettext(template) % params if template else entry.action]
    reason = _after(entry, "reason")
    if reason:
        said.append(gettext(CANCELLATION_REASON) % {"reason": reason})
    return said


def _change(actor: str, name: str, change: Any, zone: ZoneInfo) -> str:
    if not isinstance(change, list):
        return gettext(CHANGED_UNQUOTED) % {"actor": actor, "field": _field(name)}
    before, after = change
    return gettext(CHANGED) % {
        "actor": actor,
        "field": _field(name),
        "before": _value(name, before, zone),
        "after": _value(name, after, zone),
    }


def local_time(entry: Entry, zone: ZoneInfo) -> str:
    return format_short(entry.at.astimezone(zone))
