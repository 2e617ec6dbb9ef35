"""Piccolo's configuration for its own CLI (`piccolo migrations …`); the app uses treffpunkt.db."""

from treffpunkt.db import APP_REGISTRY, DB

__all__ = ["APP_REGISTRY", "DB"]
