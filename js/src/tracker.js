/* touchtrail: every touchpoint of the journey, in order. Readable source; `make js` minifies it. */
(() => {
  var w = window, d = document, n = navigator, loc = location, h = history;
  var script = d.currentScript || {}, ds = script.dataset || {}, site = ds.site;
  var prior = (w.touchtrail || {}).q || [];
  var on = (t, e, f, c) => t.addEventListener(e, f, c);
  var safe = (f) => { try { return f(); } catch (e) { /* blocked storage, an absent widget */ } };
  // Do-Not-Track and Global Privacy Control, when the site asks: not one request.
  // The page's own touchtrail(…) calls then do nothing.
  if (!site || ('respectDnt' in ds && (n.doNotTrack == 1 || n.globalPrivacyControl))) return w.touchtrail = () => {};
  var api = new URL('/v1/events', ds.api || script.src);
  var cookieless = ds.mode == 'cookieless';
  var params = (ds.searchParams || 'q,s,search,query').split(',');

  // Storage: none at all in cookieless mode.
  var ls = cookieless ? {} : safe(() => localStorage) || {};
  var get = (k) => ls[k];
  var set = (k, v) => safe(() => ls[k] = v);
  var rnd = () => [...crypto.getRandomValues(new Uint8Array(16))].map((b) => (b | 256).toString(16).slice(1)).join('');

  // A random 128-bit visitor id in localStorage and in a first-party cookie the backend can read.
  var visitor = cookieless ? void 0 : get('tt_v') || (d.cookie.match(/tt_v=(\w{32})/) || [])[1] || rnd();
  if (visitor) {
    set('tt_v', visitor);
    d.cookie = 'tt_v=' + visitor + ';path=/;max-age=34560000'; // first-party, 400 days
  }
  var seq = +get('tt_s') || 0;

  // The outbox: events stay in it (and in localStorage, bounded) until the
  // collector confirms them. Sending one twice is harmless: the collector
  // stores an event id once.
  var box = safe(() => JSON.parse(get('tt_q'))) || [], timer = 0, delay = 1e3;
  var save = () => set('tt_q', JSON.stringify(box = box.slice(-200)));
  function flush(leaving) {
    clearTimeout(timer);
    timer = 0;
    var evs = box.slice(), now = Date.now(), body;
    if (!evs[0]) return;
    evs.forEach((e) => e.sent = now);
    body = JSON.stringify({ site: site, cookieless: cookieless, events: evs });
    // Leaving the page only a beacon is sure to go; its events stay in the
    // box until a later page load confirms them.
    (leaving === 1 && n.sendBeacon(api, body)) ||
      // A string body goes as text/plain: a simple request, no CORS preflight.
      fetch(api, { method: 'POST', body: body, keepalive: true })
        .then((r) => {
          if (r.status > 499 | r.status == 429) throw r; // retried; other 4xx are final
          box = box.filter((e) => !evs.includes(e));
          save();
          delay = 1e3;
        })
        .catch(() => timer = setTimeout(flush, delay = Math.min(delay * 2, 6e4)));
  }

  // Typed touchpoints carry their props as fields (the collector keeps those
  // it does not know as props); any other name is a custom event.
  function track(type, p) {
    box.push(Object.assign(
      { id: rnd(), type: type, visitor: visitor, seq: ++seq, ts: Date.now(), url: loc.href },
      /^(pageview|search|chat_open|checkout_step|feedback|identify)$/.test(type) ? p : { type: 'custom', name: type, props: p }
    ));
    set('tt_s', seq);
    save();
    box[19] ? flush() : timer = timer || setTimeout(flush, 1e3);
  }

  // Page views (SPA routes too; the same URL twice counts once), searches in
  // the URL, and checkout steps marked on the page.
  var last;
  function page() {
    var u = loc.href, sp = new URL(u).searchParams, q = params.map((k) => sp.get(k)).find((v) => v);
    if (u == last) return;
    track('pageview', { title: d.title, referrer: last || d.referrer });
    last = u;
    q && track('search', { query: q });
    d.querySelectorAll('[data-touchtrail-checkout-step]').forEach(({ dataset: a }) =>
      track('checkout_step', { step: a.touchtrailCheckoutStep, name: a.touchtrailCheckoutName }));
  }
  var routed = () => setTimeout(page);
  ['pushState', 'replaceState'].forEach((f, orig) => {
    orig = h[f];
    h[f] = function () {
      routed();
      return orig.apply(this, arguments);
    };
  });
  on(w, 'popstate', routed);
  on(w, 'hashchange', routed);

  // Site and FAQ searches from search forms. A GET form that navigates to a
  // URL holding the query is counted there instead.
  on(d, 'submit', (ev) => {
    var f = ev.target, i = f.querySelector(f.role == 'search' ? 'input' : 'input[type=search]');
    i && i.value && (ev.defaultPrevented || f.method != 'get' || !params.includes(i.name)) && track('search', { query: i.value });
  });

  // Chat opens: clicks on [data-touchtrail-chat], and the common widgets'
  // own open events when a widget is on the page.
  on(d, 'click', (ev) => {
    var el = ev.target.closest('[data-touchtrail-chat]');
    el && track('chat_open', { widget: el.dataset.touchtrailChat || 'custom' });
  }, true);
  // Chat widgets' own open events: the hooks live in t-chat.js, loaded only
  // when one of the widgets is on the page, so sites without one pay nothing.
  var widgets = () => ['Intercom', '$crisp', 'Tawk_API', 'zE', 'LiveChatWidget'].some((k) => w[k]) &&
    (d.head.appendChild(d.createElement('script')).src = new URL('/t-chat.js', api));

  // Send on the way out; retry when back online.
  on(d, 'visibilitychange', () => d.hidden && flush(1));
  on(w, 'pagehide', () => flush(1));
  on(w, 'online', flush);

  w.touchtrail = (type, props) => type == 'pageview' && !props ? page() : track(type, props);
  page();
  prior.forEach((a) => w.touchtrail(...a));
  d.readyState == 'complete' ? widgets() : on(w, 'load', widgets);
  flush(); // what earlier pages could not deliver
})();
