// CivicLine staff console: live updates by polling (every 3 s), canned replies and the SMS
// segment counter of the reply box.
// Elements with data-refresh are reloaded from that URL: with data-append only the new list
// items (by data-key) are added, so a screen reader's log announces just those; otherwise the
// content is replaced when it changed, keeping keyboard focus, and its hidden [data-summary]
// goes to the polite live region named by data-live.
(function () {
  "use strict";
  var INTERVAL_MS = 3000;
  var last = new WeakMap();

  function appendNew(list, html) {
    var holder = document.createElement("template");
    holder.innerHTML = html;
    var seen = {};
    Array.prototype.forEach.call(list.children, function (item) { seen[item.dataset.key] = item; });
    var added = false;
    Array.prototype.forEach.call(holder.content.children, function (item) {
      var old = seen[item.dataset.key];
      if (old && old.dataset && old.dataset.state !== item.dataset.state) {
        list.replaceChild(item.cloneNode(true), old);  // a reply's delivery state moved on
      } else if (!old) {
        if (seen.empty) { list.innerHTML = ""; seen = {}; }
        list.appendChild(item.cloneNode(true));
        added = true;
      }
    });
    if (added) { list.scrollTop = list.scrollHeight; }
  }

  function replace(element, html) {
    if (last.get(element) === html) { return; }
    last.set(element, html);
    var active = document.activeElement;
    var focusId = active && element.contains(active) ? active.id : null;
    element.innerHTML = html;
    if (focusId && document.getElementById(focusId)) { document.getElementById(focusId).focus(); }
    var live = element.dataset.live ? document.getElementById(element.dataset.live) : null;
    var summary = element.querySelector("[data-summary]");
    if (live && summary && live.textContent.trim() !== summary.textContent.trim()) {
      live.textContent = summary.textContent.trim();
    }
  }

  function refresh(element) {
    fetch(element.dataset.refresh, {
      headers: { "X-Requested-With": "fetch" }, credentials: "same-origin", cache: "no-store"
    }).then(function (response) {
      if (response.status === 401) {
        window.location.assign("/console/login?next=" + encodeURIComponent(window.location.pathname));
        return null;
      }
      return response.ok ? response.text() : null;
    }).then(function (html) {
      if (html === null) { return; }
      if ("append" in element.dataset) { appendNew(element, html); } else { replace(element, html); }
    }).catch(function () { /* offline for a moment: the next poll tries again */ });
  }

  document.querySelectorAll("[data-refresh]").forEach(function (element) {
    if (!("append" in element.dataset)) { last.set(element, element.innerHTML); }
    window.setInterval(function () { refresh(element); }, INTERVAL_MS);
  });

  document.querySelectorAll("[data-insert]").forEach(function (button) {
    button.addEventListener("click", function () {
      var select = document.getElementById(button.dataset.insert);
      var target = document.getElementById(select.dataset.target);
      if (select.value) { target.value = select.value; target.dispatchEvent(new Event("change")); target.focus(); }
    });
  });

  // The SMS segment counter of the reply box: the rules of bot/messaging/sms/encoding.py
  // (GSM 03.38 alphabet and extension table; 160/153 septets, 70/67 UTF-16 units; an escape
  // pair or a surrogate pair never split), so it says what the server will send.
  var GSM7_BASIC = "\n\r !\"#$%&'()*+,-./0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ_abcdefghijklmnopqrstuvwxyz\u00a1\u00a3\u00a4\u00a5\u00a7\u00bf\u00c4\u00c5\u00c6\u00c7\u00c9\u00d1\u00d6\u00d8\u00dc\u00df\u00e0\u00e4\u00e5\u00e6\u00e8\u00e9\u00ec\u00f1\u00f2\u00f6\u00f8\u00f9\u00fc\u0393\u0394\u0398\u039b\u039e\u03a0\u03a3\u03a6\u03a8\u03a9";
  var GSM7_EXTENSION = "\f[\\]^{|}~\u20ac";

  function pack(costs, perSegment) {
    var count = 1, used = 0;
    costs.forEach(function (cost) {
      if (used + cost > perSegment) { count += 1; used = 0; }
      used += cost;
    });
    return count;
  }

  function smsCount(text) {
    var chars = Array.from(text);
    if (!chars.length) { return { size: 0, encoding: "GSM-7", segments: 0 }; }
    var gsm = chars.every(function (ch) { return GSM7_BASIC.indexOf(ch) >= 0 || GSM7_EXTENSION.indexOf(ch) >= 0; });
    var costs = chars.map(function (ch) {
      if (gsm) { return GSM7_EXTENSION.indexOf(ch) >= 0 ? 2 : 1; }
      return ch.codePointAt(0) > 0xFFFF ? 2 : 1;
    });
    var size = costs.reduce(function (a, b) { return a + b; }, 0);
    var single = gsm ? 160 : 70, per = gsm ? 153 : 67;
    return { size: size, encoding: gsm ? "GSM-7" : "UCS-2",
             segments: size <= single ? 1 : pack(costs, per) };
  }
  window.civiclineSmsCount = smsCount;

  function describe(count) {
    if (!count.size) { return "0 characters: nothing to send yet."; }
    return count.size + " characters, " + count.segments + " SMS segment" +
      (count.segments !== 1 ? "s" : "") + " (" + count.encoding + ")." +
      (count.segments > 3 ? " More than 3 segments costs more." : "");
  }

  document.querySelectorAll("[data-sms-counter]").forEach(function (box) {
    var output = document.getElementById(box.dataset.smsCounter);
    var timer = null;
    function update() {
      var count = smsCount(box.value);
      output.textContent = describe(count);
      output.classList.toggle("over", count.segments > 3);
    }
    // Announced politely, once typing pauses, not at every key.
    box.addEventListener("input", function () { window.clearTimeout(timer); timer = window.setTimeout(update, 400); });
    box.addEventListener("change", update);
  });

  var transcript = document.getElementById("transcript");
  if (transcript) { transcript.scrollTop = transcript.scrollHeight; }
})();
