"""Browser fixtures: Python Playwright driving the system's Chromium (Debian's ``chromium``).

No browser is downloaded: Playwright is pointed at ``/usr/bin/chromium`` (or
``LEADBRIDGE_CHROMIUM``). Locally a missing Chromium skips the browser tests; under CI
(``CI=true``) it fails them, since ``.ci/run`` installs it.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from typing import Any

import pytest
from console_support import CHROMIUM_ARGS, DESKTOP, chromium_path


@pytest.fixture(scope="module")
def browser() -> Iterator[Any]:
    """Chromium for one test module. Playwright's sync API keeps an event loop running on this
    thread while it lives, so it must end with the module: pytest-asyncio cannot start the
    async tests of other modules under it."""
    path = chromium_path()
    if path is None:
        if os.environ.get("CI") == "true":
            pytest.fail("Chromium is required under CI (apt-get install chromium) but was not found")
        pytest.skip("Chromium not installed (apt-get install chromium)")
    from playwright.sync_api import expect, sync_playwright

    # expect() keeps a default of its own (5 s), apart from the context's: as generous as the pages' waits.
    expect.set_options(timeout=30_000)
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=path, args=CHROMIUM_ARGS)
        try:
            yield chromium
        finally:
            chromium.close()


@pytest.fixture
def page(browser: Any) -> Iterator[Any]:
    """A desktop-sized page (1366×768) in a fresh context, with the Russian locale."""
    context = browser.new_context(viewport=DESKTOP, locale="ru-RU")
    # Generous on purpose: waits end as soon as the page shows the thing, a loaded machine only waits longer.
    context.set_default_timeout(30_000)
    try:
        yield context.new_page()
    finally:
        context.close()
