"""Outbox delivery of complete invitation mails into a local SMTP sink, timed."""

from __future__ import annotations

import asyncio
import email
import email.policy
import json
import os
import sys
import time
from typing import Any

from aiosmtpd.controller import Controller


class Sink:
    """Keeps each received message's Message-ID, so run.py can count every row's deliveries."""

    def __init__(self) -> None:
        self.message_ids: list[str] = []

    async def handle_DATA(self, server: object, session: object, envelope: Any) -> str:  # noqa: N802
        message = email.message_from_bytes(envelope.content, policy=email.policy.default)
        self.message_ids.append(str(message["Message-ID"]))
        return "250 OK"


async def main(port: int) -> None:
    sink = Sink()
    controller = Controller(sink, hostname="127.0.0.1", port=port)
    controller.start()
    os.environ["TREFFPUNKT_SMTP_URL"] = f"smtp://127.0.0.1:{port}"
    from piccolo.engine.postgres import PostgresEngine

    from treffpunkt.db import DB
    from treffpunkt.notifications.worker import drain

    if isinstance(DB, PostgresEngine):
        await DB.start_connection_pool(min_size=1, max_size=4)
    started = time.perf_counter()
    result = await drain()
    elapsed = time.perf_counter() - started
    controller.stop()
    print(
        "MAIL_RESULT "
        + json.dumps({"sent": result.sent, "message_ids": sink.message_ids, "seconds": elapsed})
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
