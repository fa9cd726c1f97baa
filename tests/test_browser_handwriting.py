"""Handwriting in a real browser (issue 21 item 2): a pen stroke is drawn under the pointer in
the same frame (ink on the pad before any message goes to the server), the guesses for the
drawing arrive when the stroke ends without the rest of the page being sent again, a tap-drag
draws on a phone, and "Clear my drawing" empties the pad; "Other drawings" draws the next
drawings' grids in the page before the server answers, the grids the server then hands over.
Waits are on conditions."""
from browser import count_sent, wait_idle

PAD = "[data-maviz-pad]"
YOURS = """() => Array.from(document.querySelectorAll('.js-plotly-plot')).some(
    g => g.layout && g.layout.title && String(g.layout.title.text).includes('Your drawing'))"""
# the guesses' chart, drawn by the pad beside the square: each trace's name and the index of
# its outlined bar (the character the user says they copied)
OUTLINED = """() => { const g = document.querySelector('[data-maviz-pad] .js-plotly-plot');
  return g && g._fullData ? g._fullData.map(t => [t.name, t.y.length,
    Array.from(t.marker.line.color).indexOf('black')]) : null; }"""
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
    assert page.evaluate(OUTLINED) == [["MAML", 5, 0], ["Pretrained", 5, 0]]   # A, the default
    page.get_by_role("radiogroup").get_by_text("C", exact=True).click()   # "I copied C"
    page.wait_for_function(f"() => JSON.stringify(({OUTLINED})()) === "
                           "'[[\"MAML\",5,2],[\"Pretrained\",5,2]]'", timeout=90_000)
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


GRIDS = "document.querySelector('[data-maviz-hw]')"


def test_other_drawings_are_drawn_by_the_page_then_the_server_hands_the_same_over(chromium,
                                                                                  app_url):
    page = chromium.new_page(viewport={"width": 1400, "height": 900})
    page.goto(f"{app_url}/Handwriting")
    page.wait_for_selector("[data-maviz-hw] .js-plotly-plot .main-svg", timeout=120_000)
    wait_idle(page)
    held = f"""(n) => {{ const g = {GRIDS}, m = g && window.__mavizHw.sets.get(g.dataset.sig);
        return m && m.has(n) ? m.get(n).id : null; }}"""
    z = f"() => Array.from({GRIDS}.querySelector('.js-plotly-plot')._fullData[0].z[60]).join()"
    first = int(page.evaluate(f"() => {GRIDS}.dataset.draw"))
    page.wait_for_function(f"() => ({held})({first + 1}) !== null", timeout=120_000)  # ahead
    before = page.evaluate(z)
    page.get_by_role("button", name="Other drawings").click()
    wait_idle(page)
    page.wait_for_timeout(300)
    log = [e for e in page.evaluate("() => window.__mavizHw.log") if e["draw"] == first + 1]
    assert log and log[0]["from"] == "page", log           # drawn before the server answered
    assert len(log) == 1 and log[0]["id"] == page.evaluate(f"() => ({held})({first + 1})")
    assert page.evaluate(f"() => {GRIDS}.dataset.draw") == str(first + 1)
    assert page.evaluate(z) != before                        # other drawings
    # both grids: the second's drawings are the first's (sent once), its caption from its data
    names = page.evaluate(f"""() => Array.from({GRIDS}.querySelectorAll('.js-plotly-plot'))
        .map(g => [g.layout.title.text, Array.from(g._fullData[0].z[60]).join()])""")
    assert [n[0].split(":")[0] for n in names] == ["<b>MAML", "<b>Pretrained"]
    assert names[0][1] == names[1][1]
    cap = page.evaluate(f"() => {GRIDS}.querySelectorAll('[data-caption]')[1].textContent")
    assert cap.startswith("The same task for a network trained")
    assert page.locator('[data-testid="stException"]').count() == 0
    page.close()
