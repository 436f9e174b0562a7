"""Screenshot of the studio's Policies page for the README (Playwright + system Chromium).

Usage: `PRISM_HOME=HOME python scripts/screenshot_policies.py --policy NAME` where HOME holds
a run under runs/ and the policy in its store. Starts `streamlit run dashboard/app.py` on a
free loopback port as a direct child, opens /policies?policy=NAME, runs the population
preview, waits for its charts and writes assets/screenshot-policies.png; stops the server by
its pid.
"""

from __future__ import annotations

import argparse
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
from playwright.sync_api import sync_playwright

REPO = Path(__file__).resolve().parents[1]
CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run", "--disable-sync"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--policy", required=True)
    parser.add_argument("--out", default=str(REPO / "assets" / "screenshot-policies.png"))
    args = parser.parse_args()
    port = free_port()
    server = subprocess.Popen([sys.executable, "-m", "streamlit", "run", "dashboard/app.py",
                               "--server.port", str(port), "--server.headless", "true",
                               "--server.address", "127.0.0.1",
                               "--browser.gatherUsageStats", "false"], cwd=REPO)
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"http://127.0.0.1:{port}/_stcore/health").status_code == 200:
                    break
            except httpx.HTTPError:
                time.sleep(0.5)
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True,
                                                 args=ARGS)
            page = browser.new_page(viewport={"width": 1280, "height": 2300})
            page.goto(f"http://127.0.0.1:{port}/policies?policy={args.policy}")
            page.get_by_role("tab", name="Population preview").click(timeout=240_000)
            page.get_by_role("button", name="Run the preview").click(timeout=60_000)
            page.wait_for_selector(".js-plotly-plot", timeout=300_000)
            page.wait_for_timeout(3000)
            page.screenshot(path=args.out)
            browser.close()
    finally:
        server.terminate()
        server.wait(timeout=30)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
