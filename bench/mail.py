"""Outbox delivery of complete invitation mails into a local SMTP sink, timed."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time

from aiosmtpd.controller import Controller


class Sink:
    def __init__(self) -> None:
        self.received = 0

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:  # noqa: N802
        self.received += 1
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
        + json.dumps({"sent": result.sent, "received": sink.received, "seconds": elapsed})
    )


if __name__ == "__main__":
    asyncio.run(main(int(sys.argv[1])))
