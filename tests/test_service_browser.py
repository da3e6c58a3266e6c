"""``schoolpost serve`` end to end in a real browser against a real server process (issue 19).

A planner's afternoon: upload the shipped workbook, solve it for 10 seconds while the page shows
the progress, read the heat-map, the gaps and the downloads, check the downloaded roster.csv with
the validator, publish it; and a broken file that the page refuses, naming the field.

Headless Chromium with Selenium (Debian's chromium and chromium-driver), started as in
tests/test_human_html.py: without them the tests skip, unless SCHOOLPOST_REQUIRE_BROWSER=1 (CI),
where they fail. With SCHOOLPOST_SCREENSHOT=1 the run page is saved as docs/images/serve.png for
the README; otherwise the screenshot goes to the test's temporary folder.
"""

from __future__ import annotations

import csv
import io
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from chromium import assert_not_blank, start_chromium

pytest.importorskip("fastapi")
pytest.importorskip("uvicorn")

from models import load_instance
from scheduler.check import check_rows

ROOT = Path(__file__).resolve().parents[1]
SMALL = ROOT / "instances" / "small-school.yaml"
SCREENSHOT = ROOT / "docs" / "images" / "serve.png"
#: the solve's time limit typed into the page, and how long the run may take in all
TIME_LIMIT = 10
RUN_TIMEOUT = 180
BROKEN_YAML = "format: schoolpost/1\nname: x\n"



def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as r:
            return r.status == 200
    except (urllib.error.URLError, ConnectionError, TimeoutError, OSError):
        return False


def _stop(proc: subprocess.Popen) -> None:
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGINT)  # Ctrl-C: uvicorn shuts down and the job runner stops its solves
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=10)


# --------------------------------------------------------------------------------------------
# Fixtures: the browser, the server, the workbook
# --------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def browser(request, tmp_path_factory):
    return start_chromium(request, tmp_path_factory, window="1280,1000")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    """The base URL of ``python -m scheduler serve`` on a free port, with its own data folder."""
    tmp = tmp_path_factory.mktemp("serve")
    port = _free_port()
    log = (tmp / "server.log").open("wb")
    proc = subprocess.Popen([sys.executable, "-m", "scheduler", "serve", "--port", str(port),
                             "--data-dir", str(tmp / "data")],
                            cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while not _answers(base + "/"):
            if proc.poll() is not None:
                raise AssertionError(f"the server exited with {proc.returncode}: "
                                     f"{(tmp / 'server.log').read_text(errors='replace')}")
            if time.monotonic() > deadline:
                raise AssertionError(f"the server did not answer in 60 s: "
                                     f"{(tmp / 'server.log').read_text(errors='replace')}")
            time.sleep(0.3)
        yield base
    finally:
        _stop(proc)
        log.close()
    assert proc.returncode is not None


@pytest.fixture(scope="module")
def workbook(tmp_path_factory) -> Path:
    """The shipped small school as the planners' workbook (``schoolpost template --from``)."""
    book = tmp_path_factory.mktemp("book") / "small-school.xlsx"
    subprocess.run([sys.executable, "-m", "scheduler", "template", str(book), "--from", str(SMALL)],
                   cwd=ROOT, check=True, capture_output=True, timeout=120)
    return book


# --------------------------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------------------------


def _wait(driver, timeout: float, condition, message: str):
    from selenium.common.exceptions import StaleElementReferenceException
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, timeout, poll_frequency=0.25,
                         ignored_exceptions=(StaleElementReferenceException,)).until(condition, message)


def _loaded(driver) -> bool:
    return driver.execute_script("return document.readyState") == "complete"


def _status_done_after_reload(driver):
    """The run page rendered by the server with the final status (after run.js reloaded it)."""
    from selenium.webdriver.common.by import By

    if not _loaded(driver):
        return False
    state = driver.find_elements(By.ID, "state")
    status = driver.find_elements(By.ID, "status")
    if not state or not status:
        return False
    final = state[0].get_attribute("data-status")  # as rendered; run.js only changes #status
    if final in ("failed", "cancelled"):
        return final
    return status[0].text.strip() == "done" and final == "done" and bool(driver.find_elements(By.ID, "heatmap"))


def _submit(driver, form_id: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.CSS_SELECTOR, f"form#{form_id} [type=submit]").click()


def _severe(driver) -> list[dict]:
    """The console's errors (the page names an empty icon, so even the favicon is not asked for)."""
    return [e for e in driver.get_log("browser") if e.get("level") == "SEVERE"]


# --------------------------------------------------------------------------------------------
# Tests
# --------------------------------------------------------------------------------------------


def test_upload_solve_read_download_and_publish_in_chromium(browser, server, workbook, tmp_path):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as EC

    driver = browser
    driver.get_log("browser")
    driver.get(server + "/")
    _wait(driver, 30, _loaded, "the index page did not load")
    assert not _severe(driver)

    # upload the workbook: checked, stored, and on to the instance's page
    driver.find_element(By.ID, "file").send_keys(str(workbook.resolve()))
    _submit(driver, "upload")
    _wait(driver, 60, EC.url_matches(r"/instances/\d+$"), "the upload did not lead to the instance page")
    assert not driver.find_elements(By.ID, "upload-error")
    inst = load_instance(SMALL)
    assert inst.name in driver.find_element(By.TAG_NAME, "h1").text

    # solve for 10 seconds; the run page follows the progress and reloads itself when it ends
    limit = driver.find_element(By.ID, "time_limit")
    limit.clear()
    limit.send_keys(str(TIME_LIMIT))
    _submit(driver, "solve")
    _wait(driver, 30, EC.url_matches(r"/runs/\d+$"), "the solve form did not lead to the run page")
    run_url = driver.current_url
    first = driver.find_element(By.ID, "state").get_attribute("data-status")
    final = _wait(driver, RUN_TIMEOUT, _status_done_after_reload, f"the run did not end in {RUN_TIMEOUT} s")
    assert final is True, f"the run ended {final}: {driver.find_element(By.ID, 'state').text}"
    assert driver.current_url == run_url
    if first in ("queued", "running"):
        # run.js followed the run and reloaded the page: data-status is written by the server only,
        # and the cancel form (with the script) is gone
        assert driver.find_element(By.ID, "state").get_attribute("data-status") == "done"
        assert not driver.find_elements(By.ID, "cancel")
    with urllib.request.urlopen(server + "/api/runs/" + run_url.rsplit("/", 1)[1], timeout=30) as r:
        assert json.load(r)["time_limit"] == TIME_LIMIT  # the field's value reached the run
    assert driver.find_element(By.ID, "status").text == "done"
    assert not driver.find_elements(By.ID, "run-error")
    assert "roster valid" in driver.find_element(By.ID, "result").text

    # the heat-map: one row per school, at least one cell
    heat = driver.find_element(By.ID, "heatmap")
    assert heat.is_displayed()
    cells = heat.find_elements(By.CSS_SELECTOR, "td.cell")
    assert cells and all(c.text.strip() for c in cells)
    assert len(heat.find_elements(By.CSS_SELECTOR, "tbody tr")) == len(inst.schools)
    # the gaps: a table of them, or the words "No gaps."
    gaps_section = driver.find_element(By.ID, "gaps-section")
    assert gaps_section.find_element(By.TAG_NAME, "h2").text.startswith("Gaps (")
    assert gaps_section.find_elements(By.ID, "gaps") or "No gaps." in gaps_section.text

    # the downloads: roster.csv, fetched over HTTP from the page's link, passes the validator
    files = driver.find_element(By.ID, "files")
    links = {a.text: a.get_attribute("href") for a in files.find_elements(By.TAG_NAME, "a")}
    assert "roster.csv" in links, links
    assert links["roster.csv"].startswith(server + "/")
    with urllib.request.urlopen(links["roster.csv"], timeout=30) as r:
        assert r.status == 200
        rows = list(csv.DictReader(io.StringIO(r.read().decode("utf-8"))))
    assert rows
    report = check_rows(inst, rows)
    assert report.ok, [str(v) for v in report.violations]
    # the heat-map counts the roster's duties at schools
    assert sum(int(c.text.split()[0]) for c in cells) == sum(1 for r in rows if r["school_id"])

    # the screenshot for the README: the run page with its heat-map
    driver.execute_script("window.scrollTo(0, 0)")
    # a 1280 x 1000 page whatever room the headless window's frame takes
    driver.execute_cdp_cmd("Emulation.setDeviceMetricsOverride",
                           {"width": 1280, "height": 1000, "deviceScaleFactor": 1, "mobile": False})
    try:
        png = driver.get_screenshot_as_png()
    finally:
        driver.execute_cdp_cmd("Emulation.clearDeviceMetricsOverride", {})
    assert_not_blank(png)
    shot = SCREENSHOT if os.environ.get("SCHOOLPOST_SCREENSHOT") == "1" else tmp_path / "serve.png"
    shot.parent.mkdir(parents=True, exist_ok=True)
    shot.write_bytes(png)

    # publish: the page comes back with version 1
    _submit(driver, "publish")
    _wait(driver, 30, EC.presence_of_element_located((By.ID, "published-1")), "no publication shown")
    assert "Published as version 1" in driver.find_element(By.TAG_NAME, "body").text
    assert driver.current_url == run_url
    assert not _severe(driver)

    # someone is absent from the second day: repair, see the changes, accept them as version 2
    from selenium.webdriver.support.ui import Select

    counts: dict[str, int] = {}
    for r in rows:
        counts[r["person_id"]] = counts.get(r["person_id"], 0) + 1
    absent = max(sorted(counts), key=lambda p: counts[p])
    second = sorted({r["date"] for r in rows})[1]
    Select(driver.find_element(By.ID, "absent")).select_by_value(absent)
    Select(driver.find_element(By.ID, "from_date")).select_by_value(second)
    _submit(driver, "repair")
    _wait(driver, 30, lambda d: d.current_url != run_url and "/runs/" in d.current_url, "no repair page")
    repair_url = driver.current_url
    final = _wait(driver, RUN_TIMEOUT, _status_done_after_reload, f"the repair did not end in {RUN_TIMEOUT} s")
    assert final is True, driver.find_element(By.ID, "state").text
    changes = driver.find_element(By.ID, "changes")
    removed = [tr.text for tr in changes.find_elements(By.CSS_SELECTOR, "tr.removed")]
    assert any(absent in text for text in removed), removed
    _submit(driver, "publish")
    _wait(driver, 30, EC.presence_of_element_located((By.ID, "published-2")), "the repair was not published")
    assert driver.current_url == repair_url
    with urllib.request.urlopen(f"{server}/api/history/persons/{absent}", timeout=30) as r:
        history = json.load(r)
    assert history and all(h["version"] == 2 and h["date"] < second for h in history)
    assert not _severe(driver)


def test_a_broken_upload_is_refused_on_the_page_naming_the_field(browser, server, tmp_path):
    from selenium.webdriver.common.by import By

    driver = browser
    bad = tmp_path / "broken.yaml"
    bad.write_text(BROKEN_YAML, encoding="utf-8")
    driver.get(server + "/")
    _wait(driver, 30, _loaded, "the index page did not load")
    driver.find_element(By.ID, "file").send_keys(str(bad.resolve()))
    _submit(driver, "upload")
    error = _wait(driver, 60, lambda d: d.find_elements(By.ID, "upload-error"), "no upload error shown")[0]
    assert error.is_displayed()
    text = error.text
    assert "broken.yaml" in text and "was not taken" in text
    assert "week_start" in text, text  # the first missing field, as the command line names it
    # the form is there again for the next try
    assert driver.find_element(By.ID, "file").is_displayed()
