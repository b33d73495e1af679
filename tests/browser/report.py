"""Opens clusterdoc HTML reports in a real headless Chromium (Debian's
/usr/bin/chromium, driven by Playwright) and prints what the page shows and
does, as JSON, for tests/html.rs to assert on.

    report.py REPORT.html [SHOTS_PREFIX]

With SHOTS_PREFIX, also writes SHOTS_PREFIX-light.png and -dark.png.
"""
import json
import sys
import time

from playwright.sync_api import sync_playwright

path, shots = sys.argv[1], (sys.argv[2] if len(sys.argv) > 2 else None)
url = "file://" + path
out = {"requests": [], "errors": [], "dialogs": []}


def visible(page, selector):
    return page.locator(selector).evaluate_all(
        "els => els.filter(e => e.offsetParent !== null).length")


with sync_playwright() as p:
    browser = p.chromium.launch(executable_path="/usr/bin/chromium", args=["--no-sandbox"])
    context = browser.new_context()
    page = context.new_page()
    page.on("request", lambda r: out["requests"].append(r.url))
    page.on("pageerror", lambda e: out["errors"].append(str(e)))
    page.on("dialog", lambda d: (out["dialogs"].append(d.message), d.dismiss()))
    started = time.time()
    page.goto(url, wait_until="load")
    out["load_ms"] = page.evaluate(
        "performance.getEntriesByType('navigation')[0].loadEventEnd")
    out["goto_s"] = time.time() - started
    out["title"] = page.title()
    out["filters_shown"] = page.locator("#filters").is_visible()
    out["shown"] = page.locator("#shown").inner_text()
    out["sections"] = page.locator("section.check").count()
    out["visible_sections"] = visible(page, "section.check")
    out["matrix_rows"] = page.locator("tr[data-check]").count()
    out["images"] = page.locator("img").count()
    out["scripts"] = page.locator("script").count()
    out["text"] = page.locator("body").inner_text()
    out["roots"] = visible(page, "#roots li.root")
    out["roots_first"] = page.locator("h2").first.inner_text()
    out["folded_details"] = page.locator(".finding details").count()
    statuses = page.locator("input[name=status]").evaluate_all("bs => bs.map(b => b.value)")
    for status in statuses:
        if status != "fail":
            page.uncheck("input[name=status][value=%s]" % status)
    out["fail_only_visible"] = visible(page, "section.check")
    out["fail_only_rows"] = visible(page, "tr[data-check]")
    out["fail_only_shown"] = page.locator("#shown").inner_text()
    out["hash"] = page.evaluate("location.hash")
    linked = context.new_page()
    linked.goto(url + "#status=warn", wait_until="load")
    out["warn_link_visible"] = visible(linked, "section.check")
    out["warn_link_boxes"] = linked.locator("input[name=status]:checked").evaluate_all(
        "bs => bs.map(b => b.value)")
    if shots:
        for scheme in ("light", "dark"):
            shot = browser.new_context(color_scheme=scheme, viewport={"width": 1100, "height": 1400}).new_page()
            shot.goto(url, wait_until="load")
            shot.screenshot(path="%s-%s.png" % (shots, scheme), full_page=False)
    browser.close()

print(json.dumps(out))
