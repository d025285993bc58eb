/* touchtrail add-on: engaged time and scroll depth. `make js` builds
   dist/t-engage.js. Paste it beside the tracker's tag, on the pages where the
   site wants them (either order):

     <script defer src="https://collector.example/t-engage.js"></script>

   For each page view (SPA routes and returns from the back/forward cache
   too) it counts the milliseconds during which the page is visible and the
   visitor did something (scrolled, moved the pointer, pressed a key,
   touched) in the last 30 seconds, and the deepest point scrolled to, in
   percent of the document (100 for a page that fits the window). When the
   page is hidden or left, or the route changes, it sends them as one
   `engagement` touchpoint with the page's URL through the tracker's API: its
   listeners run before the tracker's, so the report leaves in the tracker's
   beacon. A page hidden and shown again reports again, with its totals so
   far (the journey counts the largest); nothing new, nothing sent. */
(() => {
  var w = window, d = document, h = history, ms, since, last, deep, url, sent;
  var now = () => performance.now();
  // Count up to now (at most 30 s after the last activity), then count on
  // from now while the page is visible (since < 0: not counting).
  var tick = (t = now()) => {
    since < 0 || (ms += Math.max(0, Math.min(t, last + 3e4) - since));
    since = d.hidden ? -1 : t;
  };
  var active = () => (tick(), last = now());
  var depth = (e = d.documentElement) =>
    deep = Math.max(deep, Math.min(100, Math.round((w.scrollY + w.innerHeight) * 100 / e.scrollHeight)));
  var start = () => (ms = deep = 0, since = -1, sent = '', url = location.href, active(), depth());
  var report = (r) => {
    tick();
    depth();
    r = Math.round(ms);
    r + ' ' + deep != sent && w.touchtrail && w.touchtrail('engagement', { url: url, engaged_ms: r, scroll: deep });
    sent = r + ' ' + deep;
  };
  // A new URL is a new page view: report the last one first.
  var routed = () => location.href != url && (report(), start());
  ['pushState', 'replaceState'].map((f) => {
    var orig = h[f];
    h[f] = (...a) => (a = orig.apply(h, a), routed(), a);
  });
  ['scroll', 'pointermove', 'pointerdown', 'keydown', 'touchstart', 'wheel'].map((e) => w.addEventListener(e, active, { capture: true, passive: true }));
  w.addEventListener('scroll', () => depth(), { passive: true });
  w.addEventListener('popstate', routed, true);
  // On the document, and on window in the capture phase: before the
  // tracker's own listeners, which send the beacon.
  d.addEventListener('visibilitychange', () => d.hidden ? report() : active());
  // Left: counting stops (the visibilitychange that follows adds nothing).
  w.addEventListener('pagehide', () => (report(), since = -1), true);
  w.addEventListener('pageshow', (ev) => ev.persisted && start(), true);
  start();
})();
