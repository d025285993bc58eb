'use strict';
// The snippet's behaviour, spec by spec, in the fake browser of harness.js.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { browser, element, form } = require('./harness.js');

const hex32 = /^[0-9a-f]{32}$/;
const pageviews = (b) => b.events().filter((e) => e.type == 'pageview');
const searches = (b) => b.events().filter((e) => e.type == 'search').map((e) => e.query);
const path = (u) => { const x = new URL(u); return x.pathname + x.search + x.hash; };

test('a page view at load, sent at once by fetch keepalive as a text/plain string', async () => {
  const b = browser({ url: 'https://shop.example/home?utm_source=news', referrer: 'https://www.google.com/', title: 'Shop' }).load();
  await b.tick();
  assert.equal(b.requests.length, 1);
  const req = b.requests[0];
  assert.equal(req.via, 'fetch');
  assert.equal(req.url, 'https://collector.example/v1/events', 'data-api defaults to the origin of the script');
  assert.equal(req.init.method, 'POST');
  assert.equal(req.init.keepalive, true);
  assert.equal(typeof req.init.body, 'string', 'a string body is text/plain: no CORS preflight');
  assert.equal(req.init.headers, undefined, 'no header that would make the request preflighted');
  assert.deepEqual(Object.keys(req.body), ['site', 'cookieless', 'events']);
  assert.equal(req.body.site, 'shop');
  assert.equal(req.body.cookieless, false);
  const [pv] = req.body.events;
  assert.equal(pv.type, 'pageview');
  assert.equal(pv.url, 'https://shop.example/home?utm_source=news');
  assert.equal(pv.title, 'Shop');
  assert.equal(pv.referrer, 'https://www.google.com/');
  assert.match(pv.id, hex32);
  assert.match(pv.visitor, hex32);
  assert.equal(pv.seq, 1);
  assert.equal(pv.ts, b.now);
  assert.equal(pv.sent, b.now);
  assert.deepEqual(b.queue(), [], 'confirmed events leave the queue');
});

test('config: data-api, data-site required, a missing script tag', async () => {
  // data-api is the collector's origin (whose POST / is its /v1/events), or
  // the whole endpoint: absolute, or a first-party path beside the script.
  let b;
  for (const [api, url] of [
    [undefined, 'https://cdn.example/v1/events'],
    ['https://t.example.org', 'https://t.example.org/'],
    ['https://shop.example/api/e', 'https://shop.example/api/e'],
    ['/api/e', 'https://cdn.example/api/e'],
  ]) {
    b = browser({ dataset: api ? { api } : {}, src: 'https://cdn.example/t.js' }).load();
    await b.tick();
    assert.equal(b.requests[0].url, url, 'data-api ' + api);
  }

  for (const o of [{ dataset: { site: '' } }, { noScript: true }]) {
    b = browser(o).load();
    b.win.touchtrail('search', { query: 'x' }); // does not throw
    b.fire('window', 'pagehide');
    await b.tick(5000);
    assert.equal(b.requests.length, 0);
    assert.equal(b.cookies.length + b.writes.local.length, 0);
  }
});

test('calls queued by the stub before the script loaded are replayed in order', async () => {
  const b = browser({ stub: [['identify', { user: 'u-1' }], ['search', { query: 'shoes', results: 0 }], ['newsletter', { plan: 'weekly' }]] }).load();
  await b.tick();
  assert.deepEqual(b.types(), ['pageview', 'identify', 'search', 'custom']);
  const [, id, s, c] = b.events();
  assert.equal(id.user, 'u-1');
  assert.deepEqual([s.query, s.results], ['shoes', 0]);
  assert.deepEqual([c.name, c.props], ['newsletter', { plan: 'weekly' }]);
  assert.equal(typeof b.win.touchtrail.q, 'undefined', 'the stub is replaced by the API');
});

test('SPA route changes are page views; the same URL twice in a row counts once', async () => {
  const b = browser({ url: 'https://shop.example/', referrer: 'https://news.example/' }).load();
  const h = b.win.history;
  h.pushState({}, '', '/pricing');
  b.win.document.title = 'Pricing';
  await b.tick();
  h.pushState({}, '', '/pricing'); // same URL
  await b.tick();
  h.replaceState({}, '', '/pricing?plan=pro');
  await b.tick();
  h.pushState({}, '', '/faq'); // the browser changes the URL; popstate tells
  b.fire('window', 'popstate');
  await b.tick();
  b.win.location.href = 'https://shop.example/faq#returns'; // a fragment link: popstate, then hashchange
  b.fire('window', 'popstate');
  b.fire('window', 'hashchange');
  b.fire('window', 'popstate'); // twice: still one page view
  await b.tick(1000);
  const pvs = pageviews(b);
  assert.deepEqual(pvs.map((e) => path(e.url)), ['/', '/pricing', '/pricing?plan=pro', '/faq', '/faq#returns']);
  assert.deepEqual(pvs.map((e) => e.referrer),
    ['https://news.example/', 'https://shop.example/', 'https://shop.example/pricing', 'https://shop.example/pricing?plan=pro', 'https://shop.example/faq']);
  assert.equal(pvs[1].title, 'Pricing', 'the title is read after the router changed it');
  assert.equal(b.win.touchtrail('pageview'), undefined);
  await b.tick(1000);
  assert.equal(pageviews(b).length, 5, 'touchtrail("pageview") on the same URL adds nothing');
});

test('searches from the URL: the first of data-search-params present, at load and on route changes', async () => {
  let b = browser({ url: 'https://shop.example/search?q=red+shoes' }).load();
  b.win.history.pushState({}, '', '/help?s=refund');
  await b.tick(1000);
  assert.deepEqual(b.types(), ['pageview', 'search', 'pageview', 'search']);
  assert.deepEqual(searches(b), ['red shoes', 'refund']);
  assert.equal(b.events()[1].url, 'https://shop.example/search?q=red+shoes');

  b = browser({ url: 'https://shop.example/help?q=x&term=refund&k=kb', dataset: { searchParams: 'k,term' } }).load();
  await b.tick();
  assert.deepEqual(searches(b), ['kb']);
  b = browser({ url: 'https://shop.example/help?q=' }).load(); // empty: no search
  await b.tick();
  assert.deepEqual(b.types(), ['pageview']);
});

test('searches from search forms', async () => {
  const b = browser().load();
  const submit = (f, defaultPrevented = true) => b.fire('document', 'submit', { target: f, defaultPrevented });
  // role=search: the first text input, not a hidden one.
  submit(form({ role: 'search', inputs: [{ type: 'hidden', name: 'lang', value: 'en' }, { name: 'term', value: 'refund' }] }));
  // Any form holding an input[type=search].
  submit(form({ inputs: [{ type: 'text', name: 'x', value: 'no' }, { type: 'search', name: 'kw', value: 'returns' }] }));
  // Forms that navigate count at the submit too, whatever their field's name.
  submit(form({ inputs: [{ type: 'search', name: 'q', value: 'navigates' }] }), false);
  submit(form({ inputs: [{ type: 'search', name: 'kw', value: 'posted' }] }), false);
  // Not search forms, or empty.
  submit(form({ inputs: [{ type: 'email', name: 'email', value: 'a@b.example' }] }));
  submit(form({ role: 'search', inputs: [{ type: 'search', name: 'q', value: '' }] }));
  await b.tick(1000);
  assert.deepEqual(searches(b), ['refund', 'returns', 'navigates', 'posted']);
});

// next makes the browser a page load after b: same storage (the outbox, the
// visitor, the search form's mark), another URL.
const next = (b, url, o = {}) => browser({ url, storage: Object.fromEntries(b.local), referrer: b.win.location.href, ...o }).load();

test('a search form that navigates: the search at the submit, the results page does not count it again', async () => {
  const b = browser({ url: 'https://shop.example/ar/' }).load();
  await b.tick();
  b.fire('document', 'submit', { target: form({ role: 'search', inputs: [{ type: 'search', name: 'q', value: 'شحن مجاني' }] }), defaultPrevented: false });
  assert.deepEqual(b.types(), ['pageview'], 'waits for the batch window…');
  b.fire('window', 'pagehide'); // …but the navigation hides the page: a beacon
  assert.equal(b.requests.at(-1).via, 'beacon');
  assert.deepEqual(b.requests.at(-1).body.events.map((e) => [e.type, e.query, path(e.url)]), [['search', 'شحن مجاني', '/ar/']]);
  assert.equal(b.local.get('tt_f'), '/ar/\nشحن مجاني');

  // The results page: a page view; the search is not counted again, and the
  // unconfirmed beaconed search goes again by fetch (the collector dedupes).
  const r = next(b, 'https://shop.example/ar/search?q=%D8%B4%D8%AD%D9%86+%D9%85%D8%AC%D8%A7%D9%86%D9%8A');
  await r.tick();
  assert.deepEqual(r.types(), ['search', 'pageview']);
  assert.equal(r.events()[0].id, b.requests.at(-1).body.events[0].id);
  assert.equal(r.local.get('tt_f'), '', 'the mark is spent');
  // Later, the same query by a link (another page load) is a search again.
  const again = next(r, 'https://shop.example/ar/search?q=%D8%B4%D8%AD%D9%86+%D9%85%D8%AC%D8%A7%D9%86%D9%8A&page=2');
  await again.tick();
  assert.deepEqual(again.types(), ['pageview', 'search']);
});

test('a search form without action reloads its page: one search, no second page view', async () => {
  const b = browser({ url: 'https://shop.example/ro-RO/faq.html' }).load();
  await b.tick();
  b.fire('document', 'submit', { target: form({ inputs: [{ type: 'search', name: 's', value: 'livrare în București' }] }), defaultPrevented: false });
  b.fire('window', 'pagehide');
  const r = next(b, 'https://shop.example/ro-RO/faq.html?s=livrare+%C3%AEn+Bucure%C8%99ti');
  await r.tick();
  // The reloaded page sends what was queued, and adds nothing of its own.
  assert.deepEqual(r.types(), ['search']);
  assert.equal(r.events()[0].query, 'livrare în București');
  // Its later events carry its URL, and an SPA route's referrer is it.
  r.win.history.pushState({}, '', '/ro-RO/checkout');
  await r.tick(1000);
  const pv = r.events().at(-1);
  assert.deepEqual([pv.type, path(pv.url), path(pv.referrer)], ['pageview', '/ro-RO/checkout', '/ro-RO/faq.html?s=livrare+%C3%AEn+Bucure%C8%99ti']);
});

test('the mark is for the next page only, and only for its query', async () => {
  const b = browser({ url: 'https://shop.example/faq' }).load();
  b.fire('document', 'submit', { target: form({ inputs: [{ type: 'search', name: 's', value: 'big returns' }] }), defaultPrevented: false });
  // The results were elsewhere (no snippet there); back on the site, another
  // search's URL: counted, and a page view.
  let r = next(b, 'https://shop.example/faq?s=returns');
  await r.tick();
  assert.deepEqual(r.types().slice(-2), ['pageview', 'search']);
  // Back to the form's page without a query: a page view.
  r = next(b, 'https://shop.example/faq');
  await r.tick();
  assert.deepEqual(r.types().slice(-1), ['pageview']);
});

test('cookieless: no mark can be kept, so a form that navigates to its query is counted on the results page', async () => {
  const b = browser({ url: 'https://shop.example/', dataset: { mode: 'cookieless' } }).load();
  const submit = (name, value) => b.fire('document', 'submit', { target: form({ inputs: [{ type: 'search', name, value }] }), defaultPrevented: false });
  submit('q', 'on the next page');
  submit('kw', 'now');
  await b.tick(1000);
  assert.deepEqual(searches(b), ['now']);
  const r = browser({ url: 'https://shop.example/search?q=on+the+next+page', dataset: { mode: 'cookieless' } }).load();
  await r.tick();
  assert.deepEqual(r.types(), ['pageview', 'search']);
  assert.deepEqual(r.writes.local, []);
});

test('back or forward to a page from the back/forward cache is a page view', async () => {
  const b = browser({ url: 'https://shop.example/ar/faq', title: 'الأسئلة الشائعة' }).load();
  await b.tick();
  b.fire('window', 'pagehide', { persisted: true });
  b.fire('window', 'pageshow', { persisted: false }); // a first load: page() did it
  b.fire('window', 'pageshow', { persisted: true });
  await b.tick(1000);
  const pvs = pageviews(b);
  assert.equal(pvs.length, 2);
  assert.deepEqual([path(pvs[1].url), pvs[1].title, path(pvs[1].referrer)], ['/ar/faq', 'الأسئلة الشائعة', '/ar/faq'],
    'the referrer is the page itself: a return within the site');
  assert.notEqual(pvs[1].id, pvs[0].id);
});

test('an SPA search form that puts the query in the URL counts once', async () => {
  const b = browser().load();
  const f = form({ role: 'search', inputs: [{ type: 'search', name: 'q', value: 'red shoes' }] });
  b.win.history.pushState({}, '', '/search?q=red+shoes'); // the app's submit handler routes…
  b.fire('document', 'submit', { target: f, defaultPrevented: true }); // …and prevents the navigation
  await b.tick(1000);
  assert.deepEqual(b.types(), ['pageview', 'search', 'pageview']);
  b.win.history.pushState({}, '', '/search?q=blue+shoes'); // a later search by link counts
  await b.tick(1000);
  assert.deepEqual(searches(b), ['red shoes', 'blue shoes']);
});

test('t-chat.js: chat opens from clicks on [data-touchtrail-chat], caught before the page can stop them', async () => {
  const b = browser({ chat: true }).load();
  const button = element({ dataset: { touchtrailChat: 'support' } });
  const icon = element({ parent: button });
  b.fire('document', 'click', { target: icon });
  b.fire('document', 'click', { target: element({ dataset: { touchtrailChat: '' } }) });
  b.fire('document', 'click', { target: element() });
  await b.tick(1000);
  assert.deepEqual(b.events().filter((e) => e.type == 'chat_open').map((e) => e.widget), ['support', 'custom']);
  const click = b.listeners.find((l) => l.type == 'click');
  assert.equal(click.capture, true);
  assert.equal(browser().load().listeners.find((l) => l.type == 'click'), undefined, 't.js has no click listener');
});

test('t-checkout.js: checkout steps marked on the page, once per page view, after it', async () => {
  const step = (s, extra = {}) => element({ dataset: { touchtrailCheckoutStep: s, ...extra } });
  for (const order of ['after', 'before']) {
    // Loaded after the tracker, or before it behind the stub (or with none).
    const b = browser({ url: 'https://shop.example/checkout/shipping', stub: order == 'before' ? [] : undefined });
    b.checkout = [step('2', { touchtrailCheckoutName: 'shipping', touchtrailValue: '49.50', touchtrailCurrency: 'RON' })];
    if (order == 'after') b.load().load('src/checkout.js');
    else b.load('src/checkout.js').load();
    b.win.history.replaceState({}, '', '/checkout/shipping'); // same page: not again
    await b.tick();
    b.checkout = [step('3')];
    b.win.history.pushState({}, '', '/checkout/payment');
    await b.tick(1000);
    assert.deepEqual(b.types(), ['pageview', 'checkout_step', 'pageview', 'checkout_step'], order);
    const steps = b.events().filter((e) => e.type == 'checkout_step');
    assert.deepEqual([steps[0].step, steps[0].name, steps[0].value, steps[0].currency], [2, 'shipping', 49.5, 'RON']);
    assert.deepEqual([steps[1].step, 'value' in steps[1], 'currency' in steps[1]], [3, false, false]);
    assert.equal(steps[1].url, 'https://shop.example/checkout/payment');
  }
  // The tracker alone reads no markup.
  const b = browser();
  b.checkout = [step('1')];
  b.load();
  await b.tick(1000);
  assert.deepEqual(b.types(), ['pageview']);
});

test('typed events carry their fields; unknown props go into props as strings', async () => {
  const b = browser().load();
  b.win.touchtrail('feedback', { score: 2, scale: 5, comment: 'slow', page: 'faq', helpful: false });
  b.win.touchtrail('identify', { user: 'u-42' });
  b.win.touchtrail('checkout_step', { step: 3, name: 'payment', value: 49.5, currency: 'EUR', items: ['a', 'b'] });
  b.win.touchtrail('chat_open', { widget: 'zendesk' });
  b.win.touchtrail('search', { query: 'refund', results: 0, id: 'x', type: 'y', seq: 99, ts: 1 });
  await b.tick(1000);
  const [, fb, id, cs, chat, s] = b.events();
  assert.deepEqual([fb.type, fb.score, fb.scale, fb.comment, fb.props], ['feedback', 2, 5, 'slow', { page: 'faq', helpful: 'false' }]);
  assert.deepEqual([id.type, id.user], ['identify', 'u-42']);
  assert.deepEqual([cs.step, cs.name, cs.value, cs.currency, cs.props], [3, 'payment', 49.5, 'EUR', { items: 'a,b' }]);
  assert.equal(chat.widget, 'zendesk');
  assert.deepEqual([s.type, s.query, s.results], ['search', 'refund', 0]);
  assert.match(s.id, hex32, 'props cannot overwrite the envelope');
  assert.deepEqual(s.props, { id: 'x', type: 'y', seq: '99', ts: '1' });
  assert.equal(s.seq, 6);
});

test("custom with a name prop is a custom event of that name; identify takes a user id and user_hash", async () => {
  const b = browser({ stub: [['identify', 'u-7', { user_hash: 'ab12' }]] }).load();
  b.win.touchtrail('custom', { name: 'banner_seen', slot: 'top', n: 2 });
  b.win.touchtrail('custom', { slot: 'nameless' });
  b.win.touchtrail('identify', 'u-42', { user_hash: 'cd34', plan: 'pro' });
  b.win.touchtrail('identify', { user: 'u-43', user_hash: 'ef56' });
  await b.tick(1000);
  const [, id7, named, nameless, id42, id43] = b.events();
  assert.deepEqual([named.type, named.name, named.props], ['custom', 'banner_seen', { slot: 'top', n: '2' }]);
  assert.deepEqual([nameless.type, nameless.name, nameless.props], ['custom', 'custom', { slot: 'nameless' }]);
  assert.deepEqual([id7.type, id7.user, id7.user_hash, id7.props], ['identify', 'u-7', 'ab12', {}], 'through the stub too');
  assert.deepEqual([id42.user, id42.user_hash, id42.props], ['u-42', 'cd34', { plan: 'pro' }]);
  assert.deepEqual([id43.user, id43.user_hash], ['u-43', 'ef56']);
});

test('any other name is a custom event: string props, at most 32, 256 characters each', async () => {
  const b = browser().load();
  const many = {};
  for (let i = 0; i < 40; i++) many['k' + i] = i;
  b.win.touchtrail('newsletter_signup', { plan: 'weekly', long: 'x'.repeat(300), n: 3, ok: true });
  b.win.touchtrail('bulk', many);
  b.win.touchtrail('bare');
  await b.tick(1000);
  const [, c, bulk, bare] = b.events();
  assert.deepEqual([c.type, c.name], ['custom', 'newsletter_signup']);
  assert.deepEqual(c.props, { plan: 'weekly', long: 'x'.repeat(256), n: '3', ok: 'true' });
  assert.equal(Object.keys(bulk.props).length, 32);
  assert.equal(bulk.props.k31, '31');
  assert.deepEqual([bare.type, bare.name, bare.props], ['custom', 'bare', {}]);
});

test('events are batched for a second, or sent when 20 wait', async () => {
  const b = browser().load();
  await b.tick();
  assert.equal(b.requests.length, 1);
  for (let i = 0; i < 5; i++) b.win.touchtrail('e' + i);
  await b.tick(999);
  assert.equal(b.requests.length, 1, 'nothing before the window closes');
  await b.tick(1);
  assert.equal(b.requests.length, 2);
  assert.equal(b.requests[1].body.events.length, 5);
  assert.ok(b.requests[1].body.events.every((e) => e.sent == b.now && e.ts == b.now - 1000));
  for (let i = 0; i < 20; i++) b.win.touchtrail('burst' + i);
  assert.equal(b.requests.length, 3, 'a full batch goes at once');
  assert.equal(b.requests[2].body.events.length, 20);
});

test('a backlog goes 20 events a request', async () => {
  const old = Array.from({ length: 45 }, (_, i) => ({ id: 'old' + i, type: 'custom', name: 'e', ts: 1 }));
  const b = browser({ storage: { tt_q: JSON.stringify(old) } }).load();
  await b.tick();
  assert.deepEqual(b.requests.map((r) => r.body.events.length), [20, 20, 6]);
  assert.deepEqual(b.queue(), []);
});

test('hidden or leaving: a beacon; its events stay queued until a fetch confirms them', async () => {
  const b = browser().load();
  await b.tick();
  b.win.touchtrail('feedback', { score: 4, scale: 5 });
  b.win.document.hidden = true;
  b.fire('document', 'visibilitychange');
  let r = b.requests.at(-1);
  assert.equal(r.via, 'beacon');
  assert.equal(r.url, 'https://collector.example/v1/events');
  assert.deepEqual(r.body.events.map((e) => e.type), ['feedback']);
  assert.equal(r.body.events[0].sent, b.now);
  assert.equal(b.queue().length, 1, 'a beacon may be lost: kept (the collector dedupes by id)');
  await b.tick(1000); // the batch window still closes in a hidden tab
  r = b.requests.at(-1);
  assert.equal(r.via, 'fetch');
  assert.equal(r.body.events[0].id, b.requests.at(-2).body.events[0].id, 'the same id');
  assert.equal(r.body.events[0].sent, b.now, 'sent is the time of this sending');
  assert.deepEqual(b.queue(), []);
  b.win.touchtrail('e');
  b.fire('window', 'pagehide');
  assert.equal(b.requests.at(-1).via, 'beacon');
  assert.deepEqual(b.requests.at(-1).body.events.map((e) => e.name), ['e']);
  b.win.document.hidden = false;
  b.fire('document', 'visibilitychange'); // back (from the bfcache): a fetch confirms at once
  await b.tick();
  assert.equal(b.requests.at(-1).via, 'fetch');
  assert.deepEqual(b.queue(), []);
});

test('without sendBeacon, or when it refuses, the leaving batch goes by fetch', async () => {
  for (const mode of ['missing', 'false']) {
    const b = browser({ beaconMode: mode }).load();
    await b.tick();
    b.win.touchtrail('e');
    b.fire('window', 'pagehide');
    const vias = b.requests.map((r) => r.via);
    assert.deepEqual(vias.filter((v) => v == 'fetch').length, 2, mode);
    assert.equal(b.requests.at(-1).body.events[0].name, 'e');
  }
});

test('failed deliveries wait in localStorage, retried with backoff, when online, and on the next page', async () => {
  const b = browser({ fetchMode: 'reject' }).load();
  await b.tick();
  b.win.touchtrail('search', { query: 'a' });
  assert.equal(b.requests.length, 1, 'the first attempt, at load');
  assert.equal(b.queue().length, 2, 'both wait in localStorage');
  await b.tick(1999);
  assert.equal(b.requests.length, 1, 'backs off 2 s (the batch window waits too)');
  await b.tick(1);
  assert.equal(b.requests.length, 2);
  assert.equal(b.requests[1].body.events.length, 2);
  await b.tick(3999);
  assert.equal(b.requests.length, 2, 'then 4 s');
  await b.tick(1);
  assert.equal(b.requests.length, 3);
  await b.tick(8000 + 16000 + 32000 + 60000);
  assert.equal(b.requests.length, 7, 'then 8, 16, 32 and at most 60 s');
  const first = b.requests[0].body.events[0];
  const last = b.requests.at(-1).body.events[0];
  assert.equal(last.id, first.id, 'a retried event keeps its id');
  assert.equal(last.ts, first.ts);
  assert.notEqual(last.sent, first.sent, 'sent is set at each sending');
  b.fetchMode = 202;
  b.fire('window', 'online');
  await b.tick();
  assert.equal(b.requests.length, 8);
  assert.deepEqual(b.queue(), []);

  // A later page delivers what an earlier one left.
  const left = browser({ storage: { tt_q: JSON.stringify([{ id: 'x', type: 'pageview', ts: 1 }]) } }).load();
  await left.tick();
  assert.deepEqual(left.events().map((e) => e.id).slice(0, 1), ['x']);
  assert.deepEqual(left.queue(), []);
});

test('non-2xx answers are retried too; the queue keeps the newest 200', async () => {
  const b = browser({ fetchMode: 500 }).load();
  await b.tick();
  assert.equal(b.queue().length, 1);
  b.fetchMode = 429;
  await b.tick(2000);
  assert.equal(b.requests.length, 2);
  assert.equal(b.queue().length, 1);
  for (let i = 0; i < 250; i++) b.win.touchtrail('e' + i);
  assert.equal(b.queue().length, 200);
  assert.equal(b.queue()[0].name, 'e50', 'the oldest are dropped');
  assert.equal(b.queue().at(-1).name, 'e249');
  assert.equal(b.requests.length, 2, 'while backing off, a full queue waits');
});

test('Do-Not-Track or GPC with data-respect-dnt: no request at all, nothing stored', async () => {
  for (const o of [{ dnt: '1' }, { gpc: true }]) {
    const b = browser({ ...o, url: 'https://shop.example/?q=x', dataset: { respectDnt: '' }, stub: [['identify', { user: 'u' }]] }).load();
    b.win.touchtrail('search', { query: 'y' });
    b.win.history.pushState({}, '', '/next');
    b.fire('window', 'pagehide');
    b.fire('window', 'online');
    await b.tick(5000);
    assert.equal(b.requests.length, 0, JSON.stringify(o));
    assert.equal(b.writes.local.length + b.writes.session.length + b.cookies.length, 0);
  }
  for (const o of [{ dnt: '1', dataset: {} }, { dnt: '0', dataset: { respectDnt: '' } }]) {
    const b = browser(o).load();
    await b.tick();
    assert.equal(b.requests.length, 1, 'sends when the site does not ask, or the visitor did not say no');
  }
});

test('cookieless: no cookie, no storage, no visitor field; seq and retries in memory', async () => {
  const b = browser({ dataset: { mode: 'cookieless' }, fetchMode: 'reject' }).load();
  b.win.touchtrail('search', { query: 'x' });
  await b.tick(2000);
  b.fetchMode = 202;
  await b.tick(4000);
  b.fire('window', 'pagehide');
  await b.tick(1000);
  assert.equal(b.cookies.length, 0);
  assert.deepEqual(b.writes.local, []);
  assert.deepEqual(b.writes.session, []);
  assert.ok(b.requests.length >= 3);
  for (const r of b.requests) {
    assert.equal(r.body.cookieless, true);
    r.body.events.forEach((e) => assert.ok(!('visitor' in e)));
  }
  assert.deepEqual(b.requests.at(-1).body.events.map((e) => e.seq), [1, 2], 'retried from memory');
});

test('the visitor id: 128 random bits in localStorage and a first-party cookie, kept from either', async () => {
  let b = browser().load();
  await b.tick();
  const v = b.events()[0].visitor;
  assert.match(v, hex32);
  assert.equal(b.local.get('tt_v'), v);
  const c = b.cookies[0].split(';');
  assert.equal(c[0], 'tt_v=' + v);
  assert.deepEqual(c.slice(1).map((a) => a.toLowerCase()).sort(), ['max-age=34560000', 'path=/', 'samesite=lax']);
  assert.notEqual(browser().load().local.get('tt_v'), v, 'random');

  const id = 'ab'.repeat(16);
  b = browser({ storage: { tt_v: id, tt_s: '41' } }).load();
  await b.tick();
  assert.deepEqual([b.events()[0].visitor, b.events()[0].seq], [id, 42], 'seq goes on across pages');
  assert.equal(b.local.get('tt_s'), '42');
  b = browser({ cookie: 'other=1; tt_v=' + id }).load();
  await b.tick();
  assert.equal(b.events()[0].visitor, id, 'from the cookie a backend set');
  assert.equal(b.local.get('tt_v'), id);
  b = browser({ storage: { tt_v: 'not-an-id' }, cookie: 'tt_v=short' }).load();
  await b.tick();
  assert.match(b.events()[0].visitor, hex32, 'a malformed id is replaced');
  assert.notEqual(b.events()[0].visitor, id);
});

test('every event has a unique id, a rising seq, its own ts and the sending time', async () => {
  const b = browser().load();
  await b.tick(10);
  b.win.touchtrail('a');
  await b.tick(300);
  b.win.touchtrail('b');
  await b.tick(1000);
  const evs = b.events();
  assert.equal(new Set(evs.map((e) => e.id)).size, 3);
  evs.forEach((e) => assert.match(e.id, hex32));
  assert.deepEqual(evs.map((e) => e.seq), [1, 2, 3]);
  assert.deepEqual(evs.map((e) => e.ts - evs[0].ts), [0, 10, 310]);
  assert.deepEqual(evs.slice(1).map((e) => e.sent - e.ts), [1000, 700]);
  evs.forEach((e) => assert.equal(e.url, 'https://shop.example/home'));
});

test('storage that throws does not stop tracking', async () => {
  const b = browser();
  Object.defineProperty(b.win, 'localStorage', { get() { throw new Error('SecurityError'); } });
  b.load();
  await b.tick();
  assert.equal(b.requests.length, 1);
  assert.match(b.events()[0].visitor, hex32);
});

// t-chat.js: the same tracker plus the chat widgets' open events.
function widgets() {
  const hooks = {};
  let siteTawk = 0;
  return {
    hooks,
    get siteTawk() { return siteTawk; },
    globals: {
      Intercom: (ev, fn) => { hooks.intercom = ev == 'onShow' && fn; },
      $crisp: { push: ([on, ev, fn]) => { hooks.crisp = on == 'on' && ev == 'chat:opened' && fn; } },
      Tawk_API: { onChatMaximized: () => siteTawk++ },
      zE: (ns, ev, fn) => { hooks.zendesk = ns == 'messenger:on' && ev == 'open' && fn; },
      // LiveChatWidget is absent: its hook must not stop the others.
    },
  };
}

test('t-chat.js build: chat opens from Intercom, Crisp, Tawk.to, Zendesk and LiveChat', async () => {
  const w = widgets();
  const b = browser({ chat: true, globals: w.globals }).load();
  w.hooks.intercom();
  w.hooks.crisp();
  b.win.Tawk_API.onChatMaximized();
  w.hooks.zendesk();
  await b.tick(1000);
  assert.deepEqual(b.events().filter((e) => e.type == 'chat_open').map((e) => e.widget), ['intercom', 'crisp', 'tawk', 'zendesk']);
  assert.equal(w.siteTawk, 1, "the site's own Tawk handler still runs");

  let lc;
  const live = browser({ chat: true, readyState: 'loading', globals: { LiveChatWidget: { on: (ev, fn) => { lc = ev == 'visibility_changed' && fn; } } } }).load();
  assert.equal(lc, undefined, 'hooks wait for the load event');
  live.fire('window', 'load');
  lc({ visibility: 'minimized' });
  lc({ visibility: 'maximized' });
  await live.tick(1000);
  assert.deepEqual(live.events().filter((e) => e.type == 'chat_open').map((e) => e.widget), ['livechat']);

  const core = widgets();
  browser({ globals: core.globals }).load();
  assert.deepEqual(core.hooks, {}, 't.js leaves the widgets alone');
});

// The built files behave as the source does.
for (const [file, chat] of [['dist/t.js', false], ['dist/t-chat.js', true]]) {
  test(`${file}: the built file tracks, beacons and hooks as the source does`, async () => {
    const w = widgets();
    const b = browser({ url: 'https://shop.example/?q=shoes', globals: w.globals, stub: [['identify', { user: 'u' }]] }).load(file);
    b.win.history.pushState({}, '', '/cart');
    await b.tick();
    b.fire('document', 'click', { target: element({ dataset: { touchtrailChat: 'help' } }) });
    if (chat) w.hooks.intercom();
    b.fire('document', 'submit', { target: form({ role: 'search', inputs: [{ name: 's', value: 'boots' }] }), defaultPrevented: false });
    await b.tick(1000);
    b.win.touchtrail('feedback', { score: 5, scale: 5 });
    b.fire('window', 'pageshow', { persisted: true });
    b.fire('window', 'pagehide');
    assert.deepEqual(b.types(), ['pageview', 'search', 'identify', 'pageview', ...(chat ? ['chat_open', 'chat_open'] : []), 'search', 'feedback', 'pageview']);
    assert.equal(b.local.get('tt_f'), '/cart\nboots');
    assert.equal(b.requests.at(-1).via, 'beacon');
    assert.equal('intercom' in w.hooks, chat);
  });
}
