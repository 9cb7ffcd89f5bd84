"""Open every page of the built book in headless Chromium and report what a reader would see broken.

The check serves ``book/_build/html`` on 127.0.0.1 and drives Chromium
through the DevTools protocol over a pipe (``--remote-debugging-pipe``, so no
port and no extra package). For every page it fails on

* a missing or undecodable image,
* a broken internal link, or a link to an anchor that does not exist,
* a JavaScript error (uncaught exception, ``console.error``, an error entry in
  the browser log, a resource that fails to load or returns HTTP 4xx/5xx),
* unrendered math: a ``.math`` element with no MathJax output, a MathJax
  error, or raw TeX (``\\(``, ``\\[``, ``$$``, ``$...\\cmd...$``) left in the text,
* any request to a host other than the local server (the book must work
  offline),

and saves a PNG of each page's first screen for review. A static scan of the
HTML and CSS files adds every external ``http(s)`` reference to a script,
style sheet or font, even on a page that did not load it.

Command line::

    python -m vatnb.browsercheck [book/_build/html] [--screenshots DIR]
"""

from __future__ import annotations

import argparse
import base64
import fcntl
import functools
import http.server
import json
import logging
import os
import posixpath
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlsplit

log = logging.getLogger(__name__)

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_HTML = ROOT / "book" / "_build" / "html"
CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser", "google-chrome")
CHROMIUM_FLAGS = (
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
    "--disable-default-apps", "--disable-extensions", "--hide-scrollbars", "--mute-audio",
    "--remote-debugging-pipe",
)
VIEWPORT = {"width": 1280, "height": 900}
COMMAND_TIMEOUT_S = 30.0
PAGE_TIMEOUT_S = 60.0
# Text the {chapter} role writes for a chapter that is not part of the build.
NOT_IN_BUILD = "chapter not in this build"

# Runs in the page once it has loaded and MathJax has finished; returns plain JSON.
PAGE_FACTS_JS = r"""
(async () => {
  if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
    await MathJax.startup.promise;
  }
  await Promise.all([...document.images].map(image => image.complete ? null :
    new Promise(done => { image.addEventListener('load', done); image.addEventListener('error', done); })));
  const brokenImages = [...document.images]
    .filter(image => !(image.complete && image.naturalWidth > 0))
    .map(image => image.getAttribute('src'));
  const links = [...document.querySelectorAll('a[href]')].map(a => a.href);
  const ids = [...document.querySelectorAll('[id]')].map(e => e.id)
    .concat([...document.querySelectorAll('a[name]')].map(e => e.name));
  const unrendered = [...document.querySelectorAll('.math')]
    .filter(e => !e.querySelector('mjx-container'))
    .map(e => e.textContent.trim().slice(0, 80));
  const mathErrors = [...document.querySelectorAll('mjx-merror')]
    .map(e => (e.getAttribute('data-mjx-error') || e.textContent).slice(0, 80));
  const rawTex = [];
  const texPattern = /\\\(|\\\[|\$\$|\$[^$\s][^$]*\\[a-zA-Z]+[^$]*\$/;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const parent = node.parentElement;
    if (!parent || parent.closest('pre, code, script, style, textarea, mjx-container, .highlight')) continue;
    if (texPattern.test(node.textContent)) rawTex.push(node.textContent.trim().slice(0, 80));
  }
  const text = document.body ? document.body.innerText : '';
  return {
    title: document.title, brokenImages, links, ids, unrendered, mathErrors, rawTex,
    notInBuild: text.split('NOT_IN_BUILD').length - 1,
    mathJax: Boolean(window.MathJax && MathJax.startup),
  };
})()
""".replace("NOT_IN_BUILD", NOT_IN_BUILD)


class BrowserError(RuntimeError):
    """Chromium could not be started, or did not respond to a DevTools command in time."""


@dataclass
class PageReport:
    """What the check found on one page."""

    path: str
    title: str = ""
    problems: list[str] = field(default_factory=list)
    links: list[str] = field(default_factory=list)
    ids: set[str] = field(default_factory=set)
    not_in_build: int = 0
    screenshot: Path | None = None


@dataclass
class BookReport:
    """The result of checking a whole built book."""

    pages: list[PageReport]
    problems: list[str]

    @property
    def ok(self) -> bool:
        return not self.problems

    def summary(self) -> str:
        """Return a readable list of every problem, one per line, with the page it is on."""
        lines = [f"checked {len(self.pages)} pages: {len(self.problems)} problem(s)"]
        lines += [f"  - {problem}" for problem in self.problems]
        marked = [(p.path, p.not_in_build) for p in self.pages if p.not_in_build]
        for path, count in marked:
            lines.append(f"  note: {path} names {count} chapter(s) that are not in this build")
        return "\n".join(lines)


# ---------------------------------------------------------------------------
# Chromium over the DevTools pipe
# ---------------------------------------------------------------------------


def find_chromium() -> str | None:
    """Return the path of a Chromium executable, or None when none is installed."""
    for candidate in CHROMIUM_CANDIDATES:
        path = shutil.which(candidate)
        if path:
            return path
    return None


class Chromium:
    """A headless Chromium driven through the DevTools protocol on fds 3 and 4.

    Messages are JSON objects separated by NUL bytes. A reader thread stores
    command results by id and events in order, so callers can wait for either.
    """

    def __init__(self, executable: str | None = None):
        self.executable = executable or find_chromium()
        if not self.executable:
            raise BrowserError("Chromium not found; install it (Debian: apt-get install chromium)")
        self._profile = tempfile.mkdtemp(prefix="vatnb-chromium-")
        self._next_id = 0
        self._results: dict[int, dict] = {}
        self.events: list[dict] = []
        self._condition = threading.Condition()
        self._closed = False
        self._start()

    def _start(self) -> None:
        to_browser_read, to_browser_write = os.pipe()
        from_browser_read, from_browser_write = os.pipe()
        # Move the child's ends above fd 9, so that the dup2 onto 3 and 4 in
        # the child cannot overwrite one of them.
        child_read = fcntl.fcntl(to_browser_read, fcntl.F_DUPFD, 10)
        child_write = fcntl.fcntl(from_browser_write, fcntl.F_DUPFD, 10)
        for fd in (to_browser_read, from_browser_write):
            os.close(fd)

        def attach_pipes():
            os.dup2(child_read, 3)
            os.dup2(child_write, 4)

        command = [self.executable, *CHROMIUM_FLAGS, f"--user-data-dir={self._profile}",
                   f"--window-size={VIEWPORT['width']},{VIEWPORT['height']}", "about:blank"]
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE, pass_fds=(3, 4), preexec_fn=attach_pipes,
        )
        os.close(child_read)
        os.close(child_write)
        self._writer = os.fdopen(to_browser_write, "wb", buffering=0)
        self._reader = os.fdopen(from_browser_read, "rb", buffering=0)
        self._stderr_tail: list[str] = []
        threading.Thread(target=self._read_messages, daemon=True).start()
        self._stderr_thread = threading.Thread(target=self._drain_stderr, daemon=True)
        self._stderr_thread.start()
        self.send("Target.setDiscoverTargets", {"discover": False})

    def _drain_stderr(self) -> None:
        for line in self.process.stderr:
            self._stderr_tail = (self._stderr_tail + [line.decode(errors="replace").rstrip()])[-20:]

    def _read_messages(self) -> None:
        buffer = b""
        while True:
            chunk = self._reader.read(65536)
            if not chunk:
                break
            buffer += chunk
            *messages, buffer = buffer.split(b"\0")
            with self._condition:
                for raw in messages:
                    message = json.loads(raw)
                    if "id" in message:
                        self._results[message["id"]] = message
                    else:
                        self.events.append(message)
                self._condition.notify_all()
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    def send(self, method: str, params: dict | None = None, session: str | None = None,
             timeout: float = COMMAND_TIMEOUT_S) -> dict:
        """Send one DevTools command and return its result.

        Raises
        ------
        BrowserError
            When the browser returns an error, exits, or does not respond
            within ``timeout`` seconds.
        """
        with self._condition:
            self._next_id += 1
            command_id = self._next_id
        message = {"id": command_id, "method": method, "params": params or {}}
        if session:
            message["sessionId"] = session
        try:
            self._writer.write(json.dumps(message).encode() + b"\0")
        except BrokenPipeError:
            raise BrowserError(f"Chromium exited: {' | '.join(self._stderr_tail)}") from None
        deadline = time.monotonic() + timeout
        with self._condition:
            while command_id not in self._results:
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    raise BrowserError(
                        f"no response to {method} within {timeout:.0f} s "
                        f"(Chromium stderr: {' | '.join(self._stderr_tail) or 'empty'})"
                    )
                self._condition.wait(remaining)
            result = self._results.pop(command_id)
        if "error" in result:
            raise BrowserError(f"{method} failed: {result['error'].get('message')}")
        return result.get("result", {})

    def wait_for_event(self, method: str, session: str, start: int, timeout: float) -> bool:
        """Wait until an event ``method`` of ``session`` arrives after index ``start``."""
        deadline = time.monotonic() + timeout
        with self._condition:
            while True:
                if any(e.get("method") == method and e.get("sessionId") == session
                       for e in self.events[start:]):
                    return True
                remaining = deadline - time.monotonic()
                if remaining <= 0 or self._closed:
                    return False
                self._condition.wait(remaining)

    def close(self) -> None:
        """Ask Chromium to exit, end it if it does not, and remove its profile."""
        try:
            self.send("Browser.close", timeout=5)
        except BrowserError:
            pass
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
        self._writer.close()
        # The reader thread sees end-of-file once Chromium has exited.
        with self._condition:
            self._condition.wait_for(lambda: self._closed, timeout=5)
        self._reader.close()
        self._stderr_thread.join(timeout=5)
        self.process.stderr.close()
        shutil.rmtree(self._profile, ignore_errors=True)

    def __enter__(self):
        return self

    def __exit__(self, *exc_info):
        self.close()


# ---------------------------------------------------------------------------
# The local server
# ---------------------------------------------------------------------------


class _QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 (name fixed by the base class)
        log.debug("%s - %s", self.address_string(), format % args)


def serve(directory: Path) -> tuple[http.server.ThreadingHTTPServer, str]:
    """Serve ``directory`` on 127.0.0.1 at a free port; return the server and its base URL."""
    handler = functools.partial(_QuietHandler, directory=str(directory))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_address[1]}/"


# ---------------------------------------------------------------------------
# Checks
# ---------------------------------------------------------------------------

_EXTERNAL_HTML = re.compile(
    r"<(?:script|link|img|iframe|source)\b[^>]*?\b(?:src|href)\s*=\s*[\"']((?:https?:)?//[^\"']+)",
    re.IGNORECASE,
)
_EXTERNAL_CSS = re.compile(r"(?:url\(\s*[\"']?|@import\s+[\"'])((?:https?:)?//[^\"')\s]+)", re.I)


def static_external_references(html_dir: Path) -> list[str]:
    """List every external script, style sheet, image, frame or font URL in the built files.

    Links (``<a href>``) to other sites are allowed: they load nothing.
    """
    found = []
    for path in sorted(Path(html_dir).rglob("*")):
        if path.suffix not in (".html", ".css") or not path.is_file():
            continue
        pattern = _EXTERNAL_HTML if path.suffix == ".html" else _EXTERNAL_CSS
        text = path.read_text(errors="replace")
        for match in pattern.finditer(text):
            found.append(f"{path.relative_to(html_dir)}: external resource {match.group(1)}")
    return found


def _is_favicon(url: str) -> bool:
    return urlsplit(url).path.endswith("/favicon.ico")


def _event_problems(events: list[dict], base_url: str) -> list[str]:
    """Turn the DevTools events of one page into problem lines."""
    problems = []
    for event in events:
        method, params = event.get("method"), event.get("params", {})
        if method == "Runtime.exceptionThrown":
            details = params.get("exceptionDetails", {})
            text = details.get("exception", {}).get("description") or details.get("text")
            problems.append(f"JavaScript error: {str(text).splitlines()[0]}")
        elif method == "Runtime.consoleAPICalled" and params.get("type") == "error":
            text = " ".join(str(a.get("value", a.get("description", ""))) for a in params.get("args", []))
            problems.append(f"console error: {text[:200]}")
        elif method == "Log.entryAdded":
            entry = params.get("entry", {})
            if entry.get("level") == "error" and not _is_favicon(entry.get("url", "")):
                problems.append(f"browser log error: {entry.get('text', '')[:200]} {entry.get('url', '')}")
        elif method == "Network.requestWillBeSent":
            url = params.get("request", {}).get("url", "")
            if not url.startswith((base_url, "data:", "blob:", "about:")):
                problems.append(f"request to an external host: {url}")
        elif method == "Network.responseReceived":
            response = params.get("response", {})
            if response.get("status", 200) >= 400 and not _is_favicon(response.get("url", "")):
                problems.append(f"HTTP {response['status']} for {response.get('url')}")
    return problems


_REDIRECT = re.compile(
    r"<meta\s+http-equiv=[\"']refresh[\"']\s+content=[\"'][^\"']*url=([^\"']+)[\"']", re.I
)


def redirect_target(page: Path) -> str | None:
    """Return the target of a redirect-only page (``<meta http-equiv="Refresh">``), or None."""
    match = _REDIRECT.search(page.read_text(errors="replace")[:2000])
    return match.group(1).strip() if match else None


def check_page(browser: Chromium, url: str, relative: str, screenshot: Path | None) -> PageReport:
    """Load one page in a fresh tab, collect its facts and problems, and take its screenshot."""
    report = PageReport(relative)
    target = browser.send("Target.createTarget", {"url": "about:blank"})["targetId"]
    session = browser.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
    try:
        for domain in ("Page", "Runtime", "Network", "Log"):
            browser.send(f"{domain}.enable", session=session)
        browser.send("Emulation.setDeviceMetricsOverride",
                     {**VIEWPORT, "deviceScaleFactor": 1, "mobile": False}, session=session)
        start = len(browser.events)
        browser.send("Page.navigate", {"url": url}, session=session)
        if not browser.wait_for_event("Page.loadEventFired", session, start, PAGE_TIMEOUT_S):
            report.problems.append(f"page did not finish loading within {PAGE_TIMEOUT_S:.0f} s")
        facts = browser.send(
            "Runtime.evaluate",
            {"expression": PAGE_FACTS_JS, "awaitPromise": True, "returnByValue": True},
            session=session, timeout=PAGE_TIMEOUT_S,
        )
        if "exceptionDetails" in facts:
            report.problems.append(f"page check script failed: {facts['exceptionDetails'].get('text')}")
            values = {}
        else:
            values = facts["result"]["value"]
        report.title = values.get("title", "")
        report.links = values.get("links", [])
        report.ids = set(values.get("ids", []))
        report.not_in_build = values.get("notInBuild", 0)
        report.problems += [f"missing image: {src}" for src in values.get("brokenImages", [])]
        report.problems += [f"unrendered math: {text}" for text in values.get("unrendered", [])]
        report.problems += [f"MathJax error: {text}" for text in values.get("mathErrors", [])]
        report.problems += [f"raw TeX in the text: {text}" for text in values.get("rawTex", [])]
        if screenshot is not None:
            shot = browser.send("Page.captureScreenshot", {"format": "png"}, session=session)
            screenshot.parent.mkdir(parents=True, exist_ok=True)
            screenshot.write_bytes(base64.b64decode(shot["data"]))
            report.screenshot = screenshot
        # Events that arrived while the page loaded and was inspected.
        time.sleep(0.2)
        with browser._condition:
            events = [e for e in browser.events[start:] if e.get("sessionId") == session]
        base = url[: url.index("/", len("http://")) + 1]
        report.problems += _event_problems(events, base)
    finally:
        browser.send("Target.closeTarget", {"targetId": target})
    return report


def _page_file(html_dir: Path, path: str) -> Path:
    relative = unquote(path).lstrip("/")
    target = html_dir / relative
    if relative == "" or relative.endswith("/"):
        target = target / "index.html"
    return target


_ID_ATTRIBUTE = re.compile(r"\b(?:id|name)\s*=\s*[\"']([^\"']+)[\"']")


def link_problems(pages: list[PageReport], html_dir: Path, base_url: str) -> list[str]:
    """Check every internal link of every page: the target file exists, and so does its anchor."""
    ids_by_file = {str((html_dir / page.path).resolve()): page.ids for page in pages}
    problems = []
    for page in pages:
        for href in sorted(set(page.links)):
            if not href.startswith(base_url):
                continue
            address, fragment = urldefrag(href)
            target = _page_file(html_dir, urlsplit(address).path)
            if not target.exists():
                problems.append(f"{page.path}: broken link to {href[len(base_url):]}")
                continue
            if not fragment or target.suffix != ".html":
                continue
            key = str(target.resolve())
            if key not in ids_by_file:
                ids_by_file[key] = set(_ID_ATTRIBUTE.findall(target.read_text(errors="replace")))
            if unquote(fragment) not in ids_by_file[key]:
                problems.append(f"{page.path}: link to a missing anchor {href[len(base_url):]}")
    return problems


def book_pages(html_dir: Path) -> list[str]:
    """Return the HTML pages of the book (relative paths), leaving out theme and source copies."""
    pages = []
    for path in sorted(Path(html_dir).rglob("*.html")):
        relative = path.relative_to(html_dir).as_posix()
        if relative.startswith(("_static/", "_sources/", "_images/")):
            continue
        pages.append(relative)
    return pages


def check_book(html_dir: Path = DEFAULT_HTML, screenshot_dir: Path | None = None,
               executable: str | None = None) -> BookReport:
    """Open every page of the built book headless and return what is broken.

    Parameters
    ----------
    html_dir : Path
        The built HTML (``book/_build/html``).
    screenshot_dir : Path, optional
        Folder for one PNG of each page's first screen; default
        ``html_dir/../screenshots``. Names are the page paths with ``/``
        turned into ``__``.
    executable : str, optional
        The Chromium executable; default the first of ``chromium`` and
        its usual names found on the ``PATH``.
    """
    html_dir = Path(html_dir).resolve()
    if not (html_dir / "index.html").is_file():
        raise FileNotFoundError(f"no built book at {html_dir}: build it first (make book)")
    screenshot_dir = Path(screenshot_dir or html_dir.parent / "screenshots")
    problems = static_external_references(html_dir)
    pages = []
    # Chromium is started before the server thread, so that it forks while one thread runs.
    with Chromium(executable) as browser:
        server, base_url = serve(html_dir)
        try:
            for relative in book_pages(html_dir):
                target = redirect_target(html_dir / relative)
                if target is not None:
                    # A redirect page has nothing to render; its target is checked as a link.
                    pages.append(PageReport(relative, links=[base_url + posixpath.normpath(
                        posixpath.join(posixpath.dirname(relative), target))]))
                    continue
                shot = screenshot_dir / (relative.removesuffix(".html").replace("/", "__") + ".png")
                report = check_page(browser, base_url + relative, relative, shot)
                log.info("%s: %d problem(s)", relative, len(report.problems))
                pages.append(report)
                problems += [f"{relative}: {problem}" for problem in report.problems]
            problems += link_problems(pages, html_dir, base_url)
        finally:
            server.shutdown()
            server.server_close()
    return BookReport(pages, problems)


def main(argv: list[str] | None = None) -> int:
    """Run the check from the command line; exit 1 when anything is broken."""
    parser = argparse.ArgumentParser(
        prog="python -m vatnb.browsercheck",
        description="Open every page of the built book in headless Chromium and report problems.",
    )
    parser.add_argument("html", nargs="?", default=str(DEFAULT_HTML), help="built HTML folder")
    parser.add_argument("--screenshots", help="folder for the first-screen PNGs "
                        "(default: screenshots/ beside the HTML folder)")
    parser.add_argument("--chromium", help="Chromium executable (default: found on the PATH)")
    arguments = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    try:
        report = check_book(Path(arguments.html), arguments.screenshots and Path(arguments.screenshots),
                            arguments.chromium)
    except (FileNotFoundError, BrowserError) as error:
        print(f"browsercheck: error: {error}", file=sys.stderr)
        return 2
    print(report.summary())
    shots = {p.screenshot.parent for p in report.pages if p.screenshot}
    if shots:
        print(f"screenshots in {', '.join(map(str, shots))}")
    return 0 if report.ok else 1


if __name__ == "__main__":
    sys.exit(main())
