"""The web dashboard in a real browser (Playwright driving Debian's Chromium) against a real
server: submit from the page and watch the plot grow while the job runs, cancel from the page,
compare two jobs, download a result, and the API keys' boundaries. Every request the browser
makes outside the server is blocked and recorded, and the test fails if there is any: the pages
must work offline.

The browser tests skip when no Chromium is installed (``MIPGUIDE_CHROMIUM`` or ``chromium`` on
PATH); with ``MIPGUIDE_TEST_BROWSER=required`` (CI) they fail instead. Screenshots of the job and
compare pages go to the test's folder, and also to ``MIPGUIDE_SCREENSHOT_DIR`` when it is set
(how docs/dashboard/ is refreshed).
"""

from __future__ import annotations

import csv
import io
import os
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from tests.api.serverutil import KEY_A, KEY_B, TINY_MPS_TEXT, Server, launch
from tests.required import need

MIPLIB = Path(__file__).parents[1] / "data" / "miplib"
MODEL_DIR = Path(__file__).parents[2] / "models" / "weights"
pytestmark = pytest.mark.slow


def _chromium() -> str | None:
    return os.environ.get("MIPGUIDE_CHROMIUM") or shutil.which("chromium")


def _need_browser() -> str:
    exe = _chromium()
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        exe = None
    reason = "no Chromium (MIPGUIDE_CHROMIUM or chromium on PATH) or no playwright"
    return need(exe, reason, "MIPGUIDE_TEST_BROWSER")


@pytest.fixture(scope="module")
def ui_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    """One worker: a job submitted behind another one waits in the queue while the page opens."""
    srv = launch(tmp_path_factory.mktemp("ui"), workers=1, model_dir=str(MODEL_DIR))
    yield srv
    srv.stop()


@pytest.fixture(scope="module")
def browser(ui_server: Server) -> Iterator[Any]:
    exe = _need_browser()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=exe, args=["--no-sandbox"])
        yield b
        b.close()


class Page:
    """A browser page on the server with every non-local request blocked and recorded."""

    def __init__(self, browser: Any, server: Server) -> None:
        self.server = server
        self.context = browser.new_context(
            accept_downloads=True, viewport={"width": 1100, "height": 900}
        )
        self.outside: list[str] = []
        self.errors: list[str] = []
        local = urlsplit(server.url).netloc

        def guard(route: Any) -> None:
            url = route.request.url
            if urlsplit(url).scheme in ("blob", "data") or urlsplit(url).netloc == local:
                route.continue_()
            else:
                self.outside.append(url)
                route.abort()

        self.context.route("**/*", guard)
        self.page = self.context.new_page()
        self.page.on("pageerror", lambda exc: self.errors.append(str(exc)))
        self.page.set_default_timeout(30_000)

    def open(self, hash_: str = "#/jobs", key: str | None = KEY_A) -> Any:
        page = self.page
        page.goto(f"{self.server.url}/ui/{hash_}")
        if key is not None:
            page.fill("#key", key)
            page.click("#key-form button")
        return page

    def close(self) -> None:
        self.context.close()
        assert self.outside == [], f"requests outside the server: {self.outside}"
        assert self.errors == [], f"script errors: {self.errors}"


@pytest.fixture
def ui(browser: Any, ui_server: Server) -> Iterator[Page]:
    p = Page(browser, ui_server)
    yield p
    p.close()


def _submit(server: Server, name: str, key: str = KEY_A, **options: Any) -> str:
    path = MIPLIB / name
    with server.http(key) as http, path.open("rb") as fh:
        data = {k: str(v) for k, v in options.items()}
        r = http.post("/v1/jobs", files={"file": (name, fh)}, data=data)
    assert r.status_code == 202, r.text
    return str(r.json()["id"])


def _wait_end(server: Server, job_id: str, key: str = KEY_A) -> dict[str, Any]:
    with server.http(key) as http:
        job: dict[str, Any] = http.get(f"/v1/jobs/{job_id}", params={"wait": 60}).json()
    assert job["state"] in ("completed", "failed", "cancelled"), job
    return job


def _screenshot(page: Any, name: str, folder: Path) -> None:
    page.screenshot(path=str(folder / name), full_page=True)
    extra = os.environ.get("MIPGUIDE_SCREENSHOT_DIR")
    if extra:
        Path(extra).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(Path(extra) / name), full_page=True)


def test_pages_and_api_docs_are_served_with_local_assets_only(ui_server: Server) -> None:
    with httpx.Client(base_url=ui_server.url, timeout=30) as http:
        assert http.get("/", follow_redirects=False).headers["location"] == "/ui/"
        page = http.get("/ui/")
        assert (
            page.status_code == 200
            and "default-src 'self'" in page.headers["content-security-policy"]
        )
        for path in ("/ui/", "/docs", "/redoc"):
            html = http.get(path).text
            assert "http://" not in html and "https://" not in html, path
        for asset in (
            "app.js",
            "app.css",
            "vendor/swagger-ui-bundle.js",
            "vendor/redoc.standalone.js",
        ):
            assert http.get(f"/ui/static/{asset}").status_code == 200, asset
        assert http.get("/ui/static/../routes/ui.py").status_code == 404
        assert http.get("/ui/static/%2e%2e/routes/ui.py").status_code == 404


def test_plot_png_of_a_job(ui_server: Server) -> None:
    with ui_server.http() as http:
        r = http.post("/v1/jobs", files={"file": ("tiny.mps", TINY_MPS_TEXT)}, params={"wait": 30})
        job = r.json()
        png = http.get(f"/v1/jobs/{job['id']}/plot.png")
        assert png.status_code == 200 and png.headers["content-type"] == "image/png"
        assert png.content.startswith(b"\x89PNG") and len(png.content) > 5000
        assert job["gap"] == 0.0 and job["bound"] == pytest.approx(job["objective"])
    with ui_server.http(KEY_B) as other:  # another key's job: not found, as for every route
        assert other.get(f"/v1/jobs/{job['id']}/plot.png").status_code == 404


def test_submit_watch_cancel_compare_download(ui: Page, ui_server: Server, tmp_path: Path) -> None:
    # the one worker is busy for ~3 s: the job submitted from the page waits in the queue
    blocker = _submit(ui_server, "markshare2.mps.gz", solver="scip", time_limit=3, threads=1)
    page = ui.open("#/submit")
    page.set_input_files("#file", str(MIPLIB / "markshare1.mps.gz"))
    page.select_option("#solver", "scip")
    page.fill("#time_limit", "8")
    page.fill("#tags", "ui-test")
    page.click("#submit")
    page.wait_for_url("**/ui/#/job/*")
    job_id = page.url.rsplit("/", 1)[1]
    points = "#plot circle.inc"
    before = page.locator(points).count()
    # the plot gains points from the live stream while the job runs
    # (polled from here: the page's CSP refuses the string evaluation wait_for_function uses)
    deadline = time.monotonic() + 30
    while page.locator(points).count() < before + 2 and time.monotonic() < deadline:
        page.wait_for_timeout(50)
    assert page.locator(points).count() >= before + 2, (before, page.locator(points).count())
    with ui_server.http() as http:
        assert http.get(f"/v1/jobs/{job_id}").json()["state"] == "running"
    page.wait_for_selector("h1 [data-state='completed']", timeout=60_000)
    ended = _wait_end(ui_server, job_id)
    assert page.locator(points).count() >= 2
    assert page.locator("#log").inner_text().strip() != ""
    page.wait_for_selector("#result:not(:empty)")
    _screenshot(page, "job.png", tmp_path)

    # download the csv from the page: the verified values, as the API serves them
    with page.expect_download() as dl:
        page.click("#downloads a[data-format='csv']")
    text = Path(dl.value.path()).read_text()
    rows = list(csv.reader(io.StringIO(text)))
    with ui_server.http() as http:
        assert text == http.get(f"/v1/jobs/{job_id}/result", params={"format": "csv"}).text
    assert len(rows) > 10 and ended["objective"] is not None

    # cancel a long job from its page
    long_job = _submit(ui_server, "markshare2.mps.gz", solver="scip", time_limit=600, threads=1)
    page.goto(f"{ui_server.url}/ui/#/job/{long_job}")
    page.wait_for_selector("h1 [data-state='running']", timeout=30_000)
    page.click("#cancel")
    page.wait_for_selector("h1 [data-state='cancelled']", timeout=30_000)
    assert _wait_end(ui_server, long_job)["state"] == "cancelled"

    # the jobs list shows them, filtered by tag and state
    page.goto(f"{ui_server.url}/ui/#/jobs?tag=ui-test")
    page.wait_for_selector(f"tr[data-job='{job_id}']")
    assert page.locator("#jobs tbody tr").count() == 1
    page.goto(f"{ui_server.url}/ui/#/jobs?state=cancelled")
    page.wait_for_selector(f"tr[data-job='{long_job}']")
    assert page.locator(f"tr[data-job='{job_id}']").count() == 0

    # compare: both solves' gap curves on one plot
    _wait_end(ui_server, blocker)
    page.goto(f"{ui_server.url}/ui/#/compare?ids={blocker},{job_id}")
    page.wait_for_selector("#compare-plot path[data-series]")
    assert page.locator("#compare-plot path[data-series]").count() == 2
    assert page.locator("#compare-table tbody tr").count() == 2
    _screenshot(page, "compare.png", tmp_path)


def test_keys_wrong_key_error_and_other_keys_jobs_hidden(ui: Page, ui_server: Server) -> None:
    theirs = _submit(ui_server, "p0033.mps.gz", key=KEY_B, solver="scip")
    mine = _submit(ui_server, "p0033.mps.gz", key=KEY_A, solver="scip")
    page = ui.open("#/jobs", key="not-a-key")
    page.wait_for_selector("#error:not([hidden])")
    assert "API key" in page.inner_text("#error")
    assert page.locator("#jobs tbody tr").count() == 0
    page.fill("#key", KEY_A)
    page.click("#key-form button")
    page.wait_for_selector(f"tr[data-job='{mine}']")
    assert page.locator(f"tr[data-job='{theirs}']").count() == 0
    assert page.is_hidden("#error")
    # another key's job by its id: the API's 404, shown as an error
    page.goto(f"{ui_server.url}/ui/#/job/{theirs}")
    page.wait_for_selector("#error:not([hidden])")
    assert f"no job {theirs}" in page.inner_text("#error")
    # the models page lists the shipped models
    page.goto(f"{ui_server.url}/ui/#/models")
    page.wait_for_selector("#models tbody tr")
    assert page.locator("#models tbody tr").count() >= 1


def test_api_docs_render_offline(ui: Page, ui_server: Server) -> None:
    page = ui.page
    page.goto(f"{ui_server.url}/docs")
    page.wait_for_selector(".swagger-ui .opblock", timeout=30_000)
    assert page.locator(".opblock").count() > 10
    page.goto(f"{ui_server.url}/redoc")
    page.wait_for_selector(".api-content h2", timeout=30_000)
    assert "jobs" in page.inner_text(".menu-content").lower()


def test_batch_from_the_page_dmmv_job_and_model_card(
    ui: Page, ui_server: Server, tmp_path: Path
) -> None:
    from tests.api.test_api_dmmv import hard_body

    page = ui.open("#/submit")
    page.set_input_files("#file", [str(MIPLIB / "p0033.mps.gz"), str(MIPLIB / "stein27.mps.gz")])
    page.select_option("#solver", "highs")
    page.click("#submit")
    page.wait_for_url("**/ui/#/batch/*")
    batch_id = page.url.rsplit("/", 1)[1]
    page.wait_for_selector("#counts [data-state='completed']")
    # the counts per state follow the batch to its end (the page refreshes itself)
    deadline = time.monotonic() + 60
    done = "#counts [data-state='completed']"
    while "2" not in page.inner_text(done) and time.monotonic() < deadline:
        page.wait_for_timeout(200)
    assert page.inner_text(done).split()[-1] == "2"
    assert page.locator("#batch-jobs tbody tr").count() == 2
    with ui_server.http() as http:
        assert http.get(f"/v1/batches/{batch_id}").json()["counts"]["completed"] == 2

    # a DMMV job's page plots the max violation over time
    with ui_server.http() as http:
        r = http.post("/v1/dmmv", json=hard_body(60, 30, 2.0), params={"wait": 30})
    dmmv = r.json()
    assert dmmv["state"] == "completed", dmmv
    page.goto(f"{ui_server.url}/ui/#/job/{dmmv['id']}")
    page.wait_for_selector("#plot path[data-series='max violation']", state="attached")
    assert page.locator("#gap-plot").count() == 0
    assert page.locator("#downloads a").count() == 2  # json and the plot: no sol or csv

    # a model's card from the models page
    page.goto(f"{ui_server.url}/ui/#/models")
    page.click("#models tbody tr a")
    page.wait_for_selector("#model-card:not([hidden])")
    assert '"kind"' in page.inner_text("#model-card") or "signature" in page.inner_text(
        "#model-card"
    )
