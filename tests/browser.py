"""Headless Debian Chromium for the browser tests (the chat page, the console)."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator, Optional

import pytest

from assistant.settings import PROJECT_ROOT

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = PROJECT_ROOT / "tests" / "artifacts"
BROWSER_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def require_chromium() -> None:
    """Fail (never skip) when Debian's Chromium is missing."""
    if not CHROMIUM.exists():
        pytest.fail("Debian's chromium is missing: `make test` installs it (apt-get install chromium)")


def fake_microphone_args(wav: Path) -> list[str]:
    """Chromium flags that make ``wav`` (played once) the microphone, allowed without asking."""
    return [
        "--use-fake-ui-for-media-stream",
        "--use-fake-device-for-media-stream",
        f"--use-file-for-fake-audio-capture={wav}%noloop",
    ]


@contextmanager
def chromium_page(width: int, height: int, timeout_ms: int, microphone: Optional[Path] = None) -> Iterator[Any]:
    """A fresh page in headless Chromium; fails (never skips) when Chromium is missing.

    With ``microphone`` (a WAV file), the page may record and hears that file.
    """
    require_chromium()
    from playwright.sync_api import sync_playwright

    args = BROWSER_ARGS + (fake_microphone_args(microphone) if microphone else [])
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=args)
        try:
            context = browser.new_context(
                viewport={"width": width, "height": height}, permissions=["microphone"] if microphone else []
            )
            page = context.new_page()
            page.set_default_timeout(timeout_ms)
            yield page
        finally:
            browser.close()
