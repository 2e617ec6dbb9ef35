from __future__ import annotations

from typing import Annotated, Literal

from msgspec import Meta, Struct

from treffpunkt.inputs import Line


class LoginForm(Struct):
    email: Annotated[Line, Meta(max_length=254)] = ""
    password: Annotated[Line, Meta(max_length=1_000)] = ""
    next: Annotated[str, Meta(max_length=500)] = ""


Password = Annotated[Line, Meta(max_length=1_000)]


class PasswordChangeForm(Struct):
    current_password: Password = ""
    password: Password = ""
    password_repeat: Password = ""


class NewPasswordForm(Struct):
    password: Password = ""
    password_repeat: Password = ""


class TokenForm(Struct):
    label: Annotated[Line, Meta(max_length=100)] = ""


class EmailForm(Struct):
    email: Annotated[Line, Meta(max_length=254)] = ""


class InviteForm(Struct):
    email: Annotated[Line, Meta(max_length=254)] = ""
    name: Annotated[Line, Meta(max_length=200)] = ""
    is_admin: Literal["", "yes"] = ""
    language: Literal["de", "en"] = "de"


class AccessForm(Struct):
    change: Literal["deactivate", "reactivate", "make_admin", "remove_admin"]
