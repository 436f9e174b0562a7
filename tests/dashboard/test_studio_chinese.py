"""The studio in Chinese in a real Chromium: a GB18030 shop imported, trained, explored.

Builds a home from a Chinese shop (imported with the engine's importer, a small two-tower
without the text encoder), serves the studio with `?lang=zh`, checks the interface text and
that Chinese category names render as glyphs (a CJK font is installed: fonts-noto-cjk), and
saves a screenshot (`PRISM_SCREENSHOTS=assets` refreshes the README's).
"""

from __future__ import annotations

from pathlib import Path

import pytest
import shop_exports as shops
from browser_support import (
    LONG,
    VIEWPORT,
    charts_drawn,
    chromium,
    require_chromium,
    screenshot_path,
    studio,
)
from dashboard_support import prism_home

pytestmark = [pytest.mark.slow, pytest.mark.browser]

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
    from engine.training.presets import quick_run

    home = root / "home"
    shops.write_chinese_catalogue(root / "export")
    _, data = import_source(read_source([root / "export"]), "zh-shop", home=home)
    with prism_home(home):
        train(quick_run(data_dir=data, out_dir=home / "runs" / "zh", epochs=2, dim=16,
                          use_text=False))
    return home


def test_explorer_in_chinese(tmp_path: Path) -> None:
    require_chromium()
    with studio(_chinese_home(tmp_path)) as base, chromium() as browser:
        page = browser.new_page(viewport=VIEWPORT)
        page.goto(f"{base}/?lang=zh&user=顾客001&alpha=0.6")
        page.wait_for_selector('[data-testid="stSlider"]', timeout=LONG)
        page.wait_for_selector(".js-plotly-plot", timeout=LONG)
        charts_drawn(page)
        body = page.locator("body").inner_text()
        assert "重排权重 w" in body and "仅相关性" in body and "类目熵" in body
        labels = page.eval_on_selector_all(".js-plotly-plot text",
                                           "els => els.map(e => e.textContent || '')")
        chinese = [label for label in labels if any("\u4e00" <= ch <= "\u9fff"
                                                    for ch in label)]
        assert chinese, labels  # the coverage chart names Chinese categories
        assert page.evaluate(GLYPHS_DIFFER, chinese[0][:2])
        page.screenshot(path=str(screenshot_path("screenshot-explorer-zh.png", tmp_path)))
