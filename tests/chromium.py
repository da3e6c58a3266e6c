"""Headless Chromium for the browser tests (Debian's ``chromium`` and ``chromium-driver``): skipped
when missing, failed instead with ``SCHOOLPOST_REQUIRE_BROWSER=1`` (CI sets it)."""

from __future__ import annotations

import io
import os
import shutil

import pytest

CHROMIUM = "/usr/bin/chromium"
CHROMEDRIVER = "/usr/bin/chromedriver"


def tool(path: str, name: str) -> str | None:
    return path if os.path.exists(path) else shutil.which(name)


def start_chromium(request, tmp_path_factory, window: str = "1280,1000"):
    """A headless Chromium driven by Selenium, with a fresh profile, quit at the end of ``request``'s scope."""
    required = os.environ.get("SCHOOLPOST_REQUIRE_BROWSER") == "1"
    chromium = tool(CHROMIUM, "chromium")
    driver_path = tool(CHROMEDRIVER, "chromedriver")
    missing = [name for name, path in (("chromium", chromium), ("chromedriver", driver_path)) if not path]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium")
    if missing:
        message = f"headless browser test needs {', '.join(missing)} (apt-get install chromium chromium-driver)"
        if required:
            pytest.fail(message + "; SCHOOLPOST_REQUIRE_BROWSER=1")
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                "--disable-component-update", "--disable-sync", "--disable-dev-shm-usage", f"--window-size={window}",
                f"--user-data-dir={tmp_path_factory.mktemp('chromium-profile')}"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver_path), options=options)
    request.addfinalizer(driver.quit)
    driver.set_page_load_timeout(60)
    driver.set_script_timeout(30)
    return driver


def assert_not_blank(png: bytes) -> None:
    """A screenshot shows something: many colours, none covering nearly all of it."""
    from PIL import Image

    img = Image.open(io.BytesIO(png)).convert("RGB")
    colours = img.getcolors(maxcolors=img.width * img.height)
    top = max(count for count, _ in colours)
    assert len(colours) > 16, f"only {len(colours)} colours"
    assert top / (img.width * img.height) < 0.99, "one colour covers the screenshot"
