// leaderwatch live page: swaps in the sections the worker pushes (Server-Sent Events, /live/events).
// Everything inserted here was rendered and escaped by the worker (web/page.py); no framework.
(function () {
  "use strict";
  document.documentElement.classList.add("js");
  var $ = function (sel) { return document.querySelector(sel); };
  var status = $("#status");
  var seenAlerts = null;  // alert ids already shown: new ones are highlighted for FRESH_MS
  var freshUntil = {};
  var FRESH_MS = 30000;
  var version = -1;

  function setStatus(text, cls) {
    if (!status) return;
    status.textContent = text;
    status.className = cls || "";
  }

  function currentAlertIds() {
    var ids = {};
    document.querySelectorAll("#alert-list [data-alert-id]").forEach(function (li) { ids[li.dataset.alertId] = true; });
    return ids;
  }

  function applyFilter() {
    var form = $("#alert-filter");
    if (!form) return;
    var kind = form.elements.kind.value, leader = form.elements.alert_leader.value;
    document.querySelectorAll("#alert-list li.alert").forEach(function (li) {
      var ok = (!kind || li.dataset.kind === kind) &&
               (!leader || (" " + li.dataset.leaders + " ").indexOf(" " + leader + " ") >= 0);
      li.hidden = !ok;
    });
  }

  function addLeaderOptions(leaders) {
    var form = $("#alert-filter");
    if (!form || !leaders) return;
    var select = form.elements.alert_leader, have = {};
    Array.prototype.forEach.call(select.options, function (o) { have[o.value] = true; });
    Object.keys(leaders).forEach(function (qid) {
      if (!have[qid]) { var o = document.createElement("option"); o.value = qid; o.textContent = leaders[qid]; select.appendChild(o); }
    });
  }

  function markSelected() {
    var detail = $("#detail");
    var qid = detail && !detail.hidden ? detail.dataset.qid : null;
    document.querySelectorAll("#leaders-body tr[data-qid]").forEach(function (tr) {
      tr.classList.toggle("selected", tr.dataset.qid === qid);
    });
  }

  function render(sections) {
    // keyboard users keep their place: a focused leader link is focused again after the swap
    var focused = document.activeElement;
    var focusedQid = focused && focused.matches && focused.matches("#leaders-body a.leader") ? focused.dataset.qid : null;
    $("#leaders-body").innerHTML = sections.leaders;
    if (focusedQid) {
      var again = document.querySelector('#leaders-body a.leader[data-qid="' + focusedQid + '"]');
      if (again) again.focus();
    }
    var before = seenAlerts || currentAlertIds();
    $("#alerts-body").innerHTML = sections.alerts;
    var now = Date.now();
    document.querySelectorAll("#alert-list [data-alert-id]").forEach(function (li) {
      if (!before[li.dataset.alertId]) freshUntil[li.dataset.alertId] = now + FRESH_MS;
      if (freshUntil[li.dataset.alertId] > now) li.classList.add("fresh");
    });
    seenAlerts = currentAlertIds();
    $("#health-body").innerHTML = sections.health;
    addLeaderOptions(sections.alert_filter_leaders);
    applyFilter();
    markSelected();
    var main = document.querySelector("main");
    if (main) main.dataset.version = sections.version;
    var detail = $("#detail");
    if (detail && !detail.hidden && detail.dataset.qid && sections.version !== version) openDetail(detail.dataset.qid, false, false);
    version = sections.version;
  }

  function openDetail(qid, push, focus) {
    return fetch("/live/leader/" + encodeURIComponent(qid) + "/", { cache: "no-store" })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var detail = $("#detail");
        var hadFocus = detail.contains(document.activeElement);
        var holder = document.createElement("div");
        holder.innerHTML = html;
        var fresh = holder.firstElementChild;
        detail.replaceWith(fresh);
        fresh.hidden = false;
        if (push) history.pushState({ leader: qid }, "", "/?leader=" + encodeURIComponent(qid) + "#detail");
        if (focus || hadFocus) fresh.focus();
        markSelected();
      })
      .catch(function () { setStatus("could not load " + qid, "down"); });
  }

  function closeDetail(push) {
    var detail = $("#detail");
    if (!detail) return;
    var leader = detail.dataset.qid;
    detail.hidden = true;
    detail.removeAttribute("data-qid");
    if (push) history.pushState({}, "", "/");
    markSelected();
    var link = leader && document.querySelector('a.leader[data-qid="' + leader + '"]');
    if (link) link.focus();
  }

  document.addEventListener("click", function (e) {
    var link = e.target.closest && e.target.closest("a.leader");
    if (link && !e.metaKey && !e.ctrlKey && !e.shiftKey) { e.preventDefault(); openDetail(link.dataset.qid, true, true); return; }
    var close = e.target.closest && e.target.closest("#detail a.close");
    if (close) { e.preventDefault(); closeDetail(true); }
  });
  document.addEventListener("keydown", function (e) {
    if (e.key === "Escape" && $("#detail") && !$("#detail").hidden) closeDetail(true);
  });
  window.addEventListener("popstate", function () {
    var qid = new URLSearchParams(location.search).get("leader");
    if (qid) openDetail(qid, false, false); else closeDetail(false);
  });
  var form = $("#alert-filter");
  if (form) {
    form.addEventListener("change", function () {
      applyFilter();
      var params = new URLSearchParams(location.search);
      ["kind", "alert_leader"].forEach(function (name) {
        if (form.elements[name].value) params.set(name, form.elements[name].value); else params.delete(name);
      });
      history.replaceState(history.state, "", "/" + (params.toString() ? "?" + params : "") + location.hash);
    });
    form.addEventListener("submit", function (e) { e.preventDefault(); applyFilter(); });
  }

  if (!window.EventSource) { setStatus("this browser cannot follow live updates; reload to refresh", "down"); return; }
  var source = new EventSource("/live/events");
  source.addEventListener("open", function () { setStatus("live", "live"); });
  source.addEventListener("error", function () { setStatus("reconnecting…", "down"); });
  source.addEventListener("sections", function (e) {
    setStatus("live", "live");
    render(JSON.parse(e.data));
  });
})();
