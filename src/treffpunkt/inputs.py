"""What the edge accepts: ids and numbers the database can hold, text without control characters.

PostgreSQL's integer is 32-bit and its text cannot hold NUL, while SQLite takes both; without
these bounds one engine answers 404 and the other 500. msgspec reads `Meta` (Struct fields) and
Litestar reads its own parameter kwargs (path and query), so each rule is spelled for both from
the same constants, here and nowhere else.
"""

from __future__ import annotations

import re
from typing import Annotated, Any

from litestar.params import PathParameter, QueryParameter
from msgspec import Meta

INT_MAX = 2**31 - 1
# `(?![\s\S])` is the end of the text in Python and ECMAScript alike; `$` would let a final
# newline through in Python. Control characters are C0, DEL and C1 (whose NEL, U+0085, breaks
# lines like U+2028 and U+2029 do: Python's splitlines() and mail software split there). One line
# also holds no bidirectional embedding, override or isolate (U+202A-U+202E, U+2066-U+2069):
# right-to-left names need none, and they let "moc.elpmaxe" read as "example.com".
SINGLE_LINE = r"^[^\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]*(?![\s\S])"
MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]*(?![\s\S])"
PATH_MAX_LENGTH = 200
QUERY_MAX_LENGTH = 500

# Struct fields.
Id = Annotated[int, Meta(ge=1, le=INT_MAX)]
Line = Annotated[str, Meta(pattern=SINGLE_LINE)]
Text = Annotated[str, Meta(pattern=MULTI_LINE)]

# Path parameters.
PathId = Annotated[int, PathParameter(ge=1, le=INT_MAX)]
PathNumber = Annotated[int, PathParameter(ge=0, le=INT_MAX)]
PathLine = Annotated[str, PathParameter(pattern=SINGLE_LINE, max_length=PATH_MAX_LENGTH)]


def query_line(**described: Any) -> Any:
    """A single-line query parameter; `described` adds its name or description."""
    return QueryParameter(pattern=SINGLE_LINE, max_length=QUERY_MAX_LENGTH, **described)


def query_number(*, ge: int = 0, le: int = INT_MAX, **described: Any) -> Any:
    """A whole-number query parameter within the database's range."""
    return QueryParameter(ge=ge, le=le, **described)


QueryLine = Annotated[str, query_line()]


_SINGLE_LINE = re.compile(SINGLE_LINE)
_MULTI_LINE = re.compile(MULTI_LINE)


def is_single_line(text: str) -> bool:
    """The `Line` rule for text read by hand (raw query strings, forms)."""
    return _SINGLE_LINE.match(text) is not None


def is_multi_line(text: str) -> bool:
    """The `Text` rule for text read by hand (forms)."""
    return _MULTI_LINE.match(text) is not None
