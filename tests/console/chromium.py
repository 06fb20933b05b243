"""Debian's Chromium driven by Playwright for Python (never `playwright install`, which would
download a browser). Absent, browser tests skip saying why — except under CI=true, where they
must run (`./dev test` installs the `chromium` package when it runs as root)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Final

import pytest
from playwright.sync_api import Browser, sync_playwright

CHROMIUM: Final = Path("/usr/bin/chromium")
ARGS: Final = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
ABSENT: Final = (
    "no Chromium at /usr/bin/chromium (Debian's `chromium` package; `./dev test` installs it "
    "when run as root)"
)


def require_chromium() -> None:
    if CHROMIUM.exists():
        return
    if os.environ.get("CI") == "true":
        pytest.fail(f"CI=true and the browser tests must run: {ABSENT}")
    pytest.skip(ABSENT)


@contextmanager
def chromium() -> Iterator[Browser]:
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=list(ARGS), headless=True
        )
        try:
            yield browser
        finally:
            browser.close()
