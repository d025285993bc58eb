// Sends one visitor's journey through a real client library, unmodified,
// pointed at touchtrail by URL only. Run by collector/compat/clients_test.go:
//
//   LIB=segment|rudder|posthog HOST=http://127.0.0.1:port KEY=… ANON=… USER=… BASE=<unix ms> node journey.js
//
// The journey: a page view as an anonymous visitor, sign-in (identify /
// alias), a search, three checkout steps ending in an order, a live chat.
// Segment-like calls say when each touchpoint happened (BASE + i s). Exits 1
// on any error the library reports.
'use strict';

const { LIB, HOST, KEY, ANON, USER } = process.env;
const BASE = Number(process.env.BASE);
const at = (i) => new Date(BASE + i * 1000);
const fail = (err) => {
  console.error(`${LIB}: ${err && err.stack ? err.stack : err}`);
  process.exit(1);
};

async function segmentLike(client, flush) {
  // The same calls for @segment/analytics-node and @rudderstack/rudder-sdk-node.
  client.page({
    anonymousId: ANON, name: 'Pricing', timestamp: at(0),
    properties: { url: 'https://shop.example/pricing?utm_source=news&utm_medium=email', title: 'Pricing', referrer: 'https://www.google.com/' },
    context: { userAgent: 'Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/124.0.0.0 Safari/537.36', ip: '81.2.69.160' },
  });
  client.identify({ anonymousId: ANON, userId: USER, timestamp: at(1), traits: { email: 'ana@shop.example' } });
  client.track({ userId: USER, event: 'Products Searched', timestamp: at(2), properties: { query: 'returns policy' } });
  client.track({ userId: USER, event: 'Checkout Started', timestamp: at(3), properties: { order_id: 'o-1', value: 49.5, currency: 'EUR' } });
  client.track({ userId: USER, event: 'Checkout Step Completed', timestamp: at(4), properties: { checkout_id: 'c-1', step: 2, shipping_method: 'DHL' } });
  client.track({ userId: USER, event: 'Order Completed', timestamp: at(5), properties: { order_id: 'o-1', total: 49.5, currency: 'EUR', products: [{ sku: 'A-1' }] } });
  client.track({ userId: USER, event: 'Live Chat Conversation Started', timestamp: at(6), properties: { agent_name: 'Ana' } });
  await flush();
}

async function main() {
  switch (LIB) {
    case 'segment': {
      const { Analytics } = require('@segment/analytics-node');
      const client = new Analytics({ writeKey: KEY, host: HOST, maxRetries: 3 });
      client.on('error', fail);
      await segmentLike(client, () => client.closeAndFlush({ timeout: 20000 }));
      break;
    }
    case 'rudder': {
      const Analytics = require('@rudderstack/rudder-sdk-node');
      const client = new Analytics(KEY, { dataPlaneUrl: HOST, flushInterval: 100000, logLevel: 'error', errorHandler: fail });
      await segmentLike(client, () => client.flush());
      break;
    }
    case 'posthog': {
      const { PostHog } = require('posthog-node');
      const client = new PostHog(KEY, { host: HOST, flushAt: 50, flushInterval: 0, fetchRetryCount: 3, fetchRetryDelay: 50 });
      client.on('error', fail);
      // posthog-node takes no timestamp for identify: every event keeps the
      // time of its call, and one batch keeps the calls' order.
      client.capture({ distinctId: ANON, event: '$pageview', properties: { $current_url: 'https://shop.example/pricing?utm_source=news&utm_medium=email', title: 'Pricing' } });
      client.identify({ distinctId: USER, properties: { $anon_distinct_id: ANON, email: 'ana@shop.example' } });
      client.capture({ distinctId: USER, event: 'Products Searched', properties: { query: 'returns policy' } });
      client.capture({ distinctId: USER, event: 'Checkout Started', properties: { value: 49.5, currency: 'EUR' } });
      client.capture({ distinctId: USER, event: 'Checkout Step Completed', properties: { step: 2 } });
      client.capture({ distinctId: USER, event: 'Order Completed', properties: { total: 49.5, currency: 'EUR' } });
      client.capture({ distinctId: USER, event: 'Live Chat Conversation Started', properties: {} });
      await client.shutdown(20000);
      break;
    }
    default:
      fail(`unknown LIB ${LIB}`);
  }
}

main().catch(fail);
