// CivicLine staff console: live updates by polling (every 3 s) and canned replies.
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
      if (select.value) { target.value = select.value; target.focus(); }
    });
  });

  var transcript = document.getElementById("transcript");
  if (transcript) { transcript.scrollTop = transcript.scrollHeight; }
})();
