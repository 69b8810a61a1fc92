"""Debian's Chromium driven by Playwright: its launch arguments and a logged-in page helper."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
REPO_ROOT = Path(__file__).resolve().parents[2]
SCREENSHOT_TMP = Path(os.environ.get("TMPDIR", "/tmp")) / "townsquare-screenshots"


@dataclass
class BrowserSession:
    page: Any
    base_url: str
    console_errors: list[str]

    def login(self, username: str, password: str = "pw-for-tests-123") -> None:
        self.page.goto(f"{self.base_url}/login/")
        self.page.fill("#id_username", username)
        self.page.fill("#id_password", password)
        self.page.click("button[type=submit]")
        self.page.wait_for_url(lambda url: "/login/" not in url)

    def goto(self, path: str) -> Any:
        return self.page.goto(f"{self.base_url}{path}")

    def screenshot(self, name: str, *, full_page: bool = True) -> Path:
        """Save under docs/screenshots/ when TOWNSQUARE_SCREENSHOTS=1, else in the test's temp dir."""
        on = os.environ.get("TOWNSQUARE_SCREENSHOTS") == "1"
        target = REPO_ROOT / "docs" / "screenshots" if on else SCREENSHOT_TMP
        target.mkdir(parents=True, exist_ok=True)
        path = target / f"{name}.png"
        self.page.screenshot(path=str(path), full_page=full_page)
        return path
