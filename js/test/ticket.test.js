'use strict';
// touchtrail('ticket', …): a page's own contact form reports a ticket.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { browser } = require('./harness.js');

test('in t-chat.js ticket is a typed touchpoint; its fields travel among the props, as strings', async () => {
  const b = browser({ chat: true }).load();
  b.win.touchtrail('ticket', { ticket: 'WEB-7', status: 'opened', ticket_channel: 'form', subject: 'Missing parcel' });
  await b.tick(1000);
  const [, t] = b.events();
  assert.equal(t.type, 'ticket', 'not a custom event named ticket');
  assert.equal(t.name, undefined);
  assert.deepEqual(t.props, { ticket: 'WEB-7', status: 'opened', ticket_channel: 'form', subject: 'Missing parcel' });
});

test('in t.js (no byte to spare) ticket stays a custom event named ticket', async () => {
  const b = browser().load();
  b.win.touchtrail('ticket', { ticket: 'WEB-7', status: 'opened' });
  await b.tick(1000);
  const [, t] = b.events();
  assert.deepEqual([t.type, t.name, t.props], ['custom', 'ticket', { ticket: 'WEB-7', status: 'opened' }]);
});
