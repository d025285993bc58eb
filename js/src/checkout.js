/* touchtrail add-on: checkout steps marked on the page. Load it after t.js (or
   t-chat.js) on the pages that carry the markup; `make js` builds dist/t-checkout.js.

     <div data-touchtrail-checkout-step="2" data-touchtrail-checkout-name="shipping"
          data-touchtrail-value="49.90" data-touchtrail-currency="RON">

   Once per page view: at load, and after each SPA route change (once the
   tracker has recorded the route's page view). It calls the tracker's API
   only, so it also works loaded before the tracker behind the stub. */
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
