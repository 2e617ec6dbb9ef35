"""A real SMTP server (aiosmtpd) on 127.0.0.1 that keeps what it receives.

A plain module, so that tests outside tests/notifications/ (the browser stories) use it
without importing a conftest.
"""

from __future__ import annotations

import email
import email.policy
import logging
import socket
import threading
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller

# aiosmtpd logs every SMTP command at INFO; the failures worth reading drown in them.
logging.getLogger("mail.log").setLevel(logging.WARNING)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage


class Sink:
    """An SMTP server on 127.0.0.1 that accepts, refuses or defers mail as the test says."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.received: list[Received] = []
        self.data_reply: str | None = None  # e.g. "451 try later": answer DATA with this
        self.refused: dict[str, str] = {}  # recipient -> RCPT answer, e.g. "550 …"
        self.data_attempts = 0
        # Drop the connection once a message's data is in, before answering it.
        self.hang_up = False
        # Called with the client's (host, port) while its connection is open, per message.
        self.on_data: Callable[[tuple[str, int]], None] | None = None
        self._lock = threading.Lock()
        self._controller: Controller | None = None

    async def handle_RCPT(  # noqa: N802 - aiosmtpd's hook name
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        if address in self.refused:
            return self.refused[address]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        with self._lock:
            self.data_attempts += 1
        if self.on_data is not None:
            self.on_data(session.peer)
        if self.hang_up:
            server.transport.abort()
            return "421 never heard: the connection is gone"
        if self.data_reply:
            return self.data_reply
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(message, EmailMessage)
        with self._lock:
            self.received.append(Received(envelope.mail_from, list(envelope.rcpt_tos), message))
        return "250 Message accepted for delivery"

    def start(self) -> None:
        self._controller = Controller(self, hostname="127.0.0.1", port=self.port)
        self._controller.start()

    def stop(self) -> None:
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    @property
    def messages(self) -> list[EmailMessage]:
        return [r.message for r in self.received]

    def to(self, address: str) -> list[EmailMessage]:
        """Every mail whose envelope went to `address`, in order of arrival."""
        return [r.message for r in self.received if address in r.rcpt_tos]

    def only(self, address: str) -> EmailMessage:
        found = self.to(address)
        assert len(found) == 1, f"{len(found)} mails to {address}: {self.subjects()}"
        return found[0]

    def subjects(self) -> list[tuple[str, str]]:
        return [(", ".join(r.rcpt_tos), str(r.message["Subject"])) for r in self.received]

    def message_id_counts(self) -> Counter[str]:
        return Counter(str(m["Message-ID"]) for m in self.messages)

    def clear(self) -> None:
        with self._lock:
            self.received.clear()
