#!/usr/bin/env python3
"""Open the report (``curate report`` -> ``reports/index.html``) in the system Chromium, offline, and
check that it works: no console error, no page error, no request leaving the file, every chart
drawn as an SVG with content; read the funnel totals from the page.

    .venv/bin/python scripts/check_report.py reports/index.html --screenshot reports/index.png
    .venv/bin/python scripts/check_report.py reports/index.html --metrics metrics/clean.json

Prints one line of JSON (``ok``, ``charts``, ``rendered``, ``console_errors``, ``failed_requests``,
``funnel`` = {data-metric key: number}, ``problems``) and exits 1 when anything failed, 2 when
Chromium or Playwright is missing. Playwright (a test dependency, ``playwright==1.65.2``) drives the
browser found on PATH (``chromium``, e.g. Debian's ``apt-get install chromium``); it never
downloads one. The page runs in a context with the network off and every request that is not for a
``file:`` URL aborted and counted as a failure.

:func:`check_report` is the core; ``tests/analysis/test_report.py`` imports it from this file.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
from pathlib import Path

BROWSERS = ("chromium", "chromium-browser")

#: per chart container: its name, how many Plotly SVG layers it has, the first one's box, and
#: how many trace groups / drawn shapes they hold
_CHARTS_JS = """() => [...document.querySelectorAll('.chart')].map(c => {
  const svgs = [...c.querySelectorAll('svg.main-svg')];
  const box = svgs.length ? svgs[0].getBoundingClientRect() : {width: 0, height: 0};
  return {name: c.dataset.chart, svgs: svgs.length, width: box.width, height: box.height,
          traces: c.querySelectorAll('svg.main-svg g.trace, svg.main-svg g.slice').length,
          shapes: c.querySelectorAll('svg.main-svg path[d]:not([d=""]), svg.main-svg rect').length};
})"""

_FUNNEL_JS = """() => Object.fromEntries([...document.querySelectorAll('[data-metric]')]
  .map(e => [e.dataset.metric, Number(e.textContent.trim())]))"""


class BrowserMissing(RuntimeError):
    """Chromium (on PATH) or the playwright package is not installed."""


def find_browser() -> str | None:
    """Path of the system Chromium, or None."""
    for name in BROWSERS:
        path = shutil.which(name)
        if path:
            return path
    return None


def check_report(html: str | Path, screenshot: str | Path | None = None, metrics: dict | None = None,
                 timeout_s: float = 60.0) -> dict:
    """Open ``html`` in headless system Chromium, offline, and return the summary dict:
    ``ok`` (bool), ``charts`` (chart containers), ``rendered`` (those with a non-empty
    ``svg.main-svg`` holding traces and shapes), ``chart_details``, ``console_errors`` and
    ``failed_requests`` (lists of strings: console messages of type error, uncaught page errors;
    requests that failed or were blocked for leaving ``file:``), ``funnel`` ({data-metric: number}
    from the funnel table), ``problems`` (why ``ok`` is false) and ``screenshot`` (the full-page
    PNG written, if asked for). ``metrics``: the numbers the funnel must show (e.g.
    ``metrics/clean.json``); every one of its keys that the page marks must match. Raises
    :class:`BrowserMissing` without Chromium or playwright, ``FileNotFoundError`` for a missing
    ``html``."""
    html = Path(html).resolve()
    if not html.is_file():
        raise FileNotFoundError(f"{html}: no such file")
    exe = find_browser()
    if exe is None:
        raise BrowserMissing("Chromium not found: apt-get install chromium (Debian) to run the browser check")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        raise BrowserMissing("playwright not installed: pip install playwright==1.65.2") from None

    console, failed, problems = [], [], []

    def route(r) -> None:
        if r.request.url.startswith("file:"):
            r.continue_()
        else:
            failed.append(f"blocked: {r.request.url}")
            r.abort()

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=exe, headless=True)
        try:
            context = browser.new_context(offline=True, viewport={"width": 1280, "height": 900})
            context.route("**/*", route)
            page = context.new_page()
            page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: console.append(f"page error: {e}"))
            page.on("requestfailed", lambda r: failed.append(f"failed: {r.url} ({r.failure})"))
            page.goto(html.as_uri(), wait_until="load", timeout=timeout_s * 1000)
            try:
                page.wait_for_function(
                    "() => [...document.querySelectorAll('.chart')].every(c => c.querySelector('svg.main-svg'))",
                    timeout=timeout_s * 1000)
            except Exception as e:  # playwright's TimeoutError: report it, with the rest
                problems.append(f"charts not drawn within {timeout_s:.0f} s: {str(e).splitlines()[0]}")
            charts = page.evaluate(_CHARTS_JS)
            funnel = page.evaluate(_FUNNEL_JS)
            if screenshot:
                Path(screenshot).parent.mkdir(parents=True, exist_ok=True)
                page.screenshot(path=str(screenshot), full_page=True)
        finally:
            browser.close()

    rendered = [c for c in charts if c["svgs"] and c["width"] > 0 and c["height"] > 0
                and c["traces"] > 0 and c["shapes"] > 0]
    if not charts:
        problems.append("no chart containers (.chart) in the page")
    for c in charts:
        if c not in rendered:
            problems.append(f"chart {c['name']!r} not rendered: {c}")
    if console:
        problems.append(f"{len(console)} console error(s)")
    if failed:
        problems.append(f"{len(failed)} failed or blocked request(s)")
    if not funnel:
        problems.append("no funnel totals (data-metric cells) in the page")
    for key, value in (metrics or {}).items():
        if key in funnel and funnel[key] != value:
            problems.append(f"funnel {key}: page shows {funnel[key]}, metrics say {value}")
    return {"ok": not problems, "file": str(html), "charts": len(charts), "rendered": len(rendered),
            "chart_details": charts, "console_errors": console, "failed_requests": failed, "funnel": funnel,
            "problems": problems, "screenshot": str(screenshot) if screenshot else None}


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("html", help="the report, e.g. reports/index.html")
    ap.add_argument("--screenshot", help="write a full-page PNG here")
    ap.add_argument("--metrics", help="JSON file whose numbers the funnel must show (e.g. metrics/clean.json)")
    ap.add_argument("--timeout", type=float, default=60.0, help="seconds to wait for the page and its charts")
    args = ap.parse_args(argv)
    metrics = None
    if args.metrics:
        metrics = {k: v for k, v in json.loads(Path(args.metrics).read_text(encoding="utf-8")).items()
                   if isinstance(v, (int, float)) and not isinstance(v, bool)}
    try:
        summary = check_report(args.html, args.screenshot, metrics, args.timeout)
    except (BrowserMissing, FileNotFoundError) as e:
        print(json.dumps({"ok": False, "problems": [str(e)]}))
        return 2
    print(json.dumps({k: v for k, v in summary.items() if k != "chart_details"}, ensure_ascii=False))
    return 0 if summary["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
