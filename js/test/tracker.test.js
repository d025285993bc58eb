'use strict';
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { browser } = require('./harness.js');

const hex32 = /^[0-9a-f]{32}$/;
const types = (b) => b.events().map((e) => e.type);

test('a page view on load, with identity in localStorage and a first-party cookie', async () => {
  const b = browser({ url: 'https://shop.example/home?utm_source=news', referrer: 'https://www.google.com/', title: 'Shop' }).load();
  await b.tick();
  assert.equal(b.sent.length, 1);
  const req = b.sent[0];
  assert.equal(req.via, 'fetch');
  assert.equal(req.url, 'https://collector.example/v1/events');
  assert.equal(req.init.method, 'POST');
  assert.equal(req.init.keepalive, true);
  assert.equal(typeof req.init.body, 'string'); // text/plain: no CORS preflight
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
  assert.equal(b.storage.get('tt_v'), pv.visitor);
  assert.match(b.cookies[0], new RegExp('^tt_v=' + pv.visitor + ';path=/;max-age=\\d+'));
  assert.deepEqual(b.queue(), [], 'confirmed events leave the queue');
});

test('an existing visitor id is kept, from storage or from the cookie', async () => {
  const id = 'ab'.repeat(16);
  let b = browser({ storage: { tt_v: id, tt_s: '41' } }).load();
  await b.tick();
  assert.equal(b.events()[0].visitor, id);
  assert.equal(b.events()[0].seq, 42, 'seq continues across page loads');
  b = browser({ cookie: 'other=1; tt_v=' + id }).load();
  await b.tick();
  assert.equal(b.events()[0].visitor, id);
});

test('data-api sets the collector; calls queued by the stub are replayed', async () => {
  const b = browser({ dataset: { api: 'https://t.example.org/' }, stub: [['identify', { user: 'u-1' }], ['search', { query: 'shoes', results: 0 }]] }).load();
  await b.tick();
  assert.equal(b.sent[0].url, 'https://t.example.org/v1/events');
  assert.deepEqual(types(b), ['pageview', 'identify', 'search']);
  assert.equal(b.events()[1].user, 'u-1');
  assert.equal(b.events()[2].results, 0);
});

test('SPA route changes are page views; the same URL twice counts once', async () => {
  const b = browser({ url: 'https://shop.example/' }).load();
  await b.tick();
  b.win.history.pushState({}, '', '/pricing');
  await b.tick();
  b.win.history.pushState({}, '', '/pricing');
  await b.tick();
  b.win.history.replaceState({}, '', '/pricing?plan=pro');
  await b.tick();
  b.win.location.href; // popstate and hashchange come from the browser
  b.win.history.pushState({}, '', '/faq#returns');
  b.fire('window', 'hashchange');
  await b.tick(1000);
  const pvs = b.events().filter((e) => e.type == 'pageview');
  assert.deepEqual(pvs.map((e) => new URL(e.url).pathname + new URL(e.url).search + new URL(e.url).hash),
    ['/', '/pricing', '/pricing?plan=pro', '/faq#returns']);
  assert.equal(pvs[1].referrer, 'https://shop.example/');
  assert.equal(pvs[2].referrer, 'https://shop.example/pricing');
});

test('searches from URL parameters, with configurable names', async () => {
  let b = browser({ url: 'https://shop.example/search?q=red+shoes' }).load();
  await b.tick();
  assert.deepEqual(types(b), ['pageview', 'search']);
  assert.equal(b.events()[1].query, 'red shoes');
  b = browser({ url: 'https://shop.example/help?term=refund&q=x', dataset: { searchParams: 'term' } }).load();
  await b.tick();
  assert.equal(b.events()[1].query, 'refund');
});

function form({ role, type = 'search', name = 'q', value = 'refund', method = 'get' }) {
  const input = { value, name };
  return {
    role, method,
    querySelector: (sel) => (sel === 'input' || (sel === 'input[type=search]' && type === 'search') ? input : null),
  };
}

test('searches from search forms', async () => {
  const b = browser().load();
  await b.tick();
  b.fire('document', 'submit', { target: form({ role: 'search', type: 'text' }), defaultPrevented: true });
  b.fire('document', 'submit', { target: form({ type: 'search', method: 'post', value: 'returns' }) });
  // A GET form that navigates to ?q=… is counted on the next page, not twice.
  b.fire('document', 'submit', { target: form({ type: 'search', name: 'q', value: 'twice?' }) });
  // Not a search form.
  b.fire('document', 'submit', { target: form({ type: 'text', value: 'newsletter' }), defaultPrevented: true });
  await b.tick(1000);
  assert.deepEqual(b.events().filter((e) => e.type == 'search').map((e) => e.query), ['refund', 'returns']);
});

test('chat opens from [data-touchtrail-chat] clicks', async () => {
  const b = browser().load();
  const el = (v) => ({ closest: (sel) => (sel == '[data-touchtrail-chat]' ? { dataset: v === undefined ? {} : { touchtrailChat: v } } : null) });
  b.fire('document', 'click', { target: el('support') });
  b.fire('document', 'click', { target: el('') });
  b.fire('document', 'click', { target: { closest: () => null } });
  await b.tick(1000);
  assert.deepEqual(b.events().filter((e) => e.type == 'chat_open').map((e) => e.widget), ['support', 'custom']);
});

test('chat widget hooks load only where a widget is on the page', async () => {
  let b = browser().load();
  assert.equal(b.appended.length, 0);
  b = browser({ globals: { Intercom: () => {} } }).load();
  assert.equal(b.appended.length, 1);
  assert.equal(String(b.appended[0].src), 'https://collector.example/t-chat.js');
});

test('checkout steps marked on the page', async () => {
  const step = (s, name) => ({ dataset: { touchtrailCheckoutStep: s, touchtrailCheckoutName: name } });
  const b = browser({ url: 'https://shop.example/checkout', checkout: [step('2', 'shipping')] }).load();
  await b.tick();
  const [, cs] = b.events();
  assert.equal(cs.type, 'checkout_step');
  assert.equal(cs.step, '2'); // the collector reads numeric strings
  assert.equal(cs.name, 'shipping');
});

test('custom events carry their name and props; typed ones their fields', async () => {
  const b = browser().load();
  b.win.touchtrail('newsletter_signup', { plan: 'weekly' });
  b.win.touchtrail('feedback', { score: 2, scale: 5, comment: 'slow', page: 'faq' });
  b.win.touchtrail('checkout_step', { step: 3, name: 'payment', value: 49.5, currency: 'EUR' });
  b.win.touchtrail('chat_open', { widget: 'zendesk' });
  await b.tick(1000);
  const [, custom, fb, cs, chat] = b.events();
  assert.deepEqual([custom.type, custom.name, custom.props], ['custom', 'newsletter_signup', { plan: 'weekly' }]);
  assert.deepEqual([fb.score, fb.scale, fb.comment, fb.page], [2, 5, 'slow', 'faq']);
  assert.deepEqual([cs.step, cs.name, cs.value, cs.currency], [3, 'payment', 49.5, 'EUR']);
  assert.equal(chat.widget, 'zendesk');
  const seqs = b.events().map((e) => e.seq);
  assert.deepEqual(seqs, [1, 2, 3, 4, 5]);
  assert.equal(new Set(b.events().map((e) => e.id)).size, 5);
});

test('events are batched for a second, or sent at 20', async () => {
  const b = browser().load();
  await b.tick();
  assert.equal(b.sent.length, 1);
  for (let i = 0; i < 5; i++) b.win.touchtrail('custom' + i);
  await b.tick(500);
  assert.equal(b.sent.length, 1, 'nothing before the window closes');
  await b.tick(500);
  assert.equal(b.sent.length, 2);
  assert.equal(b.sent[1].body.events.length, 5);
  assert.equal(b.sent[1].body.events[0].sent, b.now);
  for (let i = 0; i < 20; i++) b.win.touchtrail('burst' + i);
  await b.tick();
  assert.equal(b.sent.length, 3, 'a full batch goes at once');
});

test('leaving the page sends a beacon; its events stay queued until confirmed', async () => {
  const b = browser().load();
  await b.tick();
  b.win.touchtrail('feedback', { score: 4, scale: 5 });
  b.fire('window', 'pagehide');
  const beacon = b.sent.at(-1);
  assert.equal(beacon.via, 'beacon');
  assert.equal(beacon.url, 'https://collector.example/v1/events');
  assert.deepEqual(beacon.body.events.map((e) => e.type), ['feedback']);
  assert.equal(b.queue().length, 1, 'kept until a later page confirms (the collector dedupes)');
  b.win.document.hidden = true;
  b.fire('document', 'visibilitychange');
  assert.equal(b.sent.at(-1).via, 'beacon');
});

test('failed deliveries wait in localStorage and are retried with backoff and when online', async () => {
  const b = browser({ fetchMode: 'fail' }).load();
  await b.tick();
  b.win.touchtrail('search', { query: 'a' });
  assert.equal(b.sent.length, 1, 'the first attempt, at load');
  await b.tick(1999);
  assert.equal(b.queue().length, 2, 'both wait in localStorage');
  assert.equal(b.sent.length, 1, 'backs off 2 s');
  await b.tick(1);
  assert.equal(b.sent.length, 2, 'retries after the backoff');
  await b.tick(3999);
  assert.equal(b.sent.length, 2, 'then backs off 4 s');
  await b.tick(1);
  assert.equal(b.sent.length, 3);
  b.fetchMode = 'ok';
  b.fire('window', 'online');
  await b.tick();
  assert.deepEqual(b.queue(), []);
  // A reload delivers what a previous page left.
  const left = browser({ storage: { tt_q: JSON.stringify([{ id: 'x', type: 'pageview', ts: 1 }]) } }).load();
  await left.tick();
  assert.ok(left.events().some((e) => e.id == 'x'));
  assert.deepEqual(left.queue(), []);
});

test('5xx and 429 are retried, other 4xx are not; the queue is bounded', async () => {
  const b = browser({ fetchMode: '500' }).load();
  await b.tick();
  assert.equal(b.queue().length, 1);
  b.fetchMode = '400';
  await b.tick(2000);
  assert.deepEqual(b.queue(), [], 'a 400 is final: the event is bad, resending will not help');
  b.fetchMode = 'fail';
  for (let i = 0; i < 250; i++) b.win.touchtrail('e' + i);
  assert.equal(b.queue().length, 200);
  assert.equal(b.queue().at(-1).name, 'e249', 'the oldest go first');
});

test('Do-Not-Track and GPC with data-respect-dnt: not one request, nothing stored', async () => {
  for (const o of [{ dnt: '1' }, { gpc: true }]) {
    const b = browser({ ...o, url: 'https://shop.example/?q=x', dataset: { respectDnt: '' } }).load();
    b.win.touchtrail('search', { query: 'y' });
    b.fire('window', 'pagehide');
    await b.tick(5000);
    assert.equal(b.sent.length, 0);
    assert.equal(b.storageWrites.length + b.cookies.length, 0);
  }
  const ignored = browser({ dnt: '1' }).load(); // the site did not ask to respect it
  await ignored.tick();
  assert.equal(ignored.sent.length, 1);
});

test('cookieless: no cookie, no storage, no visitor id; the collector derives one', async () => {
  const b = browser({ dataset: { mode: 'cookieless' } }).load();
  b.win.touchtrail('search', { query: 'x' });
  b.fire('window', 'pagehide');
  await b.tick(1000);
  assert.equal(b.cookies.length, 0);
  assert.deepEqual(b.storageWrites, []);
  assert.ok(b.sent.length > 0);
  for (const s of b.sent) {
    assert.equal(s.body.cookieless, true);
    s.body.events.forEach((e) => assert.equal(e.visitor, undefined));
  }
});

test('t-chat.js hooks each known widget and survives absent ones', () => {
  const fs = require('node:fs');
  const vm = require('node:vm');
  const src = fs.readFileSync(require('node:path').join(__dirname, '..', 'src', 'chat.js'), 'utf8');
  const calls = [];
  const hooks = {};
  const win = {
    touchtrail: (type, props) => calls.push([type, props.widget]),
    Intercom: (ev, fn) => { hooks.intercom = fn; },
    $crisp: { push: ([, ev, fn]) => { hooks.crisp = fn; } },
    Tawk_API: {},
    zE: (ns, ev, fn) => { hooks.zendesk = fn; },
    // LiveChatWidget is absent: its hook must not stop the others.
  };
  win.window = win;
  vm.runInContext(src, vm.createContext(win));
  hooks.intercom();
  hooks.crisp();
  win.Tawk_API.onChatMaximized();
  hooks.zendesk();
  assert.deepEqual(calls, [['chat_open', 'intercom'], ['chat_open', 'crisp'], ['chat_open', 'tawk'], ['chat_open', 'zendesk']]);
});
