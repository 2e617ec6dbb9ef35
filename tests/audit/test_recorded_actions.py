"""Every action that changes an event, a registration or an account leaves exactly one entry
naming it and who did it, written in the action's own transaction."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from itertools import count
from typing import Any

import httpx
import pytest

from tests import factories
from tests.attendance.helpers import anna_at_the_door
from tests.audit.helpers import entries, newest_id
from tests.registrations.helpers import person
from tests.sessions import hidden_value, sign_in
from tests.test_cli import in_a_thread
from treffpunkt.accounts.links import link_token
from treffpunkt.accounts.services import CurrentOrganiser, create_own_api_token, own_api_tokens
from treffpunkt.accounts.tables import Organiser
from treffpunkt.attendance.services import check_in_by_id
from treffpunkt.clock import utcnow
from treffpunkt.events.services import EventView
from treffpunkt.registrations.schemas import ManualRegistration, RegistrationForm
from treffpunkt.registrations.services import add_by_organiser, register, token_for

pytestmark = pytest.mark.anyio

_numbers = count(1)
Action = Callable[[], Awaitable[httpx.Response]]


@dataclass
class Scene:
    client: httpx.AsyncClient
    owner: CurrentOrganiser
    auth: dict[str, str]

    async def event(self, **overrides: Any) -> EventView:
        return await factories.event(self.owner, **overrides)

    async def page_form(self, path: str, form_page: str, **fields: str) -> httpx.Response:
        """POST a page's form as a signed-in browser would, CSRF token and all."""
        token = hidden_value((await self.client.get(form_page)).text, "_csrf_token")
        return await self.client.post(path, data={"_csrf_token": token, **fields})


async def someone(event: EventView, **overrides: Any) -> int:
    """A registration added by hand; confirmed while seats last, then waitlisted."""
    fields = {**person(), **overrides}
    outcome = await add_by_organiser(event.slug, ManualRegistration(**fields), now=utcnow())
    return outcome.registration_id


def api(scene: Scene, method: str, path: str, **kwargs: Any) -> Action:
    return lambda: scene.client.request(method, path, headers=scene.auth, **kwargs)


# Each returns the action under test, after preparing what it needs.


async def create_event(s: Scene) -> Action:
    return api(s, "POST", "/api/v1/events", json=factories.event_payload())


async def change_event(s: Scene) -> Action:
    event = await s.event()
    return api(s, "PATCH", f"/api/v1/events/{event.slug}", json={"capacity": 40})


async def publish_event(s: Scene) -> Action:
    event = await s.event(publish=False)
    return api(s, "POST", f"/api/v1/events/{event.slug}/publish")


async def cancel_event(s: Scene) -> Action:
    event = await s.event()
    return api(s, "POST", f"/api/v1/events/{event.slug}/cancel", json={"reason": "Sturm"})


async def delete_draft(s: Scene) -> Action:
    event = await s.event(publish=False)
    return api(s, "DELETE", f"/api/v1/events/{event.slug}")


async def add_co_organiser(s: Scene) -> Action:
    event, other = await s.event(), await factories.organiser()
    return api(s, "POST", f"/api/v1/events/{event.slug}/organisers", json={"email": other.email})


async def remove_co_organiser(s: Scene) -> Action:
    event, other = await s.event(), await factories.organiser()
    await s.client.post(
        f"/api/v1/events/{event.slug}/organisers", json={"email": other.email}, headers=s.auth
    )
    return api(s, "DELETE", f"/api/v1/events/{event.slug}/organisers/{other.email}")


async def replace_questions(s: Scene) -> Action:
    event = await s.event()
    questions = [{"key": "diet", "kind": "short_text", "label": "Ernährung"}]
    return api(s, "PUT", f"/api/v1/events/{event.slug}/questions", json=questions)


async def replace_feedback_questions(s: Scene) -> Action:
    event = await s.event()
    questions = [{"key": f"q{n}", "kind": "rating", "label": f"Frage {n}"} for n in range(3)]
    return api(s, "PUT", f"/api/v1/events/{event.slug}/feedback-questions", json=questions)


async def send_message(s: Scene) -> Action:
    event = await s.event()
    await someone(event)
    body = {"subject": "Anreise", "body": "Bitte pünktlich."}
    return api(s, "POST", f"/api/v1/events/{event.slug}/messages", json=body)


async def register_for_a_seat(s: Scene) -> Action:
    event = await s.event()
    return lambda: s.client.post(f"/api/v1/events/{event.slug}/registrations", json=person())


async def register_onto_the_waiting_list(s: Scene) -> Action:
    event = await s.event(capacity=1, waitlist=True)
    await someone(event)
    return lambda: s.client.post(f"/api/v1/events/{event.slug}/registrations", json=person())


async def registrant_changes_details(s: Scene) -> Action:
    token = await token_for(await someone(await s.event()))
    return lambda: s.client.patch(f"/api/v1/registrations/{token}", json={"name": "Neu Name"})


async def registrant_cancels(s: Scene) -> Action:
    token = await token_for(await someone(await s.event()))
    return lambda: s.client.delete(f"/api/v1/registrations/{token}")


async def _pending(s: Scene) -> tuple[EventView, int]:
    event = await s.event(requires_approval=True)
    outcome = await register(event.slug, RegistrationForm(**person()), now=utcnow())
    return event, outcome.registration_id


async def approve(s: Scene) -> Action:
    event, registration_id = await _pending(s)
    return api(s, "POST", f"/api/v1/events/{event.slug}/registrations/{registration_id}/approve")


async def decline(s: Scene) -> Action:
    event, registration_id = await _pending(s)
    return api(s, "POST", f"/api/v1/events/{event.slug}/registrations/{registration_id}/decline")


async def cancel_by_organiser(s: Scene) -> Action:
    event = await s.event()
    registration_id = await someone(event)
    return api(s, "POST", f"/api/v1/events/{event.slug}/registrations/{registration_id}/cancel")


async def _full_with_waiting_list(s: Scene) -> tuple[EventView, int, int, int]:
    event = await s.event(capacity=1, waitlist=True)
    return event, await someone(event), await someone(event), await someone(event)


async def move_up(s: Scene) -> Action:
    event, _, _, last = await _full_with_waiting_list(s)
    return api(s, "POST", f"/api/v1/events/{event.slug}/registrations/{last}/move-up")


async def waiting_list_promotion(s: Scene) -> Action:
    event, seated, _, _ = await _full_with_waiting_list(s)
    return api(s, "POST", f"/api/v1/events/{event.slug}/registrations/{seated}/cancel")


async def promote_out_of_turn(s: Scene) -> Action:
    event, _, first, _ = await _full_with_waiting_list(s)
    await sign_in(s.client, s.owner)
    roster = f"/organiser/events/{event.slug}/roster"
    return lambda: s.page_form(f"{roster}/{first}/promote", roster, exceed_capacity="yes")


async def add_by_hand(s: Scene) -> Action:
    event = await s.event()
    return api(s, "POST", f"/api/v1/events/{event.slug}/roster", json=person())


async def _at_the_door(s: Scene) -> EventView:
    starts_at = (datetime.now(UTC) + timedelta(hours=1)).replace(microsecond=0)
    return await s.event(
        starts_at=starts_at.isoformat(), ends_at=(starts_at + timedelta(hours=3)).isoformat()
    )


async def walk_in(s: Scene) -> Action:
    event = await _at_the_door(s)
    return api(s, "POST", f"/api/v1/events/{event.slug}/walk-ins", json=person())


async def check_in(s: Scene) -> Action:
    event, registration_id = await anna_at_the_door(s.owner)
    body = {"registration_id": registration_id}
    return api(s, "POST", f"/api/v1/events/{event.slug}/check-ins", json=body)


async def undo_check_in(s: Scene) -> Action:
    event, registration_id = await anna_at_the_door(s.owner)
    await check_in_by_id(event.slug, registration_id, now=utcnow())
    return api(s, "DELETE", f"/api/v1/events/{event.slug}/check-ins/{registration_id}")


async def duplicate(s: Scene) -> Action:
    event = await s.event()
    await sign_in(s.client, s.owner)
    hub = f"/organiser/events/{event.slug}"
    return lambda: s.page_form(f"{hub}/duplicate", f"{hub}/edit")


async def series(s: Scene) -> Action:
    event = await s.event()
    await sign_in(s.client, s.owner)
    page = f"/organiser/events/{event.slug}/series"
    return lambda: s.page_form(page, page, repeat="weekly", count="2", action="create")


async def _as_admin(s: Scene) -> CurrentOrganiser:
    admin = await factories.organiser(admin=True)
    await sign_in(s.client, admin)
    return await factories.organiser()


async def invite(s: Scene) -> Action:
    await _as_admin(s)
    fields = {"email": f"invited{next(_numbers)}@example.org", "name": "Ina Eingeladen"}
    return lambda: s.page_form("/admin/organisers/invite/send", "/admin/organisers", **fields)


def _access(s: Scene, account: CurrentOrganiser, change: str) -> Action:
    path = f"/admin/organisers/{account.id}/access"
    return lambda: s.page_form(path, "/admin/organisers", change=change)


async def deactivate(s: Scene) -> Action:
    return _access(s, await _as_admin(s), "deactivate")


async def reactivate(s: Scene) -> Action:
    account = await _as_admin(s)
    await _access(s, account, "deactivate")()
    return _access(s, account, "reactivate")


async def make_admin(s: Scene) -> Action:
    return _access(s, await _as_admin(s), "make_admin")


async def remove_admin(s: Scene) -> Action:
    account = await _as_admin(s)
    await _access(s, account, "make_admin")()
    return _access(s, account, "remove_admin")


async def change_password(s: Scene) -> Action:
    await sign_in(s.client, s.owner)
    new = "a brand new password"
    fields = {"current_password": factories.PASSWORD, "password": new, "password_repeat": new}
    page = "/organiser/account"
    return lambda: s.page_form(f"{page}/password", page, **fields)


async def reset_password_by_link(s: Scene) -> Action:
    row = await Organiser.select().where(Organiser.id == s.owner.id).first()
    assert row is not None
    token = link_token(
        row["id"], utcnow() + timedelta(hours=1), row["password_hash"], row["session_epoch"]
    )
    new = "a brand new password"
    page = f"/password/set/{token}"
    return lambda: s.page_form(page, page, password=new, password_repeat=new)


async def create_token(s: Scene) -> Action:
    await sign_in(s.client, s.owner)
    page = "/organiser/account"
    return lambda: s.page_form(f"{page}/tokens", page, label="CRM")


async def revoke_token(s: Scene) -> Action:
    await sign_in(s.client, s.owner)
    await create_own_api_token(s.owner.id, "alt")
    token_id = (await own_api_tokens(s.owner.id))[-1].id
    path = f"/organiser/account/tokens/{token_id}/revoke"
    return lambda: s.page_form(path, path)


async def sign_out_everywhere(s: Scene) -> Action:
    await sign_in(s.client, s.owner)
    return lambda: s.page_form("/logout/everywhere", "/organiser/account")


# (prepare, the action recorded, who is recorded as acting)
ACTIONS: dict[str, tuple[Callable[[Scene], Awaitable[Action]], str, str]] = {
    "create event": (create_event, "event.created", "organiser"),
    "change event": (change_event, "event.changed", "organiser"),
    "publish": (publish_event, "event.published", "organiser"),
    "cancel event": (cancel_event, "event.cancelled", "organiser"),
    "delete draft": (delete_draft, "event.deleted", "organiser"),
    "duplicate": (duplicate, "event.duplicated", "organiser"),
    "series": (series, "event.series_created", "organiser"),
    "add co-organiser": (add_co_organiser, "event.co_organiser_added", "organiser"),
    "remove co-organiser": (remove_co_organiser, "event.co_organiser_removed", "organiser"),
    "replace questions": (replace_questions, "event.questions_replaced", "organiser"),
    "feedback questions": (
        replace_feedback_questions,
        "event.feedback_questions_replaced",
        "organiser",
    ),
    "message": (send_message, "event.message_sent", "organiser"),
    "register": (register_for_a_seat, "registration.registered", "registrant"),
    "register, waitlisted": (
        register_onto_the_waiting_list,
        "registration.registered",
        "registrant",
    ),
    "registrant changes": (registrant_changes_details, "registration.changed", "registrant"),
    "registrant cancels": (registrant_cancels, "registration.cancelled", "registrant"),
    "approve": (approve, "registration.approved", "organiser"),
    "decline": (decline, "registration.declined", "organiser"),
    "cancel by organiser": (cancel_by_organiser, "registration.cancelled", "organiser"),
    "move up": (move_up, "registration.moved_up", "organiser"),
    "promote": (promote_out_of_turn, "registration.promoted", "organiser"),
    "waiting-list promotion": (
        waiting_list_promotion,
        "registration.promoted_from_waitlist",
        "system",
    ),
    "add by hand": (add_by_hand, "registration.added", "organiser"),
    "walk-in": (walk_in, "registration.walk_in", "organiser"),
    "check-in": (check_in, "registration.checked_in", "organiser"),
    "undo check-in": (undo_check_in, "registration.check_in_undone", "organiser"),
    "invite": (invite, "account.invited", "admin"),
    "deactivate": (deactivate, "account.deactivated", "admin"),
    "reactivate": (reactivate, "account.reactivated", "admin"),
    "make admin": (make_admin, "account.admin_granted", "admin"),
    "remove admin": (remove_admin, "account.admin_removed", "admin"),
    "change password": (change_password, "account.password_changed", "organiser"),
    "reset password by link": (reset_password_by_link, "account.password_reset", "organiser"),
    "create token": (create_token, "account.token_created", "organiser"),
    "revoke token": (revoke_token, "account.token_revoked", "organiser"),
    "sign out everywhere": (sign_out_everywhere, "account.signed_out_everywhere", "organiser"),
}


@pytest.mark.parametrize("name", list(ACTIONS))
async def test_every_action_leaves_one_entry_naming_it_and_who_acted(
    client: httpx.AsyncClient, name: str
) -> None:
    prepare, action, actor_kind = ACTIONS[name]
    owner, auth = await factories.organiser_with_token()
    act = await prepare(Scene(client, owner, auth))
    before = await newest_id()

    response = await act()

    assert response.status_code < 400, response.text
    recorded = [e for e in await entries() if e["id"] > before and e["action"] == action]
    assert len(recorded) == 1, [e["action"] for e in await entries() if e["id"] > before]
    assert recorded[0]["actor_kind"] == actor_kind
    assert (recorded[0]["actor"] is None) == (actor_kind in ("registrant", "system"))


async def test_an_account_made_on_the_command_line_is_recorded_as_the_operators_doing() -> None:
    created = await in_a_thread(
        "users", "create", "--email", "cli@example.org", "--password", factories.PASSWORD
    )

    assert created.returncode == 0, created.stderr
    [entry] = await entries(action="account.created")
    assert (entry["actor_kind"], entry["actor"]) == ("operator", None)
