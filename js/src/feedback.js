/* touchtrail add-on: an in-page feedback prompt. `make js` builds
   dist/t-feedback.js. Load it where the site asks for feedback, next to the
   tracker (it records through touchtrail(…), queued until the tracker runs):

     <script defer src="https://collector.example/t-feedback.js"
             data-question="How was your checkout?" data-thanks="Thank you!"></script>
     <div data-touchtrail-feedback="checkout"></div>                  shown at load
     <p data-touchtrail-feedback="faq" data-touchtrail-feedback-kind="helpful"
        data-touchtrail-feedback-on="view"></p>                       when scrolled to
     <button data-touchtrail-feedback="chat" data-touchtrail-feedback-on="click">…</button>

   The marker's value names the moment: it is recorded with the rating as
   the prop "touchpoint" (and the kind as "prompt"). Kinds: csat (1 to 5,
   the default) or helpful (yes 1 / no 0 of 1). Moments: load (after
   data-touchtrail-feedback-delay ms, default 800), view, click. At most one
   prompt per visitor per data-period days (default 30, kept in
   localStorage; on a cookieless site, nothing is kept: one per page view);
   none at all under Do-Not-Track or Global Privacy Control
   when the tracker's or this tag has data-respect-dnt. Every string comes
   from this tag (data-question, data-helpful, data-yes, data-no, data-of,
   data-thanks, data-close) or the marker (data-touchtrail-feedback-question);
   the box follows the page's direction (right to left in Arabic). */
(() => {
  var w = window, d = document, n = navigator, ds = (d.currentScript || {}).dataset || {};
  var tt = w.touchtrail = w.touchtrail || function () { (tt.q = tt.q || []).push(arguments); };
  var ls = {}, key = 'tt_fb', shown;
  // Cookieless sites keep nothing in the browser: then once per page only.
  try { d.querySelector('script[data-site][data-mode=cookieless]') || (ls = localStorage); } catch (e) { /* blocked: memory only */ }
  var dnt = ('respectDnt' in ds || d.querySelector('script[data-site][data-respect-dnt]')) && (n.doNotTrack == 1 || n.globalPrivacyControl);
  var due = () => !shown && !dnt && !(Date.now() - ls[key] < (ds.period || 30) * 864e5);
  var el = (tag, css, text, parent) => {
    var e = d.createElement(tag);
    e.style.cssText = css;
    if (text) e.textContent = text;
    parent && parent.append(e);
    return e;
  };
  var show = (m) => {
    if (!due()) return;
    shown = 1;
    ls[key] = Date.now();
    var a = m.dataset, helpful = a.touchtrailFeedbackKind == 'helpful', first;
    var box = el('div', 'position:fixed;bottom:16px;inset-inline-end:16px;z-index:2147483647;max-width:22em;padding:12px 14px;' +
      'background:#fff;color:#222;border:1px solid #888;border-radius:8px;box-shadow:0 2px 12px #0004;font:15px/1.4 system-ui,sans-serif');
    box.setAttribute('role', 'dialog');
    box.setAttribute('aria-labelledby', 'tt-fb-q');
    var q = el('p', 'margin:0 0 8px', a.touchtrailFeedbackQuestion || (helpful ? ds.helpful || 'Was this helpful?' : ds.question || 'How was it?'), box);
    q.id = 'tt-fb-q';
    var close = () => box.remove();
    var row = el('div', 'display:flex;gap:6px', '', box);
    var btn = (label, aria, score) => {
      var b = el('button', 'min-width:2.6em;min-height:2.6em;border:1px solid #555;border-radius:6px;background:#f4f4f4;color:#111;font:inherit;cursor:pointer', label, row);
      b.type = 'button';
      aria && b.setAttribute('aria-label', aria);
      b.onclick = () => {
        tt('feedback', { score: score, scale: helpful ? 1 : 5, touchpoint: a.touchtrailFeedback || 'page', prompt: helpful ? 'helpful' : 'csat' });
        row.remove();
        q.textContent = ds.thanks || 'Thank you!';
        q.setAttribute('role', 'status');
        setTimeout(close, 2e3);
      };
      first = first || b;
    };
    helpful ? (btn(ds.yes || 'Yes', '', 1), btn(ds.no || 'No', '', 0))
      : [1, 2, 3, 4, 5].map((s) => btn(s, s + ' ' + (ds.of || 'of') + ' 5', s));
    var x = el('button', 'position:absolute;top:2px;inset-inline-end:4px;border:0;background:none;color:#444;font:18px/1 inherit;cursor:pointer', '×', box);
    x.type = 'button';
    x.setAttribute('aria-label', ds.close || 'Close');
    x.onclick = close;
    // (A handler that returned false would cancel Tab.)
    box.onkeydown = (e) => { e.key == 'Escape' && close(); };
    d.body.append(box);
    first.focus({ preventScroll: true });
  };
  var start = () => d.querySelectorAll('[data-touchtrail-feedback]').forEach((m) => {
    var on = m.dataset.touchtrailFeedbackOn;
    on == 'click' ? m.addEventListener('click', () => show(m))
      : on == 'view' ? new IntersectionObserver((es, o) => es[0].isIntersecting && (o.disconnect(), show(m))).observe(m)
      : setTimeout(() => show(m), m.dataset.touchtrailFeedbackDelay || 800);
  });
  d.readyState == 'loading' ? d.addEventListener('DOMContentLoaded', start) : start();
})();
