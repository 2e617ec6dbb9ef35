from __future__ import annotations

from typing import Annotated

from msgspec import Meta, Struct

from treffpunkt.inputs import Line


class LoginForm(Struct):
    email: Annotated[Line, Meta(max_length=254)] = ""
    password: Annotated[Line, Meta(max_length=1_000)] = ""
    next: Annotated[str, Meta(max_length=500)] = ""
