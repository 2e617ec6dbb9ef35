"""Who is acting: a context variable, so that services record it without being handed it.

Passing the caller to every service (and through every helper between the controller and
the table) would change dozens of signatures for one concern. Instead whoever starts a unit
of work says who is acting, once:

- the web app's authentication middleware (`treffpunkt.web.auth`) sets the signed-in
  organiser or admin for the length of the request;
- the mail worker sets SYSTEM when it starts;
- nothing sets anything on the command line, so the default, OPERATOR, is who acts there.

A service whose action is by its nature someone else's says so itself by passing `actor=`
to `record`: a registrant acting through their secret link, the waiting list promoting
someone (SYSTEM), a person setting their password through a mailed link.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass

ACTOR_KINDS = ("organiser", "admin", "registrant", "system", "operator")


@dataclass(frozen=True)
class Actor:
    kind: str
    account_id: int | None = None


OPERATOR = Actor("operator")
SYSTEM = Actor("system")
REGISTRANT = Actor("registrant")

_current: ContextVar[Actor] = ContextVar("audit_actor", default=OPERATOR)


def current_actor() -> Actor:
    return _current.get()


def account_actor(account_id: int, *, is_admin: bool) -> Actor:
    return Actor("admin" if is_admin else "organiser", account_id)


def set_actor(actor: Actor) -> None:
    """Who acts from here on in this context; callers undo it with `actor_scope`."""
    _current.set(actor)


@contextmanager
def actor_scope(actor: Actor | None = None) -> Iterator[None]:
    """Whatever is set inside (or `actor`, given) ends with the block."""
    token = _current.set(actor or _current.get())
    try:
        yield
    finally:
        _current.reset(token)
