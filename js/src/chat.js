/* touchtrail chat-widget hooks: loaded by t.js only when a known widget is on the page. */
(() => {
  var w = window, chat = (widget) => () => w.touchtrail('chat_open', { widget: widget });
  [
    () => w.Intercom('onShow', chat('intercom')),
    () => w.$crisp.push(['on', 'chat:opened', chat('crisp')]),
    () => w.Tawk_API.onChatMaximized = chat('tawk'),
    () => w.zE('messenger:on', 'open', chat('zendesk')),
    () => w.LiveChatWidget.on('visibility_changed', (s) => s.visibility == 'maximized' && chat('livechat')())
  ].forEach((f) => { try { f(); } catch (e) { /* this widget is not on the page */ } });
})();
