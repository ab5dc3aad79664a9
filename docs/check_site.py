"""Check the built site in headless Chromium, offline: every page has a title, its images load, its internal links
resolve, its console shows no error, and its math is typeset (the check waits for MathJax to finish, then fails on
any formula left as raw LaTeX). Screenshots of the pages go to `_build/site-check/`.

    python docs/check_site.py [--site _site] [--pages index.html ...]

Every page of the site is opened; internal links are fetched from the same loopback server. Exit status 1 lists
every problem found.
"""
from __future__ import annotations

import argparse
import functools
import http.server
import os
import shutil
import sys
import threading
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urldefrag, urljoin, urlparse

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = ("chromium", "chromium-browser", "google-chrome")
DRIVER = ("chromedriver",)


def find(names, folder_variable: str | None = None) -> str | None:
    "The first of `names` on PATH (or in the folder that an environment variable names, as on GitHub's runners)."
    extra = os.environ.get(folder_variable, "") if folder_variable else ""
    path = os.pathsep.join(p for p in (extra, os.environ.get("PATH", "")) if p)
    return next((found for name in names if (found := shutil.which(name, path=path))), None)


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args): pass


class QuietServer(http.server.ThreadingHTTPServer):
    def handle_error(self, request, client_address):  # a client that hangs up early is not a site problem
        if not isinstance(sys.exc_info()[1], (BrokenPipeError, ConnectionResetError)):
            super().handle_error(request, client_address)


def serve(site: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    "Serve `site` on a free loopback port, in a background thread."
    server = QuietServer(("127.0.0.1", 0), functools.partial(QuietHandler, directory=str(site)))
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


def browser(chromium: str, driver: str):
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service
    options = webdriver.ChromeOptions()
    options.binary_location = chromium
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--window-size=1400,1000"):
        options.add_argument(arg)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(service=Service(driver), options=options)
    driver.set_script_timeout(60)  # typesetting a long page on a busy machine
    return driver


# Resolves once MathJax (3) has typeset the page; a page with math and no MathJax fails.
TYPESET = """const done = arguments[arguments.length - 1];
const math = document.querySelector('.math');
if (!window.MathJax || !window.MathJax.startup) { done(math ? 'MathJax did not load' : ''); return; }
MathJax.startup.promise.then(() => done(''), e => done('MathJax failed: ' + e));"""
# Text outside code that still reads as LaTeX: a delimiter, or a math element whose visible text has a backslash.
RAW_LATEX = r"""const body = document.body.cloneNode(true);
body.querySelectorAll('pre, code, script, style, .highlight').forEach(e => e.remove());
const raw = (body.innerText.match(/\\\(|\\\[|\$\$|\\begin\{/g) || []).length;
const left = Array.from(document.querySelectorAll('.math')).filter(e => /\\[a-zA-Z]/.test(e.innerText));
return left.map(e => e.innerText.slice(0, 60)).concat(raw && !left.length ? [raw + ' LaTeX delimiter(s) in the text'] : []);"""
BROKEN_IMAGES = "return Array.from(document.images).filter(i => !i.complete || i.naturalWidth === 0).map(i => i.src);"
LINKS = "return Array.from(document.querySelectorAll('a[href]')).map(a => a.href);"


def reachable(url: str) -> bool:
    try:
        with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=10) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError): return False


def check_page(driver, base: str, page: str, shots: Path, checked_links: dict) -> list[str]:
    "Problems of one page (empty when it is fine); saves its screenshot."
    url = urljoin(base, page)
    driver.get(url)  # returns once the load event has fired
    problems = []
    if not driver.title.strip(): problems.append("no title")
    from selenium.common.exceptions import TimeoutException
    try: failed = driver.execute_async_script(TYPESET)
    except TimeoutException: failed = "MathJax did not finish typesetting in 60 s"
    if failed: problems.append(failed)
    problems += [f"math left as raw LaTeX: {text!r}" for text in driver.execute_script(RAW_LATEX)]
    problems += [f"image did not load: {src}" for src in driver.execute_script(BROKEN_IMAGES)]
    if page.startswith(("reproductions/", "index")) and not driver.execute_script("return document.images.length"):
        problems.append("no figure on the page")
    for link in driver.execute_script(LINKS):
        target = urldefrag(link).url
        if urlparse(target).netloc != urlparse(base).netloc: continue  # external: not checked offline
        if target not in checked_links: checked_links[target] = reachable(target)
        if not checked_links[target]: problems.append(f"broken internal link: {link}")
    problems += [f"console {entry['level']}: {entry['message']}" for entry in driver.get_log("browser")
                 if entry["level"] == "SEVERE"]
    shots.mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(shots / (page.replace("/", "__").removesuffix(".html") + ".png")))
    return [f"{page}: {p}" for p in problems]


def pages_to_check(site: Path) -> list[str]:
    "Every page of the site (search and index pages included), not the static files."
    return sorted(str(p.relative_to(site)) for p in site.rglob("*.html") if not {"_static", "_sources"} & set(p.parts))


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--site", default=str(ROOT / "_site"))
    parser.add_argument("--shots", default=str(ROOT / "_build" / "site-check"))
    parser.add_argument("--pages", nargs="*", default=None, help="check only these pages (paths inside the site)")
    parser.add_argument("--which", action="store_true", help="only say which browser and driver would be used")
    args = parser.parse_args(argv)
    chromium, driver_path = find(CHROMIUM), find(DRIVER, "CHROMEWEBDRIVER")
    if not (chromium and driver_path):
        print("headless Chromium and chromedriver are needed (Debian: apt-get install chromium chromium-driver)",
              file=sys.stderr)
        return 1
    if args.which:
        print(chromium, driver_path)
        return 0
    site = Path(args.site)
    if not (site / "index.html").exists():
        print(f"no site at {site}: run `make docs` first", file=sys.stderr)
        return 1
    server, base = serve(site)
    driver = browser(chromium, driver_path)
    problems, links, pages = [], {}, args.pages or pages_to_check(site)
    try:
        for page in pages: problems += check_page(driver, base, page, Path(args.shots), links)
    finally:
        driver.quit()
        server.shutdown()
    print(f"checked {len(pages)} page(s) and {len(links)} internal link(s) in Chromium; screenshots in {args.shots}")
    for problem in problems: print("  " + problem)
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
