"""Rate limits on public registration and sign-in, counted in a store all processes share.

Two limits guard registration (see the README's "Privacy and security"):
- per client address and minute, across events: no flood of requests and mail;
- per client address and event and day, a share of the event's seats: fifty colleagues
  behind one office proxy fit into any event with a hundred seats, while a script from one
  address never takes more than that share of an event, however slowly it goes.
The client address is the peer, or what a trusted proxy says it is (web.proxies). An IPv6
client is counted by its /64 network: one line or host is usually given a whole /64, and a
script choosing a fresh address from it for every request must not get a fresh limit each time.
"""

from __future__ import annotations

import hashlib
import hmac
import ipaddress
import math
import re

from litestar.enums import ScopeType
from litestar.exceptions import TooManyRequestsException
from litestar.middleware import ASGIMiddleware
from litestar.types import ASGIApp, Receive, Scope, Send

from treffpunkt.errors import N_
from treffpunkt.events.services import event_capacity
from treffpunkt.inputs import PATH_MAX_LENGTH, is_single_line
from treffpunkt.ratelimits.counters import HitCounter
from treffpunkt.settings import Settings
from treffpunkt.signing import derived_key

MINUTE = 60
DAY = 24 * 3600
# An address may always make this many registrations for one event a day, however small it is.
EVENT_SHARE_FLOOR = 10
PUBLIC_REGISTRATION = re.compile(r"^(?:/api/v1)?/events/([^/]+)/(?:registrations|register)$")
# Sign-ins, and asking for a password reset: both try addresses and passwords.
LOGIN_PATHS = frozenset({"/login", "/password/forgot"})

TOO_FAST = N_("Too many attempts from your connection. Please wait a minute and try again.")
EVENT_SHARE_USED = N_(
    "Your connection has made many registrations for this event today. To protect the "
    "seats from scripts, further registrations from it are refused until tomorrow; please "
    "register from another connection or ask the organisers."
)


class RateLimited(TooManyRequestsException):
    """A 429 that says why to people (`page_message`, translated) and when to come back."""

    def __init__(self, detail: str, page_message: str, retry_after: int) -> None:
        super().__init__(detail=detail, headers={"Retry-After": str(retry_after)})
        self.page_message = page_message


def event_share_cap(capacity: int, share_percent: int) -> int:
    """How many registrations for one event one address may make a day."""
    return max(EVENT_SHARE_FLOOR, math.ceil(capacity * share_percent / 100))


def client_key(address: str) -> str:
    """Who one client is, to the limits: an IPv4 address (also written IPv4-mapped in IPv6),
    the /64 network of an IPv6 address, any other peer name as it is."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.IPv6Network((int(ip), 64), strict=False))
    return str(ip)


class RateLimits(ASGIMiddleware):
    scopes = (ScopeType.HTTP,)

    def __init__(self, settings: Settings, counter: HitCounter) -> None:
        self.counter = counter
        self.per_minute = settings.registration_rate_limit
        self.event_share = settings.registration_event_share
        self.logins_per_minute = settings.login_rate_limit
        self._key = derived_key(settings.secret_key, "rate-limits")

    def _subject(self, *parts: str) -> str:
        """A keyed hash: the store never holds a client address in clear."""
        message = "\x00".join(parts).encode("utf-8", "surrogateescape")
        return hmac.new(self._key, message, hashlib.sha256).hexdigest()[:40]

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        if scope["type"] == ScopeType.HTTP and scope["method"] == "POST":
            client = scope.get("client")
            address = client_key(client[0]) if client else "unknown"
            path = scope["path"]
            registration = PUBLIC_REGISTRATION.match(path)
            if registration:
                await self._registration(address, registration.group(1))
            elif path in LOGIN_PATHS:
                await self._count("login", self.logins_per_minute, MINUTE, TOO_FAST, address)
        await next_app(scope, receive, send)

    async def _registration(self, address: str, slug: str) -> None:
        await self._count("register", self.per_minute, MINUTE, TOO_FAST, address)
        if self.event_share <= 0 or len(slug) > PATH_MAX_LENGTH or not is_single_line(slug):
            return
        capacity = await event_capacity(slug)
        if capacity is None:
            return  # no seats to take
        cap = event_share_cap(capacity, self.event_share)
        await self._count("register-event", cap, DAY, EVENT_SHARE_USED, address, slug)

    async def _count(
        self, name: str, limit: int, window: int, page_message: str, *subject: str
    ) -> None:
        if limit <= 0:
            return
        hits, retry_after = await self.counter.hit(f"{name}:{self._subject(*subject)}", window)
        if hits > limit:
            raise RateLimited(
                f"Too many requests of this kind from this client address; "
                f"try again in {retry_after} seconds.",
                page_message,
                retry_after,
            )
