"""Schemathesis against the real server: no operation answers malformed input with a 5xx.

Every operation in /schema/openapi.json gets FUZZ_EXAMPLES generated requests (default 12,
so the whole module stays within about two minutes per engine on a small machine), sent with
an organiser's token to an event that exists and has a registration, so the requests pass the
guards and reach the rules and the database. Every other example aims at the real
registration and its secret link; the rest carry whatever the schema allows. Runs on both
engines with the rest of the suite.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import pytest
import schemathesis
from hypothesis import HealthCheck, Phase, settings
from schemathesis.checks import not_a_server_error

from tests import factories
from tests.attendance.helpers import anna_at_the_door
from tests.conftest import run_async
from treffpunkt.registrations.services import token_for
from treffpunkt.web.app import create_app

FUZZ_EXAMPLES = int(os.environ.get("TREFFPUNKT_FUZZ_EXAMPLES", "12"))

# The document the app serves at /schema/openapi.json, built without starting the app (its
# lifespan would open the database pool on another event loop).
schema = schemathesis.openapi.from_dict(create_app().openapi_schema.to_schema())


@dataclass(frozen=True)
class Target:
    auth: dict[str, str]
    slug: str
    registration_id: int
    token: str


async def _target() -> Target:
    owner, auth = await factories.organiser_with_token()
    event, registration_id = await anna_at_the_door(owner)
    return Target(auth, event.slug, registration_id, await token_for(registration_id))


@pytest.fixture
def target() -> Target:
    """An organiser's token, their event in its check-in window, and Anna's registration."""
    return run_async(_target())


def aim(case: Any, at: Target) -> None:
    """Point the generated request at the real event; every other one at the real person."""
    params = case.path_parameters or {}
    if "slug" in params:
        params["slug"] = at.slug
    if isinstance(params.get("registration_id"), int) and params["registration_id"] % 2 == 0:
        params["registration_id"] = at.registration_id
    if isinstance(params.get("token"), str) and len(params["token"]) % 2 == 0:
        params["token"] = at.token


@schema.parametrize()
@settings(
    max_examples=FUZZ_EXAMPLES,
    deadline=None,
    phases=[Phase.explicit, Phase.generate],
    suppress_health_check=list(HealthCheck),
)
def test_no_operation_answers_a_server_error(case: Any, live_server: str, target: Target) -> None:
    aim(case, target)
    case.call_and_validate(base_url=live_server, headers=target.auth, checks=[not_a_server_error])
