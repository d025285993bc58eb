/* touchtrail add-on: checkout steps marked on the page. `make js` builds
   dist/t-checkout.js. Paste it on the pages that carry the markup, BEFORE the
   tracker's tag (both defer):

     <script defer src="https://collector.example/t-checkout.js"></script>
     <script defer data-site="shop" src="https://collector.example/t.js"></script>
     <div data-touchtrail-checkout-step="2" data-touchtrail-checkout-name="shipping"
          data-touchtrail-value="49.90" data-touchtrail-currency="RON">

   Once per page view: at load, and after each SPA route change (once the
   tracker has recorded the route's page view). It calls the tracker's API
   only: loaded first, its steps wait in the stub's queue and leave in the
   page view's own request. (Loaded after, they leave a second later in a
   request of their own, and the collector's clock-skew correction, which
   differs by a few milliseconds between requests, may put them before the
   page view.) */
(() => {
  var w = window, d = document, h = history, last;
  var tt = w.touchtrail = w.touchtrail || function () { (tt.q = tt.q || []).push(arguments); };
  var scan = (u = location.href) => {
    if (u == last) return;
    last = u;
    d.querySelectorAll('[data-touchtrail-checkout-step]').forEach(({ dataset: a }) => w.touchtrail('checkout_step', {
      step: +a.touchtrailCheckoutStep, name: a.touchtrailCheckoutName,
      value: +a.touchtrailValue || void 0, currency: a.touchtrailCurrency,
    }));
  };
  // The tracker records a route's page view in a timer set when the route
  // changes; this one runs after it.
  var routed = () => setTimeout(() => setTimeout(scan));
  ['pushState', 'replaceState'].map((f) => {
    var orig = h[f];
    h[f] = (...a) => (routed(), orig.apply(h, a));
  });
  w.addEventListener('popstate', routed);
  scan();
})();
