// A small fake browser for the snippet's unit tests: just enough DOM,
// storage, history, timers and network to run the snippet in a vm context
// and see every request it makes and everything it stores. The real-browser
// tests (js/browser_test.go, chromedp) cover what a fake cannot.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { webcrypto } = require('node:crypto');

const JS = path.join(__dirname, '..');
const SOURCE = fs.readFileSync(path.join(JS, 'src', 'tracker.js'), 'utf8');

// storage is a Storage-like object (property access, as the snippet uses it)
// that records every write.
function storage(initial, writes) {
  const m = new Map(Object.entries(initial || {}));
  const s = new Proxy({}, {
    // setItem is there as in a real Storage (the snippet tells real storage
    // from its in-memory stand-in by it).
    get: (_, k) => (k === 'length' ? m.size : k === 'setItem' ? (a, v) => { m.set(a, String(v)); writes.push(a); } : m.get(k)),
    set: (_, k, v) => { m.set(k, String(v)); writes.push(k); return true; },
    has: (_, k) => m.has(k),
  });
  return { s, m };
}

// element makes a fake element: attrs are data-* attributes by their
// dataset name; parent makes closest() walk up.
function element({ dataset = {}, parent = null } = {}) {
  const el = {
    dataset,
    parent,
    closest(sel) {
      const m = /^\[data-([a-z-]+)\]$/.exec(sel);
      if (!m) throw new Error('fake closest: unsupported selector ' + sel);
      const key = m[1].replace(/-([a-z])/g, (_, c) => c.toUpperCase());
      for (let e = el; e; e = e.parent) if (key in e.dataset) return e;
      return null;
    },
  };
  return el;
}

// form makes a fake form. inputs are {type, name, value} in document order
// (type undefined: no type attribute). querySelector understands the
// selector lists the snippet uses: [type=x], [role=search] input,
// input:not([type=hidden]).
function form({ role, inputs = [] } = {}) {
  const matches = (input, sel) => {
    sel = sel.trim();
    const within = /^\[role=search\] (.*)$/.exec(sel);
    if (within) return role === 'search' && matches(input, within[1]);
    if (sel === 'input') return true;
    if (sel === 'input:not([type=hidden])') return input.type !== 'hidden';
    const t = /^(?:input)?\[type=(\w+)\]$/.exec(sel);
    if (t) return input.type === t[1];
    throw new Error('fake querySelector: unsupported selector ' + sel);
  };
  return {
    role,
    querySelector: (list) => inputs.find((i) => list.split(',').some((sel) => matches(i, sel))) || null,
  };
}

function browser(opts = {}) {
  const listeners = [];
  let now = 1764000000000;
  let timers = [];
  let nextTimer = 1;
  const writes = { local: [], session: [] };
  const local = storage(opts.storage, writes.local);
  const session = storage({}, writes.session);
  const requests = [];
  let fetchMode = opts.fetchMode || 202; // a status, or 'reject'
  let beaconMode = opts.beaconMode || 'ok'; // ok | false | missing
  const loc = { href: opts.url || 'https://shop.example/home' };
  const cookies = [];
  const document = {
    currentScript: opts.noScript ? null : {
      src: opts.src || 'https://collector.example/t.js',
      dataset: Object.assign({ site: 'shop' }, opts.dataset),
    },
    get cookie() { return cookies.map((c) => c.split(';')[0]).concat(opts.cookie || []).join('; '); },
    set cookie(v) { cookies.push(v); },
    title: opts.title || 'Home',
    referrer: opts.referrer || '',
    hidden: false,
    documentElement: { scrollHeight: opts.scrollHeight || 1000 },
    readyState: opts.readyState || 'complete',
    querySelectorAll: (sel) => {
      if (sel !== '[data-touchtrail-checkout-step]') throw new Error('fake querySelectorAll: ' + sel);
      return b.checkout;
    },
    addEventListener: (type, fn, capture) => listeners.push({ target: 'document', type, fn, capture }),
  };
  const navigator = {
    doNotTrack: opts.dnt,
    globalPrivacyControl: opts.gpc,
  };
  const win = {
    document,
    navigator,
    location: {
      get href() { return loc.href; },
      set href(u) { loc.href = new URL(u, loc.href).href; }, // the URL only: no page load
      get pathname() { return new URL(loc.href).pathname; },
    },
    history: {
      pushState(state, title, url) { loc.href = new URL(url, loc.href).href; },
      replaceState(state, title, url) { loc.href = new URL(url, loc.href).href; },
    },
    localStorage: local.s,
    sessionStorage: session.s,
    crypto: webcrypto,
    URL,
    URLSearchParams,
    Date: { now: () => now },
    performance: { now: () => now - 1764000000000 },
    scrollY: 0,
    innerHeight: opts.innerHeight || 1000,
    setTimeout: (fn, ms) => { timers.push({ id: nextTimer, fn, at: now + (ms || 0) }); return nextTimer++; },
    clearTimeout: (id) => { timers = timers.filter((t) => t.id !== id); },
    fetch: (url, init) => {
      requests.push({ via: 'fetch', url: String(url), init, body: JSON.parse(init.body), at: now });
      if (fetchMode === 'reject') return Promise.reject(new TypeError('Failed to fetch'));
      return Promise.resolve({ status: fetchMode, ok: fetchMode >= 200 && fetchMode < 300 });
    },
    addEventListener: (type, fn, capture) => listeners.push({ target: 'window', type, fn, capture }),
    CHAT: !!opts.chat,
  };
  Object.defineProperty(navigator, 'sendBeacon', {
    get: () => beaconMode === 'missing' ? undefined : (url, body) => {
      if (typeof body !== 'string') throw new Error('beacon body must be a string (text/plain)');
      requests.push({ via: 'beacon', url: String(url), body: JSON.parse(body), at: now });
      return beaconMode === 'ok';
    },
  });
  win.window = win;
  Object.assign(win, opts.globals);
  const ctx = vm.createContext(win);
  if (opts.stub) {
    // The line site owners paste before the script tag.
    vm.runInContext('window.touchtrail=window.touchtrail||function(){(touchtrail.q=touchtrail.q||[]).push(arguments)}', ctx);
    opts.stub.forEach((args) => win.touchtrail(...args));
  }
  const b = {
    win, requests, cookies, writes, checkout: opts.checkout || [],
    local: local.m, session: session.m, listeners,
    load(file) {
      vm.runInContext(file ? fs.readFileSync(path.join(JS, file), 'utf8') : SOURCE, ctx);
      return b;
    },
    // fire dispatches an event at window, or at document from where it
    // bubbles up to window, as the events the snippet listens to do.
    // Capture listeners on window run first, as in a real browser.
    fire(target, type, ev = {}) {
      const capture = (l) => l.capture === true || !!(l.capture && l.capture.capture);
      const of = (t, c) => listeners.filter((l) => l.target === t && l.type === type && capture(l) == c);
      const order = target === 'document'
        ? [...of('window', true), ...of('document', true), ...of('document', false), ...of('window', false)]
        : [...of('window', true), ...of('window', false)];
      order.forEach((l) => l.fn(ev));
    },
    set fetchMode(m) { fetchMode = m; },
    set beaconMode(m) { beaconMode = m; },
    // tick advances the clock by ms, running due timers in order and letting
    // promises settle.
    async tick(ms = 0) {
      const end = now + ms;
      for (;;) {
        for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
        timers.sort((a, c) => a.at - c.at);
        const t = timers[0];
        if (!t || t.at > end) break;
        timers.shift();
        now = t.at;
        t.fn();
      }
      now = end;
      for (let i = 0; i < 5; i++) await new Promise((r) => setImmediate(r));
    },
    get now() { return now; },
    events() { return requests.flatMap((r) => r.body.events); },
    types() { return b.events().map((e) => e.type); },
    queue() { return JSON.parse(local.m.get('tt_q') || '[]'); },
  };
  return b;
}

module.exports = { browser, element, form };
