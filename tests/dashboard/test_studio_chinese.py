"""The studio in Chinese in a real Chromium: a GB18030 shop imported, trained, explored.

Builds a home from a Chinese shop (imported with the engine's importer, a small two-tower
without the text encoder), serves the studio with `?lang=zh`, checks the interface text and
that Chinese category names render as glyphs (a CJK font is installed: fonts-noto-cjk), and
saves `assets/screenshot-explorer-zh.png` for the README.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
import shop_exports as shops

pytestmark = [pytest.mark.slow, pytest.mark.browser]

REPO = Path(__file__).resolve().parents[2]
CHROMIUM = Path("/usr/bin/chromium")
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]
# pixels of a Chinese label drawn with the page's font differ from the missing-glyph box
GLYPHS_DIFFER = """(text) => {
    const draw = (s) => {
        const canvas = document.createElement('canvas');
        canvas.width = 120; canvas.height = 40;
        const ctx = canvas.getContext('2d');
        ctx.font = '24px ' + getComputedStyle(document.body).fontFamily;
        ctx.fillText(s, 4, 30);
        return Array.from(ctx.getImageData(0, 0, 120, 40).data).join(',');
    };
    return draw(text) !== draw('\\u{10FFFD}\\u{10FFFD}');
}"""


def _chinese_home(root: Path) -> Path:
    from engine.data.importing import import_source
    from engine.data.sources import read_source
    from engine.training.pipeline import train
    from engine.training.presets import TrainSpec

    home = root / "home"
    shops.write_chinese_catalogue(root / "export")
    _, data = import_source(read_source([root / "export"]), "zh-shop", home=home)
    previous = os.environ.get("PRISM_HOME")
    os.environ["PRISM_HOME"] = str(home)
    try:
        train(**TrainSpec(data_dir=data, out_dir=home / "runs" / "zh", epochs=2, dim=16,
                          use_text=False).train_args())
    finally:
        if previous is None:
            os.environ.pop("PRISM_HOME", None)
        else:
            os.environ["PRISM_HOME"] = previous
    return home


def _serve(home: Path) -> tuple[subprocess.Popen, int]:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port",
         str(port), "--server.headless", "true", "--server.address", "127.0.0.1",
         "--browser.gatherUsageStats", "false"],
        cwd=REPO, env={**os.environ, "PRISM_HOME": str(home), "HF_HUB_OFFLINE": "1"},
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline and process.poll() is None:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2):
                return process, port
        except OSError:
            time.sleep(0.3)
    process.terminate()
    raise RuntimeError("the studio did not start")


def test_explorer_in_chinese(tmp_path):
    if not CHROMIUM.exists():
        pytest.skip(f"no Chromium at {CHROMIUM} (apt-get install chromium)")
    from playwright.sync_api import sync_playwright

    process, port = _serve(_chinese_home(tmp_path))
    try:
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=str(CHROMIUM), headless=True,
                                                 args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 1300})
            page.goto(f"http://127.0.0.1:{port}/?lang=zh&user=顾客001&alpha=0.6")
            page.wait_for_selector('[data-testid="stSlider"]', timeout=180_000)
            page.wait_for_selector(".js-plotly-plot", timeout=180_000)
            page.wait_for_timeout(2500)  # let the charts finish drawing
            body = page.locator("body").inner_text()
            assert "多样性 α" in body and "仅相关性" in body and "类目熵" in body
            labels = page.eval_on_selector_all(".js-plotly-plot text",
                                               "els => els.map(e => e.textContent || '')")
            chinese = [label for label in labels if any("\u4e00" <= ch <= "\u9fff"
                                                        for ch in label)]
            assert chinese, labels  # the coverage chart names Chinese categories
            assert page.evaluate(GLYPHS_DIFFER, chinese[0][:2])
            page.screenshot(path=str(REPO / "assets" / "screenshot-explorer-zh.png"))
            browser.close()
    finally:
        process.terminate()
        process.wait(timeout=10)
