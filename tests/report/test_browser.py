"""The HTML report opens in a real headless browser, offline, and every plot renders.

Drives Debian's ``chromium`` over the DevTools protocol (a websocket, via ``websocket-client``):
the network is emulated offline, every request the page makes is recorded (only the report's
own file:// URL and data: URLs are allowed), the plots are counted in the rendered page, and a
full-page screenshot is saved under the test's temporary folder. When chromium is missing it
is installed with apt-get if the test runs as root; otherwise the test skips and says why.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess
import time
from pathlib import Path

import pytest

from lookalike.report import build_release_sheet, build_report

websocket = pytest.importorskip(
    "websocket", reason="websocket-client is not installed (pip install 'lookalike[test]')"
)

INSTALL_TIMEOUT = 600
VIEWPORT = {"width": 1280, "height": 900, "deviceScaleFactor": 1, "mobile": False}
CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--remote-debugging-port=0",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-default-apps",
    "--disable-extensions",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-quic",
    "--hide-scrollbars",
    "--mute-audio",
    # belt and braces: no host name resolves, so nothing could leave even if emulation failed
    "--host-resolver-rules=MAP * ~NOTFOUND",
]


def _find_chromium() -> str | None:
    for candidate in ("/usr/bin/chromium", shutil.which("chromium"), shutil.which("chromium-browser")):
        if candidate and os.access(candidate, os.X_OK):
            return candidate
    return None


@pytest.fixture(scope="session")
def chromium_path() -> str:
    path = _find_chromium()
    if path:
        return path
    apt = shutil.which("apt-get")
    if not hasattr(os, "geteuid") or os.geteuid() != 0 or apt is None:
        pytest.skip("chromium not installed and cannot install it: not root / no apt-get")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    try:
        done = subprocess.run(
            "apt-get update -qq && apt-get install -y -qq --no-install-recommends chromium",
            shell=True, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        pytest.skip(f"chromium not installed: apt-get did not finish in {INSTALL_TIMEOUT} s")
    path = _find_chromium()
    if path is None:
        tail = (done.stderr or done.stdout).strip()[-600:]
        pytest.skip(f"chromium not installed: apt-get install chromium failed ({done.returncode}): {tail}")
    return path


class Browser:
    """A headless chromium process and one DevTools websocket to it."""

    def __init__(self, executable: str, profile: Path):
        self.proc = subprocess.Popen(
            [executable, *CHROMIUM_FLAGS, f"--user-data-dir={profile}", "about:blank"],
            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )
        port_file = profile / "DevToolsActivePort"
        deadline = time.monotonic() + 60
        while not (port_file.exists() and len(port_file.read_text().splitlines()) >= 2):
            if self.proc.poll() is not None:
                err = self.proc.stderr.read().decode(errors="replace")[-2000:]
                raise RuntimeError(f"chromium exited with {self.proc.returncode}: {err}")
            if time.monotonic() > deadline:
                raise RuntimeError("chromium did not open its DevTools port within 60 s")
            time.sleep(0.05)
        port, ws_path = port_file.read_text().splitlines()[:2]
        self.ws = websocket.create_connection(f"ws://127.0.0.1:{port}{ws_path}", timeout=60)
        self._next_id = 0
        self.events: list[dict] = []

    def send(self, method: str, params: dict | None = None, session: str | None = None) -> dict:
        self._next_id += 1
        msg = {"id": self._next_id, "method": method, "params": params or {}}
        if session:
            msg["sessionId"] = session
        self.ws.send(json.dumps(msg))
        while True:
            reply = json.loads(self.ws.recv())
            if reply.get("id") == self._next_id:
                if "error" in reply:
                    raise RuntimeError(f"{method} failed: {reply['error']}")
                return reply.get("result", {})
            self.events.append(reply)

    def wait_for(self, method: str, session: str, timeout: float = 60) -> dict:
        deadline = time.monotonic() + timeout
        seen = 0
        while True:
            for event in self.events[seen:]:
                if event.get("method") == method and event.get("sessionId") == session:
                    return event
            seen = len(self.events)
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"no {method} within {timeout} s")
            self.ws.settimeout(remaining)
            self.events.append(json.loads(self.ws.recv()))

    def open_page(self) -> str:
        """A new tab, offline, recording its requests; returns its session id."""
        target = self.send("Target.createTarget", {"url": "about:blank"})["targetId"]
        session = self.send("Target.attachToTarget", {"targetId": target, "flatten": True})["sessionId"]
        self.send("Page.enable", session=session)
        self.send("Network.enable", session=session)
        self.send(
            "Network.emulateNetworkConditions",
            {"offline": True, "latency": 0, "downloadThroughput": -1, "uploadThroughput": -1},
            session=session,
        )
        self.send("Emulation.setDeviceMetricsOverride", VIEWPORT, session=session)
        return session

    def load(self, session: str, url: str) -> list[str]:
        """Navigate to ``url``, wait for the load event; return every URL the page requested."""
        start = len(self.events)
        self.send("Page.navigate", {"url": url}, session=session)
        self.wait_for("Page.loadEventFired", session)
        time.sleep(0.3)  # let late requests (if any) show up
        self.evaluate(session, "1")  # drain the socket into self.events
        return [
            e["params"]["request"]["url"]
            for e in self.events[start:]
            if e.get("method") == "Network.requestWillBeSent" and e.get("sessionId") == session
        ]

    def evaluate(self, session: str, expression: str):
        result = self.send(
            "Runtime.evaluate", {"expression": expression, "returnByValue": True}, session=session
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    def screenshot(self, session: str, path: Path) -> bytes:
        size = self.send("Page.getLayoutMetrics", session=session)["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.send(
            "Page.captureScreenshot",
            {"format": "png", "captureBeyondViewport": True, "clip": clip},
            session=session,
        )
        data = base64.b64decode(shot["data"])
        path.write_bytes(data)
        return data

    def close(self) -> None:
        try:
            self.ws.close()
        except Exception:
            pass
        self.proc.kill()
        self.proc.wait(timeout=30)


@pytest.fixture(scope="module")
def browser(chromium_path, tmp_path_factory):
    b = Browser(chromium_path, tmp_path_factory.mktemp("chromium-profile"))
    try:
        yield b
    finally:
        b.close()


PLOT_CHECK = """(() => {
  const svgs = [...document.querySelectorAll('svg.plot')];
  const drawn = svgs.filter(s => {
    const r = s.getBoundingClientRect();
    return r.width > 0 && r.height > 0 && s.querySelectorAll('path, rect').length > 0;
  });
  const meta = document.querySelector('meta[name="lookalike-plots"]');
  return {
    expected: meta ? Number(meta.content) : -1,
    found: svgs.length,
    drawn: drawn.length,
    ids: drawn.map(s => s.dataset.plot),
    overflow: document.documentElement.scrollWidth > window.innerWidth,
    scripts: document.scripts.length,
    title: document.title,
  };
})()"""


def _outside(urls: list[str], page_url: str) -> list[str]:
    return [u for u in urls if u != page_url and not u.startswith("data:")]


def test_report_renders_offline_in_chromium(browser, evaluation, fitted_model, tmp_path):
    page = build_report(evaluation, model=fitted_model, title="Adult <CART> report").write_html(
        tmp_path / "report.html"
    )
    url = page.resolve().as_uri()
    session = browser.open_page()
    requests = browser.load(session, url)
    assert url in requests, f"the page load itself was not recorded: {requests}"
    assert _outside(requests, url) == [], "the report asked for resources besides itself"

    state = browser.evaluate(session, PLOT_CHECK)
    assert state["title"] == "Private: Adult <CART> report"
    assert state["expected"] >= 15 + 3 + 2  # 15 columns, 3 heatmaps, utility, query errors
    assert state["found"] == state["expected"]
    assert state["drawn"] == state["expected"], f"plots not drawn: {state}"
    assert len(set(state["ids"])) == len(state["ids"])
    assert state["scripts"] == 0
    assert not state["overflow"], "the page is wider than the window"

    shot = browser.screenshot(session, tmp_path / "report.png")
    print(f"screenshot: {tmp_path / 'report.png'}")  # shown with pytest -s
    assert shot[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(shot) > 10_000


def test_release_sheet_renders_offline_in_chromium(browser, tmp_path):
    import lookalike

    real = lookalike.load_demo().head(800)[["age", "workclass", "sex", "income"]]
    model = lookalike.get_synthesizer("mst").fit(real, epsilon=1.0, seed=0)
    sheet = build_release_sheet(model, model.sample(500, seed=1), title="Adult <MST> sheet")
    page = sheet.write_html(tmp_path / "r.release.html")
    url = page.resolve().as_uri()
    session = browser.open_page()
    requests = browser.load(session, url)
    assert url in requests and _outside(requests, url) == []
    state = browser.evaluate(session, PLOT_CHECK)
    assert state["title"] == "Release sheet: Adult <MST> sheet"
    assert state["expected"] == 4 and state["drawn"] == state["found"] == 4
    assert state["scripts"] == 0 and not state["overflow"]
    browser.screenshot(session, tmp_path / "release.png")
    print(f"screenshot: {tmp_path / 'release.png'}")


def test_request_check_catches_an_external_resource(browser, tmp_path):
    """The request recorder is not blind: a page that fetches from the network is caught."""
    page = tmp_path / "leaky.html"
    page.write_text(
        '<!DOCTYPE html><html><body><img src="https://example.invalid/pixel.png"></body></html>',
        encoding="utf-8",
    )
    url = page.as_uri()
    session = browser.open_page()
    requests = browser.load(session, url)
    assert _outside(requests, url) == ["https://example.invalid/pixel.png"]


FOLD_CHECK = """(() => {
  const bottom = sel => { const e = document.querySelector(sel); return e ? e.getBoundingClientRect().bottom : -1; };
  return {width: window.innerWidth, score: bottom('#score-tile'), risk: bottom('#risk-tile'),
          guarantee: bottom('#guarantee-tile'), verdict: bottom('#summary .verdict li'),
          level: (document.querySelector('#risk-tile .tile-value') || {}).textContent};
})()"""


def test_first_screen_shows_verdict_risk_level_and_score(browser, small_evaluation, tmp_path):
    from test_first_screen import copying_audit

    page = build_report(small_evaluation, audit=copying_audit(), title="Adult").write_html(
        tmp_path / "report.html"
    )
    session = browser.open_page()
    browser.load(session, page.resolve().as_uri())
    state = browser.evaluate(session, FOLD_CHECK)
    assert state["width"] == 1280 and state["level"] == "moderate"
    for key in ("score", "risk", "guarantee", "verdict"):  # above the fold of a 1280x800 screen
        assert 0 < state[key] <= 800, state
