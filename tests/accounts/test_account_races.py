"""An address taken between the check and the insert: a refusal, never an integrity error.

Two requests for the same new account can both find the address free; the test opens that
window on purpose by letting the second request's check see nothing.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest

from treffpunkt.accounts import services
from treffpunkt.accounts.links import Invitation, invite_organiser, request_password_reset
from treffpunkt.accounts.services import create_organiser
from treffpunkt.accounts.tables import Organiser
from treffpunkt.clock import utcnow
from treffpunkt.errors import Conflict, ErrorCollector
from treffpunkt.notifications.tables import OutboxMessage

pytestmark = pytest.mark.anyio

ADDRESS = "neue.kollegin@kreis.example"
INVITATION = Invitation(email=ADDRESS, name="Neue Kollegin", is_admin=False, language="de")


@pytest.fixture
def check_misses_the_other_request(monkeypatch: pytest.MonkeyPatch) -> None:
    async def address_seems_free(problems: ErrorCollector, email: str) -> str:
        return email

    monkeypatch.setattr(services, "_check_new_address", address_seems_free)


@pytest.mark.usefixtures("check_misses_the_other_request")
async def test_an_invitation_that_lost_the_race_is_refused_and_mails_nobody() -> None:
    await invite_organiser(INVITATION, now=utcnow())

    with pytest.raises(Conflict) as refused:
        await invite_organiser(INVITATION, now=utcnow())

    assert refused.value.code == "organiser_exists"
    assert await Organiser.count().where(Organiser.email == ADDRESS) == 1
    assert await OutboxMessage.count().where(OutboxMessage.recipient == ADDRESS) == 1


@pytest.mark.usefixtures("check_misses_the_other_request")
async def test_an_account_made_on_the_command_line_that_lost_the_race_is_refused() -> None:
    await create_organiser(ADDRESS, "ein-langes-passwort")

    with pytest.raises(Conflict) as refused:
        await create_organiser(ADDRESS, "ein-anderes-passwort")

    assert refused.value.code == "organiser_exists"


async def test_reset_requests_for_one_address_at_once_mail_it_once(
    client: httpx.AsyncClient,  # opens the connection pool: the requests really overlap
) -> None:
    await create_organiser(ADDRESS, "ein-langes-passwort")

    await asyncio.gather(*[request_password_reset(ADDRESS, "de", now=utcnow()) for _ in range(8)])

    assert await OutboxMessage.count().where(OutboxMessage.recipient == ADDRESS) == 1
