"""Hatch build hook: the wheel carries the top-level templates/ and migrations/ folders.

They go inside the package, where settings.py looks first. Only the real wheel gets them: an
editable install reads the checkout's own folders, so it never holds a copy that goes stale.
"""

from __future__ import annotations

from typing import Any

from hatchling.builders.hooks.plugin.interface import BuildHookInterface

SHIPPED = ("templates", "migrations")


class ShippedFoldersHook(BuildHookInterface):  # type: ignore[type-arg]
    def initialize(self, version: str, build_data: dict[str, Any]) -> None:
        if version == "standard":
            build_data["force_include"].update({name: f"treffpunkt/{name}" for name in SHIPPED})
