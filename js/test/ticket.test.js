'use strict';
// touchtrail('ticket', …): a page's own contact form reports a ticket.
const { test } = require('node:test');
const assert = require('node:assert/strict');
const { browser } = require('./harness.js');

test('ticket is a typed touchpoint; its fields travel among the props, as strings', async () => {
  const b = browser().load();
  b.win.touchtrail('ticket', { ticket: 'WEB-7', status: 'opened', ticket_channel: 'form', subject: 'Missing parcel' });
  await b.tick(1000);
  const [, t] = b.events();
  assert.equal(t.type, 'ticket', 'not a custom event named ticket');
  assert.equal(t.name, undefined);
  assert.deepEqual(t.props, { ticket: 'WEB-7', status: 'opened', ticket_channel: 'form', subject: 'Missing parcel' });
});
