"""Exit 0 when a PostgreSQL server answers at the URL given (its database need not exist)."""

import asyncio
import sys
from urllib.parse import urlsplit, urlunsplit

import asyncpg


async def reachable(url: str) -> bool:
    server = urlunsplit(urlsplit(url)._replace(path="/postgres"))
    try:
        connection = await asyncpg.connect(server, timeout=3)
    except (OSError, asyncpg.PostgresError, TimeoutError):
        return False
    await connection.close()
    return True


if __name__ == "__main__":
    sys.exit(0 if asyncio.run(reachable(sys.argv[1])) else 1)
