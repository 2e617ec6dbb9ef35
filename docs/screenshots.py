"""The README's screenshots, from the demo data: `make screenshots` (needs Debian's Chromium).

Starts Treffpunkt on a fresh SQLite file with `treffpunkt demo`, signs in as the demo
organiser in headless Chromium and saves the dashboard, the roster of the event with the most
registrations, and that event's form to docs/screenshots/.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

OUT = Path(__file__).resolve().parent / "screenshots"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def wait_until_healthy(base: str) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"{base}/health", timeout=1).status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    raise RuntimeError("the server did not start")


def shoot(base: str) -> None:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path="/usr/bin/chromium", args=CHROMIUM_ARGS
        )
        page = browser.new_context(
            locale="de-DE", viewport={"width": 1440, "height": 900}
        ).new_page()
        page.goto(f"{base}/login")
        page.get_by_label("E-Mail-Adresse").fill("demo@treffpunkt.example")
        page.get_by_label("Passwort").fill("treffpunkt-demo")
        page.get_by_label("Passwort").press("Enter")
        page.wait_for_url(f"{base}/organiser")
        page.screenshot(path=OUT / "dashboard.png")
        rosters = page.locator("a[href$='/roster']").evaluate_all(
            "links => links.map(link => link.getAttribute('href'))"
        )
        sizes = {}
        for roster in rosters:
            page.goto(base + roster)
            sizes[roster] = page.locator("table.roster tbody tr").count()
        fullest = max(sizes, key=sizes.__getitem__)
        page.goto(base + fullest)
        page.screenshot(path=OUT / "roster.png")
        page.goto(base + fullest.removesuffix("/roster") + "/edit")
        page.screenshot(path=OUT / "event-form.png")
        browser.close()


def main() -> None:
    OUT.mkdir(exist_ok=True)
    with tempfile.TemporaryDirectory() as folder:
        env = {**os.environ, "TREFFPUNKT_DATABASE_URL": f"sqlite:///{folder}/demo.sqlite3"}
        treffpunkt = [sys.executable, "-m", "treffpunkt"]
        subprocess.run([*treffpunkt, "migrate"], env=env, check=True, capture_output=True)
        subprocess.run([*treffpunkt, "demo"], env=env, check=True, capture_output=True)
        port = free_port()
        server = subprocess.Popen(
            [*treffpunkt, "serve", "--port", str(port), "--no-mail-worker"],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        try:
            base = f"http://127.0.0.1:{port}"
            wait_until_healthy(base)
            shoot(base)
        finally:
            server.terminate()
            server.wait(10)
    print(f"screenshots in {OUT}")


if __name__ == "__main__":
    main()
