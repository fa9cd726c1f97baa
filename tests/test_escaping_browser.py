"""Issue 26, item 2 in a real browser: a deep link whose run is Markdown (an image on a port we
watch, a phishing link) is shown literally in the app's warning, draws no image and no link, and
the browser makes no request to that port."""
import http.server
import threading
import urllib.parse

import pytest
from browser import browser, free_port, server, wait_idle


class Counter(http.server.BaseHTTPRequestHandler):
    hits: list = []

    def do_GET(self):  # noqa: N802 - the stdlib's name
        Counter.hits.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture
def watched_port():
    port = free_port()
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", port), Counter)
    t = threading.Thread(target=httpd.serve_forever, daemon=True)
    t.start()
    Counter.hits = []
    try:
        yield port
    finally:
        httpd.shutdown()


def test_a_markdown_deep_link_makes_no_request_and_reads_literally(tmp_path, watched_port):
    attack = f"![x](http://127.0.0.1:{watched_port}/p.png) [log in](http://x/phish)"
    with server(tmp_path / "runs") as (url, _), browser() as chromium:
        page = chromium.new_page(viewport={"width": 1400, "height": 1400})
        page.goto(f"{url}/Playground?{urllib.parse.urlencode({'run': attack})}")
        warning = page.locator('[data-testid="stAlertContentWarning"]').filter(
            has_text="is not stored here")
        warning.first.wait_for(timeout=90_000)
        wait_idle(page)
        text = warning.first.inner_text()
        assert attack in text, text                                     # shown as written
        assert page.locator(f'img[src*="{watched_port}"]').count() == 0      # no image drawn
        assert page.locator('a[href*="phish"]').count() == 0                 # no link drawn
        assert page.locator('[data-testid="stException"]').count() == 0
        # the page is idle and painted: an image in it would have been requested by now; the
        # DOM checks above are the deterministic part, this one the consequence
        assert Counter.hits == []
