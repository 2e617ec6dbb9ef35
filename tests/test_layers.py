"""Dependencies point one way: the domains below never reach up into the layers above them.

`events` knows nothing of `registrations` (registrations build on events and react to their
changes), `notifications` knows nothing of `web` (the mail worker runs without the web app).
"""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "src" / "treffpunkt"


def imported_modules(package: str) -> dict[str, set[str]]:
    """Every module each file of the package imports, wherever in the file the import stands."""
    found: dict[str, set[str]] = {}
    for path in sorted((PACKAGE / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module:
                names.add(node.module)
                names.update(f"{node.module}.{alias.name}" for alias in node.names)
        found[path.relative_to(PACKAGE).as_posix()] = names
    return found


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("events", "treffpunkt.registrations"),
        ("events", "treffpunkt.notifications"),
        ("notifications", "treffpunkt.web"),
        ("notifications", "treffpunkt.workspace"),
    ],
)
def test_a_lower_layer_imports_nothing_from_a_higher_one(package: str, forbidden: str) -> None:
    offenders = {
        path: sorted(
            name for name in names if name == forbidden or name.startswith(forbidden + ".")
        )
        for path, names in imported_modules(package).items()
    }
    assert {path: names for path, names in offenders.items() if names} == {}


def test_the_mail_worker_loads_without_the_web_app() -> None:
    loaded = subprocess.run(
        [
            sys.executable,
            "-c",
            "import sys, treffpunkt.notifications.worker; "
            "print('\\n'.join(m for m in sys.modules if m.startswith('treffpunkt.')))",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "treffpunkt.notifications.worker" in loaded
    assert [m for m in loaded if m.startswith(("treffpunkt.web", "treffpunkt.workspace"))] == []
