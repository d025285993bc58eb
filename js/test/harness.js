// A small fake browser for the snippet's unit tests: enough DOM, storage,
// history, timers and network to run src/tracker.js in a vm context and see
// every request it makes. The real-browser tests (Go, chromedp) cover the rest.
'use strict';
const fs = require('node:fs');
const path = require('node:path');
const vm = require('node:vm');
const { webcrypto } = require('node:crypto');

const SRC = fs.readFileSync(path.join(__dirname, '..', 'src', 'tracker.js'), 'utf8');

function browser(opts = {}) {
  const listeners = {};
  const on = (target) => (type, fn) => (listeners[target + ':' + type] = listeners[target + ':' + type] || []).push(fn);
  let now = 1764000000000;
  let timers = [];
  let nextTimer = 1;
  const storage = new Map(Object.entries(opts.storage || {}));
  const storageWrites = [];
  const localStorage = new Proxy({}, {
    get: (_, k) => (k === 'length' ? storage.size : storage.get(k)),
    set: (_, k, v) => { storage.set(k, String(v)); storageWrites.push(k); return true; },
  });
  const sent = [];
  let fetchMode = opts.fetchMode || 'ok'; // ok | fail | 500 | 400
  const loc = { href: opts.url || 'https://shop.example/home' };
  const cookies = [];
  const appended = [];
  const document = {
    currentScript: { src: 'https://collector.example/t.js', dataset: Object.assign({ site: 'shop' }, opts.dataset) },
    get cookie() { return cookies.map((c) => c.split(';')[0]).join('; ') || opts.cookie || ''; },
    set cookie(v) { cookies.push(v); },
    title: opts.title || 'Home',
    referrer: opts.referrer || '',
    hidden: false,
    readyState: 'complete',
    head: { appendChild: (el) => (appended.push(el), el) },
    createElement: (tag) => ({ tagName: tag }),
    querySelectorAll: () => opts.checkout || [],
    addEventListener: on('document'),
  };
  const win = {
    document,
    navigator: {
      sendBeacon: (url, body) => { sent.push({ via: 'beacon', url: String(url), body: JSON.parse(body) }); return true; },
      doNotTrack: opts.dnt,
      globalPrivacyControl: opts.gpc,
    },
    location: { get href() { return loc.href; }, get search() { return new URL(loc.href).search; } },
    history: {
      pushState(s, t, u) { loc.href = new URL(u, loc.href).href; },
      replaceState(s, t, u) { loc.href = new URL(u, loc.href).href; },
    },
    localStorage,
    crypto: webcrypto,
    URL,
    JSON,
    Date: { now: () => now },
    setTimeout: (fn, ms) => { timers.push({ id: nextTimer, fn, at: now + (ms || 0) }); return nextTimer++; },
    clearTimeout: (id) => { timers = timers.filter((t) => t.id !== id); },
    fetch: (url, init) => {
      const req = { via: 'fetch', url: String(url), init, body: JSON.parse(init.body) };
      sent.push(req);
      if (fetchMode === 'fail') return Promise.reject(new TypeError('Failed to fetch'));
      return Promise.resolve({ status: { ok: 202, 500: 500, 400: 400, 429: 429 }[fetchMode] });
    },
    addEventListener: on('window'),
  };
  win.window = win;
  Object.assign(win, opts.globals);
  if (opts.stub) {
    win.touchtrail = function () { (win.touchtrail.q = win.touchtrail.q || []).push(arguments); };
    opts.stub.forEach((args) => win.touchtrail(...args));
  }
  const ctx = vm.createContext(win);
  const b = {
    win, sent, storage, storageWrites, cookies, appended,
    load() { vm.runInContext(SRC, ctx); return b; },
    fire(target, type, ev = {}) { (listeners[target + ':' + type] || []).forEach((fn) => fn(ev)); },
    set fetchMode(m) { fetchMode = m; },
    // tick advances the clock, runs due timers and lets promises settle.
    async tick(ms = 0) {
      const end = now + ms;
      for (;;) {
        await new Promise((r) => setImmediate(r));
        timers.sort((a, c) => a.at - c.at);
        const t = timers[0];
        if (!t || t.at > end) break;
        timers.shift();
        now = t.at;
        t.fn();
      }
      now = end;
      await new Promise((r) => setImmediate(r));
    },
    get now() { return now; },
    events() { return sent.flatMap((s) => s.body.events); },
    queue() { return JSON.parse(storage.get('tt_q') || '[]'); },
  };
  return b;
}

module.exports = { browser };
