"""The container image and compose file: built and run where an engine answers, read everywhere.

This machine (and many CI runners) has the docker CLI but no engine, so the build-and-run tests
skip with a plain message there; the tests that read Dockerfile, compose.yaml and .env.example
hold everywhere, so a wrong command or a missing setting never waits for an engine to show.
"""

from __future__ import annotations

import ipaddress
import json
import re
import shutil
import subprocess
import time
import uuid
from collections.abc import Iterator
from typing import Any

import pytest
import yaml
from hatch_build import SHIPPED

from treffpunkt.settings import PROJECT_ROOT

DOCKERFILE = PROJECT_ROOT / "Dockerfile"
COMPOSE = PROJECT_ROOT / "compose.yaml"
ENV_EXAMPLE = PROJECT_ROOT / ".env.example"
DOCKERIGNORE = PROJECT_ROOT / ".dockerignore"
README = PROJECT_ROOT / "README.md"
APP_SERVICES = ("web-1", "web-2")
# Inside a container the app must listen on every interface to be reachable at all.
ALL_INTERFACES = "0.0.0.0"  # noqa: S104


def _instructions() -> list[tuple[str, str]]:
    """The Dockerfile's instructions as (KEYWORD, arguments), continuation lines joined."""
    text = re.sub(r"\\\n", " ", DOCKERFILE.read_text())
    lines = (line.strip() for line in text.splitlines())
    return [
        (keyword.upper(), arguments.strip())
        for keyword, _, arguments in (
            line.partition(" ") for line in lines if line and not line.startswith("#")
        )
    ]


def _final_stage() -> list[tuple[str, str]]:
    """The instructions of the image that ships: everything after the last FROM."""
    instructions = _instructions()
    last_from = max(i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM")
    return instructions[last_from + 1 :]


def _one(keyword: str) -> str:
    """The arguments of the final stage's last instruction of this kind (the one that counts)."""
    found = [arguments for kind, arguments in _final_stage() if kind == keyword]
    assert found, f"the final stage has no {keyword}"
    return found[-1]


def _compose() -> dict[str, Any]:
    compose: dict[str, Any] = yaml.safe_load(COMPOSE.read_text())
    return compose


def _service(name: str) -> dict[str, Any]:
    service: dict[str, Any] = _compose()["services"][name]
    return service


def _readme_settings() -> set[str]:
    """Every operator setting in the README's settings table (the "(tests)" rows are not)."""
    section = README.read_text().split("\n## Settings\n", 1)[1].split("\n## ", 1)[0]
    rows = re.findall(r"^\| `(TREFFPUNKT_[A-Z0-9_]+)` \| (.*?) \|", section, re.MULTILINE)
    assert rows, "README's settings table not found"
    return {name for name, meaning in rows if not meaning.startswith("(tests)")}


def _env_example_settings() -> set[str]:
    """The settings .env.example sets or shows commented out with their default."""
    return set(re.findall(r"^(?:# )?(TREFFPUNKT_[A-Z0-9_]+)=", ENV_EXAMPLE.read_text(), re.M))


def test_image_runs_as_a_non_root_user() -> None:
    user = _one("USER").split(":")[0]

    assert user not in ("root", "0")


def test_image_starts_the_app_without_migrating() -> None:
    assert json.loads(_one("ENTRYPOINT")) == ["treffpunkt"]
    assert json.loads(_one("CMD")) == ["serve", "--host", ALL_INTERFACES, "--no-mail-worker"]


def test_image_checks_its_health_on_the_health_route() -> None:
    assert "http://127.0.0.1:8000/health" in _one("HEALTHCHECK")
    assert _one("EXPOSE") == "8000"


def test_image_installs_the_wheel_built_without_dependencies() -> None:
    build_steps = " ".join(arguments for kind, arguments in _instructions() if kind == "RUN")

    assert "pip wheel" in build_steps
    assert "--no-deps" in build_steps


def test_build_context_carries_everything_the_wheel_is_built_from() -> None:
    copied = {
        source
        for kind, arguments in _instructions()
        if kind == "COPY" and not arguments.startswith("--from")
        for source in arguments.split()[:-1]
    }
    let_in = {
        line[1:].rstrip("/") for line in DOCKERIGNORE.read_text().splitlines() if line[:1] == "!"
    }

    assert copied == {"pyproject.toml", "hatch_build.py", "README.md", "src", *SHIPPED}
    assert copied <= let_in


def test_compose_migrates_once_before_the_app_and_worker_start() -> None:
    assert _service("migrate")["command"] == ["migrate"]
    assert _service("migrate")["restart"] == "no"
    for name in (*APP_SERVICES, "worker"):
        assert _service(name)["depends_on"] == {
            "migrate": {"condition": "service_completed_successfully"}
        }, name


def test_compose_runs_two_app_processes_without_mail_or_migration() -> None:
    for name in APP_SERVICES:
        command = _service(name)["command"]
        assert command[:3] == ["serve", "--host", ALL_INTERFACES], name
        assert "--workers" in command, name
        assert "--no-mail-worker" in command, name
        assert "migrate" not in command, name


def test_compose_runs_one_mail_worker() -> None:
    commands = [service.get("command") for service in _compose()["services"].values()]

    assert commands.count(["worker"]) == 1


def test_compose_keeps_postgresql_16_on_a_volume_with_a_healthcheck() -> None:
    db = _service("db")

    assert db["image"] == "postgres:16"
    assert any(volume.endswith(":/var/lib/postgresql/data") for volume in db["volumes"])
    assert "pg_isready" in " ".join(db["healthcheck"]["test"])
    assert _service("migrate")["depends_on"] == {"db": {"condition": "service_healthy"}}


def test_compose_gives_every_treffpunkt_process_the_env_file() -> None:
    for name in ("migrate", *APP_SERVICES, "worker"):
        assert _service(name)["env_file"] == ".env", name


def test_compose_trusts_only_its_own_networks_gateway_as_the_proxy() -> None:
    subnet = _compose()["networks"]["default"]["ipam"]["config"][0]
    trusted = _compose()["x-treffpunkt"]["environment"]["TREFFPUNKT_FORWARDED_ALLOW_IPS"]

    assert trusted == "${TREFFPUNKT_FORWARDED_ALLOW_IPS:-" + subnet["gateway"] + "}"
    assert ipaddress.ip_address(subnet["gateway"]) in ipaddress.ip_network(subnet["subnet"])


def test_env_example_lists_exactly_the_settings_readme_documents() -> None:
    assert _env_example_settings() == _readme_settings()


# --- With a container engine: build the image and run it ---------------------------------------


def _docker(*args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["docker", *args], capture_output=True, text=True, timeout=timeout, check=False
    )


@pytest.fixture(scope="module")
def image() -> Iterator[str]:
    """The image built from this checkout, removed afterwards; skips without an engine."""
    if shutil.which("docker") is None or _docker("info", timeout=30).returncode != 0:
        pytest.skip("no container engine: docker info failed")
    tag = f"treffpunkt-test:{uuid.uuid4().hex[:12]}"
    built = _docker("build", "--tag", tag, str(PROJECT_ROOT), timeout=1200)
    assert built.returncode == 0, built.stderr
    yield tag
    _docker("image", "rm", "--force", tag)


@pytest.fixture
def postgres(image: str) -> Iterator[tuple[str, str]]:
    """A throwaway PostgreSQL 16 on its own network: (network, database URL)."""
    name = f"treffpunkt-test-{uuid.uuid4().hex[:12]}"
    assert _docker("network", "create", name).returncode == 0
    started = _docker(
        "run", "--detach", "--rm", "--name", name, "--network", name,
        "--env", "POSTGRES_PASSWORD=throwaway", "postgres:16",
        timeout=600,
    )  # fmt: skip
    assert started.returncode == 0, started.stderr
    try:
        deadline = time.monotonic() + 60
        while _docker("exec", name, "pg_isready", "-U", "postgres", "-h", "127.0.0.1").returncode:
            assert time.monotonic() < deadline, "PostgreSQL did not become ready"
            time.sleep(1)
        yield name, f"postgresql://postgres:throwaway@{name}:5432/postgres"
    finally:
        _docker("stop", name)
        _docker("network", "rm", name)


def test_built_image_answers_help(image: str) -> None:
    helped = _docker("run", "--rm", image, "--help")

    assert helped.returncode == 0, helped.stderr
    assert "migrate" in helped.stdout


def test_built_image_runs_as_a_non_root_user(image: str) -> None:
    uid = _docker("run", "--rm", "--entrypoint", "id", image, "-u")

    assert uid.stdout.strip() not in ("", "0")


def test_built_image_migrates_a_fresh_postgresql(image: str, postgres: tuple[str, str]) -> None:
    network, url = postgres
    migrated = _docker(
        "run", "--rm", "--network", network, "--env", f"TREFFPUNKT_DATABASE_URL={url}",
        "--env", "TREFFPUNKT_SECRET_KEY=" + "container-test-" * 3, image, "migrate",
    )  # fmt: skip

    assert migrated.returncode == 0, migrated.stderr
