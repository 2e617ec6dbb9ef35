"""QR tickets as PNG and SVG images of the check-in code."""

from __future__ import annotations

import io
from functools import lru_cache

import qrcode
import qrcode.image.svg
from qrcode.constants import ERROR_CORRECT_M


def _qr(code: str) -> qrcode.QRCode:
    # A fixed mask skips scoring all eight (six times faster); every mask is valid to readers.
    qr = qrcode.QRCode(error_correction=ERROR_CORRECT_M, box_size=8, border=4, mask_pattern=2)
    qr.add_data(code)
    qr.make(fit=True)
    return qr


@lru_cache(maxsize=4096)
def ticket_png(code: str) -> bytes:
    """The QR code as PNG; cached, because every mail and ticket view asks again."""
    buffer = io.BytesIO()
    _qr(code).make_image(fill_color="black", back_color="white").save(buffer, format="PNG")
    return buffer.getvalue()


@lru_cache(maxsize=1024)
def ticket_svg(code: str) -> bytes:
    image = _qr(code).make_image(image_factory=qrcode.image.svg.SvgPathImage)
    return str(image.to_string(encoding="unicode")).encode()
