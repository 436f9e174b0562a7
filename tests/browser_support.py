"""A studio server and a Chromium for browser tests: one of each per test module.

The server is `streamlit run dashboard/app.py` on a free loopback port, started as a direct
child process and stopped by its pid. Waits are explicit DOM conditions with generous upper
bounds (the machine may be busy), never sleeps.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.parse
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = Path("/usr/bin/chromium")
VIEWPORT = {"width": 1280, "height": 1300}
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
RUNNING = ('[data-testid="stStatusWidgetRunningIcon"], '
           '[data-testid="stStatusWidgetRunningManIcon"]')
IDLE_APP = '[data-testid="stApp"][data-test-script-state="notRunning"]'
# ms: the upper bound of any wait (a busy 2-core machine); PRISM_BROWSER_WAIT_MS overrides
LONG = int(os.environ.get("PRISM_BROWSER_WAIT_MS", 300_000))
STUDIOS: dict[int, int] = {}  # port → pid of each running studio server (for stack dumps)


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(port: int, process: subprocess.Popen, seconds: float = 90.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"streamlit exited with code {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return
        except OSError:
            time.sleep(0.3)  # polling the health endpoint, not waiting for the UI
    raise TimeoutError(f"streamlit did not answer on port {port} within {seconds:.0f}s")


def screenshot_path(name: str, scratch: Path) -> Path:
    """Where a test saves screenshot `name`: `scratch` (a test's own temporary folder), or the
    folder PRISM_SCREENSHOTS names when the README's pictures are being refreshed
    (`PRISM_SCREENSHOTS=assets`), so a test run never rewrites files in the repository."""
    folder = Path(os.environ.get("PRISM_SCREENSHOTS") or scratch)
    folder.mkdir(parents=True, exist_ok=True)
    return folder / name


def require_chromium() -> None:
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")


@contextmanager
def studio(home: Path, extra_env: dict[str, str] | None = None,
           extra_args: tuple[str, ...] = (), port: int | None = None,
           app: str = "dashboard/app.py") -> Iterator[str]:
    """Base URL of a studio serving `home` (on `port`, else a free one; `extra_args` go to
    `streamlit run`; `app`: another script, e.g. a benchmark's bare app); the server is
    stopped by its own pid after."""
    port = port or free_port()
    env = {**os.environ, "PRISM_HOME": str(home), "HF_HUB_OFFLINE": "1",
           "TOKENIZERS_PARALLELISM": "false", **(extra_env or {})}
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", app, "--server.port",
         str(port), "--server.headless", "true", "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none",
         *extra_args],
        cwd=REPO, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    STUDIOS[port] = process.pid
    try:
        wait_healthy(port, process)
        yield f"http://127.0.0.1:{port}"
    finally:
        STUDIOS.pop(port, None)
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()


@contextmanager
def chromium() -> Iterator[object]:
    """One headless Debian Chromium driven by Playwright."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                             args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


def server_stacks(page) -> str:  # noqa: ANN001 - playwright Page
    """Every thread's Python stack in the studio server behind `page` (py-spy), so a wait
    that timed out says where the app was stuck."""
    pid = STUDIOS.get(urllib.parse.urlsplit(page.url).port or 0)
    if pid is None:
        return "(no studio server of this test serves the page)"
    spy = Path(sys.executable).with_name("py-spy")
    try:
        done = subprocess.run([str(spy), "dump", "--pid", str(pid)], capture_output=True,
                              text=True, timeout=120, check=False)
    except (OSError, subprocess.TimeoutExpired) as exc:
        return f"(no stacks: {exc})"
    return done.stdout or done.stderr


def stuck(page, what: str) -> AssertionError:  # noqa: ANN001 - playwright Page
    """The failure for a wait that timed out: what was awaited, the page's main text and
    the studio's threads."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        shown = page.locator('[data-testid="stMain"]').inner_text(timeout=10_000)
    except PlaywrightTimeout:  # no main area drawn yet
        shown = body_text(page)
    return AssertionError(f"timed out waiting for {what}; the page shows {shown[-1500:]!r}\n"
                          f"studio threads:\n{server_stacks(page)}")


def idle(page) -> None:  # noqa: ANN001 - playwright Page
    """Wait until the app has finished its script run and drawn all of it.

    The app root carries the script's run state; the running indicator alone is not enough,
    because it only appears once a run is 500 ms old: a test that saw the first element of a
    run could otherwise act on the rest of the page before that run has redrawn it."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    try:
        page.wait_for_selector(IDLE_APP, state="attached", timeout=LONG)
        page.wait_for_selector(RUNNING, state="detached", timeout=LONG)
    except PlaywrightTimeout:
        raise stuck(page, "the app's script run to end") from None


CHARTS_DRAWN = """() => {
  const charts = [...document.querySelectorAll('.js-plotly-plot')];
  return charts.length > 0 && charts.every(c => c._fullLayout && c.querySelector('.main-svg'));
}"""


def charts_drawn(page) -> None:  # noqa: ANN001 - playwright Page
    """Wait until the app's run is over and Plotly has laid out and drawn every chart."""
    idle(page)
    page.wait_for_function(CHARTS_DRAWN, timeout=LONG)


def open_page(browser, url: str):  # noqa: ANN001, ANN201 - playwright objects
    """A fresh context (no shared session) at `url`, once the app has drawn its title."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    page = browser.new_context(viewport=VIEWPORT, accept_downloads=True).new_page()
    page.set_default_timeout(LONG)
    page.goto(url)
    try:
        page.wait_for_selector("h1", timeout=LONG)
    except PlaywrightTimeout:
        raise stuck(page, "the page's title") from None
    idle(page)
    return page


def body_text(page) -> str:  # noqa: ANN001 - playwright Page
    return page.locator("body").inner_text()


def wait_text(page, text: str) -> None:  # noqa: ANN001 - playwright Page
    """Wait until `text` is somewhere on the page and the run that drew it is over.

    Streamlit draws a run's elements one by one and removes what the run no longer draws
    only when it ends, so a check made as soon as the text shows could still see elements of
    the run before."""
    page.wait_for_function("t => document.body.innerText.includes(t)", arg=text, timeout=LONG)
    idle(page)


def open_expander(page, label: str, inside: str) -> None:  # noqa: ANN001 - playwright Page
    """Open the expander titled `label` and wait until `inside` shows. A rerun that redraws
    the page can close an expander opened mid-run, so it is opened on an idle page and
    opened again if the redraw closed it."""
    summary = page.locator('[data-testid="stExpander"] summary').filter(has_text=label).first
    for _ in range(3):
        idle(page)
        if inside in body_text(page):
            return
        summary.click()
        idle(page)
    wait_text(page, inside)


def pick_option(page, label: str, option: str) -> None:  # noqa: ANN001 - playwright Page
    """Choose `option` in the Streamlit selectbox whose label is `label` (opened again when a
    rerun that was still drawing the page closed its list)."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    box = page.locator('[data-testid="stSelectbox"]').filter(has_text=label).first
    choice = page.get_by_role("option", name=option, exact=False).first
    for _ in range(3):
        idle(page)
        box.get_by_role("button", name="Open").click()
        try:
            choice.wait_for(state="visible", timeout=LONG // 6)
        except PlaywrightTimeout:
            page.keyboard.press("Escape")
            continue
        choice.click()
        idle(page)
        return
    raise AssertionError(f"option {option!r} never showed in the {label!r} list")


def selected(page, label: str) -> str:  # noqa: ANN001 - playwright Page
    """The shown value of the selectbox labelled `label` (a combobox input)."""
    return page.get_by_role("combobox", name=label).first.input_value()


UPLOAD_INPUT = '[data-testid="stFileUploaderDropzoneInput"]'
# the Import page's caption that names the uploaded files (as `code`), drawn by a script run
# that saw the uploader's value: exactly `names`, so a caption left from earlier files is no match
TAKEN = """names => [...document.querySelectorAll('[data-testid="stCaptionContainer"]')]
  .some(c => { const shown = [...c.querySelectorAll('code')].map(e => e.innerText).sort();
               return shown.length > 0 && JSON.stringify(shown) === JSON.stringify(names); })"""


def upload(page, paths: list[Path], read: str = "Read") -> None:  # noqa: ANN001 - playwright Page
    """Send `paths` through the Import page's uploader, wait until the app holds every one of
    them, then press `read` (the Read button's words in the page's language).

    The uploader shows a file's name while its bytes are still on their way; pressing Read
    then would read what the server had before. The page's own caption naming exactly these
    files is drawn only by a run that received them."""
    page.locator(UPLOAD_INPUT).set_input_files([str(p) for p in paths])
    page.wait_for_function(TAKEN, arg=sorted(p.name for p in paths), timeout=LONG)
    idle(page)
    page.get_by_role("button", name=read, exact=True).click()


def enter_text(page, box, text: str) -> None:  # noqa: ANN001 - playwright Page, Locator
    """Type `text` into the Streamlit text or number input `box` and apply it with Enter, as
    a person does, and return once the app has taken it.

    While the box holds an edit the app has not taken, it says "Press Enter to apply". A
    rerun already on its way when the text was typed can redraw the box under it, dropping
    the text or the Enter; then the text is typed and entered again on the idle page."""
    from playwright.sync_api import TimeoutError as PlaywrightTimeout

    widget = page.locator('[data-testid="stTextInput"], [data-testid="stNumberInput"]'
                          ).filter(has=box)
    pending = widget.locator('[data-testid="InputInstructions"]').filter(has_text="Enter")
    for _ in range(3):
        idle(page)
        box.fill(text)
        box.press("Enter")
        try:
            pending.wait_for(state="detached", timeout=LONG // 6)
        except PlaywrightTimeout:
            continue  # the Enter was dropped: the edit is still waiting
        idle(page)
        if box.input_value() == text:
            return
    raise AssertionError(f"the app never took {text!r}: {body_text(page)[:400]!r}")


def go_to(page, title: str) -> None:  # noqa: ANN001 - playwright Page
    """Switch page through the sidebar navigation and wait for its title."""
    page.locator('[data-testid="stSidebarNav"] a').filter(has_text=title).first.click()
    page.wait_for_selector(f'h1:has-text("{title}")', timeout=LONG)
    idle(page)
