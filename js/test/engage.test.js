'use strict';
// t-engage.js (src/engage.js) on the fake browser, beside the tracker: the
// 30-second activity rule, hidden time, SPA routes, one report per change.
const test = require('node:test');
const assert = require('node:assert/strict');
const { browser } = require('./harness.js');

const load = (opts) => browser(opts).load().load('src/engage.js');
// Each event once (the outbox sends an event again until a fetch confirms
// it), with the engagement figures out of props.
const unique = (b) => [...new Map(b.events().map((e) => [e.id, Object.assign({}, e, e.props)])).values()];
const engagements = (b) => unique(b).filter((e) => e.type == 'engagement');

test('engaged time stops 30 s after the last activity, and goes on with the next', async () => {
  const b = load({ scrollHeight: 4000 });
  await b.tick(60e3); // idle for a minute: 30 s count
  b.fire('window', 'pointermove');
  await b.tick(10e3); // active again: 10 s more
  b.fire('window', 'pagehide');
  await b.tick();
  const [e, ...more] = engagements(b);
  assert.equal(more.length, 0, 'one report');
  assert.equal(e.engaged_ms, '40000');
  assert.equal(e.scroll, '25', 'the first screen of 1000 px of 4000');
  assert.equal(e.url, 'https://shop.example/home');
});

test('hidden time counts nothing; hiding reports, leaving after it adds nothing new', async () => {
  const b = load();
  await b.tick(5e3);
  b.win.document.hidden = true;
  b.fire('document', 'visibilitychange');
  await b.tick(20e3);
  b.win.document.hidden = false;
  b.fire('document', 'visibilitychange');
  await b.tick(2e3);
  b.win.document.hidden = true;
  b.fire('document', 'visibilitychange');
  b.fire('window', 'pagehide');
  await b.tick();
  assert.deepEqual(engagements(b).map((e) => e.engaged_ms), ['5000', '7000'], 'the totals so far, once each');
});

test('an SPA route change reports the page it leaves, before the new page view', async () => {
  const b = load();
  b.win.scrollY = 500;
  b.fire('window', 'scroll');
  await b.tick(3e3);
  b.win.history.pushState({}, '', '/pricing');
  await b.tick(2e3);
  b.fire('window', 'pagehide');
  await b.tick();
  const seq = unique(b).map((e) => e.type + ' ' + e.url + (e.engaged_ms ? ' ' + e.engaged_ms + ' ' + e.scroll : ''));
  assert.deepEqual(seq, [
    'pageview https://shop.example/home',
    'engagement https://shop.example/home 3000 100',
    'pageview https://shop.example/pricing',
    'engagement https://shop.example/pricing 2000 100',
  ]);
});
