"""Handwriting in a real browser (issue 21 item 2): a pen stroke is drawn under the pointer in
the same frame (ink on the pad before any message goes to the server), the guesses for the
drawing arrive when the stroke ends without the rest of the page being sent again, a tap-drag
draws on a phone, and "Clear my drawing" empties the pad. Waits are on conditions."""
from browser import count_sent, wait_idle

PAD = "[data-maviz-pad]"
YOURS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).some(
    g => g.layout && g.layout.title && String(g.layout.title.text).includes('Your drawing'))"""
# after each pointermove the pad has handled, look (in the next animation frame) for ink under
# the pointer: the canvas pixel there must be dark
INK_WATCH = """() => {
  const cv = document.querySelector('[data-maviz-pad] canvas'), ctx = cv.getContext('2d');
  window.__ink = [];
  cv.addEventListener('pointermove', (ev) => {
    if (!(ev.buttons & 1) && ev.pointerType === 'mouse') return;
    const r = cv.getBoundingClientRect(), k = cv.width / r.width;
    const x = Math.round((ev.clientX - r.left) * k), y = Math.round((ev.clientY - r.top) * k);
    requestAnimationFrame(() => {
      const d = ctx.getImageData(Math.max(0, x - 1), Math.max(0, y - 1), 3, 3).data;
      let dark = false;
      for (let i = 3; i < d.length; i += 4) dark = dark || d[i] > 128;
      window.__ink.push(dark);
    });
  });
}"""


def open_pad(chromium, url, width, height, touch=False):
    ctx = chromium.new_context(viewport={"width": width, "height": height}, has_touch=touch,
                               is_mobile=touch)
    page = ctx.new_page()
    sent = count_sent(page)
    received = []
    page.on("websocket", lambda ws: ws.on("framereceived", lambda p: received.append(
        p if isinstance(p, bytes) else p.encode())))
    page.goto(f"{url}/Handwriting")
    page.wait_for_selector(f'{PAD}[data-ready="1"]', timeout=120_000)
    wait_idle(page)
    page.locator(f"{PAD} canvas").scroll_into_view_if_needed()
    page.evaluate(INK_WATCH)
    return ctx, page, sent, received


def pad_point(page, fx, fy):
    box = page.locator(f"{PAD} canvas").bounding_box()
    return box["x"] + fx * box["width"], box["y"] + fy * box["height"]


def test_a_stroke_shows_under_the_pen_at_once_and_its_guesses_come_without_a_page_redraw(
        chromium, app_url):
    ctx, page, sent, received = open_pad(chromium, app_url, 1400, 900)
    stroke = [(0.2, 0.8), (0.35, 0.5), (0.5, 0.2), (0.65, 0.5), (0.8, 0.8)]
    n_sent, n_received = len(sent), len(received)
    page.mouse.move(*pad_point(page, *stroke[0]))
    page.mouse.down()
    for p in stroke[1:]:
        page.mouse.move(*pad_point(page, *p), steps=4)
    page.wait_for_function("() => window.__ink.length >= 12", timeout=30_000)
    ink = page.evaluate("() => window.__ink")
    assert all(ink), ink                              # ink under the pen, frame after frame
    assert len(sent) == n_sent                        # ... with nothing sent to the server yet
    page.mouse.up()
    page.wait_for_function(YOURS, timeout=90_000)
    wait_idle(page)
    assert page.locator(PAD).get_attribute("data-strokes") == "1"
    new = received[n_received:]
    assert any(b"Your drawing" in f for f in new)
    assert not any(b"How sure is it? One drawing" in f for f in new)   # only the fragment re-ran
    page.get_by_role("button", name="Clear my drawing").click()
    page.wait_for_function(f"() => document.querySelector('{PAD}').dataset.strokes === '0'",
                           timeout=30_000)
    page.get_by_text("Draw in the square").wait_for(timeout=90_000)
    assert not page.evaluate(YOURS)
    ctx.close()


def test_a_finger_draws_on_a_phone(chromium, app_url):
    ctx, page, sent, _ = open_pad(chromium, app_url, 390, 844, touch=True)
    cdp = ctx.new_cdp_session(page)
    pts = [pad_point(page, *p) for p in ((0.3, 0.3), (0.5, 0.5), (0.7, 0.7))]
    cdp.send("Input.dispatchTouchEvent", {"type": "touchStart",
                                          "touchPoints": [{"x": pts[0][0], "y": pts[0][1]}]})
    for x, y in pts[1:]:
        cdp.send("Input.dispatchTouchEvent", {"type": "touchMove", "touchPoints": [{"x": x, "y": y}]})
    page.wait_for_function("() => window.__ink.length >= 2", timeout=30_000)
    assert all(page.evaluate("() => window.__ink"))
    cdp.send("Input.dispatchTouchEvent", {"type": "touchEnd", "touchPoints": []})
    page.wait_for_function(YOURS, timeout=90_000)
    assert page.locator(PAD).get_attribute("data-strokes") == "1"
    assert page.locator('[data-testid="stException"]').count() == 0
    ctx.close()
