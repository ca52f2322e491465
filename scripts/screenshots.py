"""Take the README screenshots from a running app: `python scripts/screenshots.py URL USER PASSWORD`.

Uses Debian's chromium through Playwright (no browser download). Writes docs/screenshots/*.png.
Extra pages can be captured with `--page url_path` (repeatable).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
OUT = ROOT / "docs" / "screenshots"
BROKEN = ("Zeitstempel;Warteschlange;Anrufe\n03.03.2025 08:00;calls;12\n03.03.2025 09:00;calls;-4\n"
          "03.03.2025 09:00;calls;7\n03.03.2025 10:17;calls;zwölf\n32.03.2025 11:00;calls;1.234\n")


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("url")
    ap.add_argument("user")
    ap.add_argument("password")
    ap.add_argument("--page", action="append", default=[])
    args = ap.parse_args()
    OUT.mkdir(parents=True, exist_ok=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=[
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_context(viewport={"width": 1400, "height": 1000}).new_page()
        page.goto(args.url)
        page.get_by_label("Username").fill(args.user)
        page.get_by_label("Password", exact=True).fill(args.password)
        page.get_by_role("button", name="Sign in").click()
        expect(page.get_by_role("heading", name="Workforce Planner")).to_be_visible(timeout=60_000)
        time.sleep(3)
        page.screenshot(path=str(OUT / "home.png"), full_page=True)
        page.get_by_test_id("stSidebarNav").get_by_role("link", name="Data", exact=True).click()
        expect(page.get_by_role("heading", name="Data", exact=True)).to_be_visible(timeout=30_000)
        tmp = OUT / "_broken.csv"
        tmp.write_text(BROKEN, encoding="utf-8")
        page.get_by_test_id("stFileUploaderDropzoneInput").set_input_files(str(tmp))
        heading = page.get_by_role("heading", name="Validation report")
        expect(heading).to_be_visible(timeout=30_000)
        time.sleep(2)
        page.get_by_text("Columns recognised").scroll_into_view_if_needed()
        time.sleep(1)
        page.screenshot(path=str(OUT / "validation_report.png"), full_page=True)
        tmp.unlink()
        for url_path in args.page:
            page.goto(f"{args.url}/{url_path}")
            time.sleep(6)
            if url_path == "staffing":  # show a real plan, not the empty form
                page.get_by_role("button", name="Load volume").click()
                expect(page.get_by_text("Agent hours").first).to_be_visible(timeout=60_000)
                time.sleep(3)
                page.get_by_text("Agent hours").first.scroll_into_view_if_needed()
                time.sleep(1)
            page.screenshot(path=str(OUT / f"{url_path}.png"), full_page=True)
        browser.close()


if __name__ == "__main__":
    main()
