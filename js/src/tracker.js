/* touchtrail: every touchpoint of the journey, in order. Readable source; `make js` builds
   dist/t.js (CHAT false) and dist/t-chat.js (CHAT true: plus clicks on [data-touchtrail-chat]
   and the chat widgets' open events). The add-ons: src/checkout.js reads checkout markup,
   src/engage.js reports engaged time and scroll depth through touchtrail('engagement', …). */
(() => {
  var w = window, d = document, n = navigator, loc = location, h = history;
  var script = d.currentScript || {}, ds = script.dataset || {}, site = ds.site;
  var prior = (w.touchtrail || {}).q || [];
  // Every listener is on window: document events bubble up to it.
  var on = (e, f, c) => w.addEventListener(e, f, c);
  var safe = (f) => { try { return f(); } catch (e) { /* blocked storage, an absent widget */ } };
  // Do-Not-Track and Global Privacy Control, when the site asks: not one
  // request, nothing stored; the page's own touchtrail(…) calls do nothing.
  if (!site || 'respectDnt' in ds && (n.doNotTrack == 1 || n.globalPrivacyControl)) return w.touchtrail = () => {};
  // data-api: the whole endpoint URL, also relative to the script (a path
  // of the site's own, '/api/e', through its reverse proxy), or the
  // collector's origin (whose POST / is /v1/events).
  var api = new URL(ds.api || '/v1/events', script.src);
  var cookieless = ds.mode == 'cookieless';
  var params = (ds.searchParams || 'q,s,search,query').split(',');

  // Storage is a plain object, so memory only, in cookieless mode (and when
  // the browser blocks localStorage).
  var ls = cookieless ? {} : safe(() => localStorage) || {};
  var set = (k, v) => safe(() => ls[k] = v);
  var rnd = () => crypto.getRandomValues(new Uint8Array(16)).reduce((s, b) => s + (b | 256).toString(16).slice(1), '');

  // A random 128-bit visitor id in localStorage and in a first-party cookie
  // the backend can read; an id found in either is kept.
  var visitor;
  if (!cookieless) {
    visitor = (('tt_v=' + ls.tt_v + ';' + d.cookie).match(/tt_v=(\w{32})/) || [])[1] || rnd();
    set('tt_v', visitor);
    d.cookie = 'tt_v=' + visitor + ';path=/;max-age=34560000;samesite=lax'; // 400 days
  }

  // The outbox: events stay in it (and in localStorage, the newest 200) until
  // the collector confirms them. Sending one twice is harmless: the collector
  // stores an event id once. timer is the pending flush, or -1 while a fetch
  // is out: one at a time, and the next starts when it is answered.
  var box = safe(() => JSON.parse(ls.tt_q)) || [], timer, delay = 1e3;
  var save = () => set('tt_q', JSON.stringify(box = box.slice(-200)));
  var flush = (leaving) => {
    var evs = box.slice(0, 20), now = Date.now(), body;
    if (!evs[0] || timer < 0 && leaving != 1) return;
    evs.map((e) => e.sent = now);
    // A string body goes as text/plain: a simple request, no CORS preflight.
    body = JSON.stringify({ site: site, cookieless: cookieless, events: evs });
    // Leaving the page, only a beacon is sure to go. Whether it arrived is
    // unknowable, so its events stay in the box until a fetch confirms them.
    if (leaving == 1 && n.sendBeacon && n.sendBeacon(api, body)) return;
    clearTimeout(timer);
    timer = -1;
    fetch(api, { method: 'POST', body: body, keepalive: !body[2e4] }) // keepalive allows 64 KB
      .then((r) => {
        if (!r.ok) throw r;
        timer = 0;
        delay = 1e3;
        box = box.filter((e) => !evs.includes(e));
        save();
        box[0] && flush();
      })
      .catch(() => timer = setTimeout(flush, delay = Math.min(delay * 2, 6e4)));
  };

  // Typed touchpoints carry their own fields; anything else they are given
  // goes into props as strings (32 at most, 256 characters each). Any other
  // name is a custom event with that name, and so is 'custom' with a name
  // prop. (Parameters after p are locals: they minify smaller than a var
  // statement; page() and the listeners below do the same.)
  // Tickets a page reports itself (a contact form) are typed in t-chat.js,
  // the tracker of support pages: t.js has no byte to spare.
  var typed = CHAT ? /^(pageview|search|chat_open|checkout_step|feedback|identify|engagement|ticket)$/
    : /^(pageview|search|chat_open|checkout_step|feedback|identify|engagement)$/;
  var fields = /^(url|title|referrer|query|results|widget|step|name|value|currency|score|scale|comment|user(_hash)?)$/;
  var track = (type, p, t = typed.test(type), k = 0, key, e = {
    id: rnd(), type: t ? type : 'custom', visitor: visitor, seq: -~ls.tt_s, // (tt_s|0)+1
    ts: Date.now(), url: loc.href, props: {},
  }) => {
    set('tt_s', e.seq); // read back each time: other tabs count too
    t || (e.name = type);
    for (key in p) (t ? fields.test(key) : type == 'custom' && key == 'name') ? e[key] = p[key] : k++ < 32 && (e.props[key] = (p[key] + '').slice(0, 256));
    box.push(e);
    save();
    // A full batch goes at once, unless the collector is being waited for.
    box[19] && delay < 2e3 ? flush() : timer = timer || setTimeout(flush, 1e3);
  };

  // Page views (SPA routes too; the same URL twice in a row counts once)
  // and searches in the URL. mark is what a search form that navigated left
  // for the next page: "<its page's path>\n<the query>" (a text input holds
  // no line feed). Landing on a URL holding that query, the search is not
  // counted again (the submit was), and the form's own page reloaded so is
  // no new page view either.
  var mark = ls.tt_f || '', last, searched;
  mark && set('tt_f', '');
  var page = (u = loc.href, x = new URL(u), m = mark,
    q = params.map((k) => x.searchParams.get(k)).find((v) => v)) => {
    if (u == last) return;
    mark = '';
    q && m.endsWith('\n' + q) && (searched = q, m == x.pathname + '\n' + q) ||
      track('pageview', { title: d.title, referrer: last || d.referrer });
    last = u;
    q && q != searched && track('search', { query: q });
    searched = 0;
  };
  // Run after the router has changed the URL (and, mostly, the title).
  // popstate also comes with every fragment navigation (before hashchange).
  var routed = () => setTimeout(page);
  ['pushState', 'replaceState'].map((f) => {
    var orig = h[f];
    h[f] = (...a) => (routed(), orig.apply(h, a));
  });
  on('popstate', routed);

  // Site and FAQ searches from search forms, at the submit, once the page's
  // own handlers have run. A form that navigates leaves the mark for the page
  // it goes to (the pagehide beacon carries the search); without storage to
  // hold the mark (cookieless), a form that navigates to a URL holding the
  // query is counted there instead. An SPA that prevents the submit and puts
  // the query in the URL is not counted twice.
  on('submit', (ev, i = ev.target.querySelector('[type=search],[role=search] input:not([type=hidden])')) => {
    if (i && i.value && (ev.defaultPrevented || ls.setItem || !params.includes(i.name))) {
      track('search', { query: searched = i.value });
      ev.defaultPrevented || set('tt_f', loc.pathname + '\n' + i.value);
    }
  });

  // Chats (t-chat.js only). Clicks on [data-touchtrail-chat], caught on the
  // way down so that a widget which stops them does not hide them, and the
  // widgets' own open events: each hook is tried, and a widget that is not
  // on the page costs nothing.
  if (CHAT) {
    on('click', (ev, el = ev.target.closest('[data-touchtrail-chat]')) =>
      el && track('chat_open', { widget: el.dataset.touchtrailChat || 'custom' }), true);
    let hooks = () => {
      var chat = (widget) => () => track('chat_open', { widget: widget }), tawk = w.Tawk_API, was;
      [
        () => w.Intercom('onShow', chat('intercom')),
        () => w.$crisp.push(['on', 'chat:opened', chat('crisp')]),
        () => {
          was = tawk.onChatMaximized;
          tawk.onChatMaximized = function () { chat('tawk')(); was && was.apply(this, arguments); };
        },
        () => w.zE('messenger:on', 'open', chat('zendesk')),
        () => w.LiveChatWidget.on('visibility_changed', (e) => e.visibility == 'maximized' && chat('livechat')()),
      ].map(safe);
    };
    d.readyState == 'complete' ? hooks() : on('load', hooks);
  }

  // A beacon when the page is hidden or left; back in view, a fetch confirms.
  // Back (or forward) to a page kept in the back/forward cache: a page view,
  // from the page itself (its scripts do not run again).
  on('visibilitychange', () => flush(d.hidden));
  on('pagehide', () => flush(1));
  on('pageshow', (ev) => ev.persisted && track('pageview', { title: d.title, referrer: last }));
  on('online', flush);

  // touchtrail('identify', 'u-42', {user_hash}): a string is the user id.
  w.touchtrail = (type, props, more) => type == 'pageview' && !props ? page()
    : track(type, props + '' === props ? Object.assign({ user: props }, more) : props);
  page();
  prior.map((a) => w.touchtrail(...a));
  flush(); // at once: the first page view, and what earlier pages left
})();
