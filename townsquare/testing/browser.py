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
AXE = Path(__file__).resolve().parent / "vendor" / "axe-core" / "axe.min.js"
# What the browser tests hold every page to: WCAG 2.1 A and AA rules, failures that are serious or critical.
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
AXE_BLOCKING = ("serious", "critical")
# The pages a DevRel lead uses, for the accessibility tests (an empty workspace and the demo).
MAIN_PAGES = [
    "/home/",
    "/listen/",
    "/listen/messages/",
    "/listen/upload/",
    "/listen/sources/add/",
    "/people/",
    "/people/suggestions/",
    "/people/merges/",
    "/people/organizations/",
    "/people/accounts/",
    "/feedback/",
    "/feedback/proposals/",
    "/reports/",
    "/reports/subscriptions/",
    "/requests/",
    "/requests/triage/",
    "/requests/budgets/",
    "/requests/summary/",
    "/board/",
    "/board/kudos/",
    "/board/done/",
    "/updates/",
    "/value/",
    "/value/health/",
    "/value/channels/",
    "/value/downloads/",
    "/notifications/",
    "/notifications/destinations/",
    "/account/",
    "/no-such-page/",
]

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

    def axe(self) -> list[str]:
        """Run axe-core on the current page; one line per serious or critical violation and element."""
        if not self.page.evaluate("typeof window.axe !== 'undefined'"):
            self.page.evaluate(AXE.read_text(encoding="utf-8"))  # through the DevTools protocol: CSP allows it
        options = {"runOnly": {"type": "tag", "values": AXE_TAGS}, "resultTypes": ["violations"]}
        result = self.page.evaluate("options => window.axe.run(document, options)", options)
        found = []
        for violation in result["violations"]:
            if violation["impact"] not in AXE_BLOCKING:
                continue
            for node in violation["nodes"]:
                detail = (node.get("failureSummary") or "").replace("\n", " ")[:200]
                found.append(
                    f"{violation['id']} ({violation['impact']}): {' '.join(node['target'])} {node['html'][:120]} {detail}"
                )
        return found
