"""Keys derived from the one secret, one per purpose, so no two uses share a key."""

from __future__ import annotations

import hashlib


def derived_key(secret: str, purpose: str, length: int = 32) -> bytes:
    return hashlib.sha256(f"treffpunkt:{purpose}:{secret}".encode()).digest()[:length]
