"""The floor for the catalogue: a bare Litestar endpoint answering a page of the same size."""

from __future__ import annotations

import json
import os
from typing import Any

from litestar import Litestar, get

PAGE: dict[str, Any] = json.loads(os.environ.get("BENCH_PAGE", '{"items": [], "total": 0}'))


@get("/page", sync_to_thread=False)
def page() -> dict[str, Any]:
    return PAGE


app = Litestar([page], openapi_config=None, logging_config=None)
