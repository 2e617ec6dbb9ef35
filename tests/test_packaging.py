"""A wheel built from this checkout, installed outside it, migrates, serves and mails in German.

Nothing may come from the checkout at run time: the wheel goes into a fresh virtualenv in a
temporary folder that borrows only the dependencies from the project's virtualenv (a plain path
in a .pth file, which does not run the editable install's hook), and every command runs there,
from a working folder outside the checkout. This is docs/deployment.md's install, step by step.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests import factories
from tests.conftest import free_port
from tests.mail_sink import Sink
from tests.notifications.helpers import MAIL_FROM, SCHEDULE, WHEN_DE, text_of
from treffpunkt.settings import PROJECT_ROOT

ADMIN = "betrieb@treffpunkt.example"
REGISTRANT = "anna@example.org"
TITLE = factories.event_payload()["title"]


@dataclass(frozen=True)
class Installation:
    """The wheel installed in its own virtualenv, with a working folder and a database."""

    folder: Path
    venv: Path
    env: dict[str, str]

    @property
    def site_packages(self) -> Path:
        return Path(self.python("-c", "import sysconfig; print(sysconfig.get_path('purelib'))"))

    def python(self, *args: str) -> str:
        return self.run(str(self.venv / "bin" / "python"), *args).stdout.strip()

    def run(
        self, *args: str, stdin: str = "", check: bool = True
    ) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            args,
            cwd=self.folder,
            env=self.env,
            input=stdin,
            capture_output=True,
            text=True,
            timeout=120,
            check=check,
        )

    def treffpunkt(self, *args: str, stdin: str = "") -> subprocess.CompletedProcess[str]:
        return self.run(str(self.venv / "bin" / "treffpunkt"), *args, stdin=stdin, check=False)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installation:
    folder = tmp_path_factory.mktemp("installed")
    wheels, venv = folder / "wheels", folder / "venv"
    pip = [sys.executable, "-m", "pip", "--quiet", "--disable-pip-version-check"]
    subprocess.run(
        [*pip, "wheel", "--no-deps", "--no-build-isolation", "--wheel-dir", wheels, PROJECT_ROOT],
        check=True,
        capture_output=True,
    )
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", venv], check=True)
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TREFFPUNKT_", "PYTHON", "VIRTUAL_ENV"))
    }
    env |= {
        "TREFFPUNKT_DATABASE_URL": f"sqlite:///{folder / 'treffpunkt.sqlite3'}",
        "TREFFPUNKT_SECRET_KEY": "packaging-test-" + "k" * 40,
        "TREFFPUNKT_MAIL_FROM": MAIL_FROM,
    }
    installation = Installation(folder=folder, venv=venv, env=env)
    (wheel,) = wheels.glob("treffpunkt-*.whl")
    subprocess.run(
        [*pip, "--python", venv / "bin" / "python", "install", "--no-deps", "--no-index", wheel],
        check=True,
        capture_output=True,
    )
    # Added after installing, so pip never sees the project's own (editable) treffpunkt.
    (installation.site_packages / "dependencies.pth").write_text(
        sysconfig.get_path("purelib") + "\n"
    )
    return installation


@pytest.fixture(scope="module")
def smtp_sink() -> Iterator[Sink]:
    sink = Sink(free_port())
    sink.start()
    yield sink
    sink.stop()


@pytest.fixture(scope="module")
def served(installed: Installation, smtp_sink: Sink) -> Iterator[str]:
    """`treffpunkt migrate`, then `treffpunkt serve` (with its mail worker), from the wheel."""
    migrated = installed.treffpunkt("migrate")
    assert migrated.returncode == 0, migrated.stderr
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    log = (installed.folder / "server.log").open("w")
    server = subprocess.Popen(
        [installed.venv / "bin" / "treffpunkt", "serve", "--port", str(port)],
        cwd=installed.folder,
        env={
            **installed.env,
            "TREFFPUNKT_BASE_URL": base_url,
            "TREFFPUNKT_SMTP_URL": f"smtp://127.0.0.1:{smtp_sink.port}",
        },
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    try:
        deadline = time.monotonic() + 30
        while not _healthy(base_url):
            assert server.poll() is None, (installed.folder / "server.log").read_text()
            assert time.monotonic() < deadline, "the installed server did not start in 30 s"
        yield base_url
    finally:
        server.terminate()
        server.wait(10)
        log.close()


def _healthy(base_url: str) -> bool:
    try:
        return httpx.get(f"{base_url}/health", timeout=1).status_code == 200
    except httpx.TransportError:
        time.sleep(0.1)
        return False


@pytest.fixture(scope="module")
def registered(installed: Installation, served: str) -> dict[str, Any]:
    """A published workshop and a German registration for it, through the installed app."""
    created = installed.treffpunkt("users", "create", "--email", ADMIN, stdin=factories.PASSWORD)
    assert created.returncode == 0, created.stderr
    token = installed.treffpunkt("tokens", "create", "--email", ADMIN).stdout.strip()
    auth = {"Authorization": f"Bearer {token}"}
    event = httpx.post(
        f"{served}/api/v1/events", json=factories.event_payload(**SCHEDULE), headers=auth
    )
    assert event.status_code == 201, event.text
    slug = event.json()["slug"]
    assert httpx.post(f"{served}/api/v1/events/{slug}/publish", headers=auth).status_code == 200
    registration = httpx.post(
        f"{served}/api/v1/events/{slug}/registrations",
        json={
            "name": "Anna Schmidt",
            "email": REGISTRANT,
            "organisation": "Stadt Leipzig",
            "stakeholder_group": "public_administration",
            "consent": True,
            "language": "de",
        },
    )
    assert registration.status_code == 201, registration.text
    return dict(event.json())


def test_the_installed_package_is_the_wheel_not_the_checkout(installed: Installation) -> None:
    where = installed.python(
        "-c",
        "from treffpunkt import settings as s; print(s.PACKAGE_DIR, s.TEMPLATES_DIR, "
        "s.MIGRATIONS_DIR, s.LOCALE_DIR, s.STATIC_DIR)",
    ).split()

    package = installed.site_packages / "treffpunkt"
    assert where == [
        str(package / name) for name in ("", "templates", "migrations", "locale", "static")
    ]


def test_the_installed_service_mails_a_german_confirmation(
    smtp_sink: Sink, registered: dict[str, Any]
) -> None:
    deadline = time.monotonic() + 30
    while not smtp_sink.to(REGISTRANT):
        assert time.monotonic() < deadline, "no confirmation within 30 s"
        time.sleep(0.1)

    mail = smtp_sink.only(REGISTRANT)
    text = text_of(mail)
    assert mail["Subject"] == f"Anmeldung bestätigt: {TITLE}"
    assert text.startswith("Guten Tag Anna Schmidt,\n\nIhr Platz ist bestätigt.")
    assert f"Wann: {WHEN_DE}" in text


def test_the_installed_service_shows_a_german_page(served: str, registered: dict[str, Any]) -> None:
    page = httpx.get(f"{served}/events/{registered['slug']}", headers={"Accept-Language": "de"})

    assert page.status_code == 200
    assert '<html lang="de">' in page.text
    assert WHEN_DE in page.text
    assert "Jetzt anmelden" in page.text


def test_the_installed_service_refuses_to_start_without_a_catalogue(
    installed: Installation,
) -> None:
    catalogue = installed.site_packages / "treffpunkt/locale/de/LC_MESSAGES/messages.po"
    shutil.move(catalogue, catalogue.with_suffix(".away"))
    try:
        result = installed.treffpunkt("migrate")
    finally:
        shutil.move(catalogue.with_suffix(".away"), catalogue)

    assert result.returncode == 1
    assert result.stdout == ""
    assert result.stderr.startswith("error: no usable catalogue for the language 'de': ")
