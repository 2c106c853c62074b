"""A real browser for the HTML player's tests and benchmark: headless Chromium driven by Playwright,
software WebGL (SwiftShader), every network request refused and counted.

Chromium is the system's (Debian's ``chromium`` package, or ``$AVATARIUM_CHROMIUM``); Playwright's own
browser downloads are never used. Both are test-time tools, not run-time dependencies.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

_CANDIDATES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
#: Software WebGL 2 that needs no GPU, the flags Chromium asks for to use it outside tests.
_FLAGS = ("--use-angle=swiftshader", "--enable-unsafe-swiftshader", "--no-sandbox", "--disable-background-networking",
          "--disable-component-update", "--disable-sync", "--no-first-run")


class BrowserUnavailable(RuntimeError):
    """No Chromium or no Playwright on this machine; the message says what to install."""


def chromium_path() -> Path:
    """The Chromium executable: ``$AVATARIUM_CHROMIUM`` or the first of chromium / chromium-browser /
    google-chrome on the PATH."""
    chosen = os.environ.get("AVATARIUM_CHROMIUM")
    if chosen:
        if not Path(chosen).is_file():
            raise BrowserUnavailable(f"AVATARIUM_CHROMIUM={chosen} is not a file")
        return Path(chosen)
    for name in _CANDIDATES:
        found = shutil.which(name)
        if found:
            return Path(found)
    raise BrowserUnavailable("no Chromium found: install it (Debian/Ubuntu: apt-get install chromium) or set "
                             "AVATARIUM_CHROMIUM to a Chrome or Chromium executable")


def require_browser() -> Path:
    """The Chromium executable, once Playwright is known to be importable; BrowserUnavailable otherwise."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        raise BrowserUnavailable("Playwright is not installed: pip install playwright (the project's test "
                                 "extra has it); no browser download is needed") from None
    return chromium_path()


@dataclass
class Requests:
    """Network requests the page made (all refused): URLs other than the page's own file."""

    refused: list[str] = field(default_factory=list)


@contextmanager
def offline_page(width: int, height: int) -> Iterator[tuple[object, Requests]]:
    """A Playwright page of ``width`` x ``height`` CSS pixels (device pixel ratio 1) in headless Chromium
    with the network off: every request that is not a ``file:`` URL is aborted and recorded."""
    executable = require_browser()
    from playwright.sync_api import sync_playwright

    requests = Requests()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(executable), args=list(_FLAGS))
        try:
            context = browser.new_context(viewport={"width": width, "height": height}, device_scale_factor=1,
                                          offline=True)

            def refuse(route) -> None:
                if route.request.url.startswith("file:"):
                    route.continue_()
                else:
                    requests.refused.append(route.request.url)
                    route.abort()

            context.route("**/*", refuse)
            yield context.new_page(), requests
        finally:
            browser.close()
