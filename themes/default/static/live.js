/* runpages live client: only while `runpages serve --watch` runs. The server adds
 *   <script src="/_runpages/live.js" data-epoch="N" data-id="SERVER" data-page="p/x/index.html">
 * to every HTML response in memory; built files never hold it.
 *
 * It long-polls /_runpages/epoch?since=N (the server answers within 25 s, at once when the
 * site moved on) and gets {epoch, changed: [site paths], error, full, id}. Then:
 *   - a run data script this page loaded changed (data/runs/<key>.js): load it again
 *     (?v=epoch) and refresh every chart showing that run in place (RunpagesCharts
 *     controllers' refresh(): the reader's zoom stays; no navigation);
 *   - the run page's own HTML changed: fetch it and swap the parts outside the charts
 *     (status badge, facts, summary, console), so badges move without a reload;
 *   - any other page whose HTML, data or style changed reloads, keeping its scroll position
 *     (and its URL, so filters kept in the query stay); at most one reload every 3 s, and not
 *     while the reader is busy with it (3 s after the last key, click, wheel or focus in a field);
 *   - error: a banner until the next good build; a different server id or `full`: reload.
 * Hidden tabs do not hold a connection (browsers allow ~6 per host); they ask once when shown.
 * Text from the server reaches the page through textContent only.
 */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || window.RunpagesLive || !window.fetch) return;
  var page = me.getAttribute("data-page") || "";
  var serverId = me.getAttribute("data-id") || "";
  var ENDPOINT = "/_runpages/epoch";
  var WAIT = 25;
  var MIN_RELOAD_MS = 3000;
  var lastTouch = 0;
  ["keydown", "pointerdown", "wheel", "input"].forEach(function (type) {
    window.addEventListener(type, function () { lastTouch = Date.now(); }, { capture: true, passive: true });
  });
  var SCROLL_KEY = "runpages-live-scroll:" + page;
  var live = {
    epoch: parseInt(me.getAttribute("data-epoch"), 10) || 0,
    updates: 0,          // in-place chart refreshes
    patches: 0,          // in-place page patches (run page)
    error: null,
    polling: false
  };
  window.RunpagesLive = live;

  var controller = null, failures = 0, reloading = false, timer = null;

  function sitePath(url) {
    try {
      var u = new URL(url, location.href);
      if (u.origin !== location.origin) return null;
      return decodeURIComponent(u.pathname.replace(/^\//, ""));
    } catch (e) { return null; }
  }

  // ---- banner -------------------------------------------------------------------------------
  function showBanner(message) {
    var el = document.getElementById("rp-live-banner");
    if (!message) { if (el) el.parentNode.removeChild(el); return; }
    if (!el) {
      el = document.createElement("div");
      el.id = "rp-live-banner";
      el.setAttribute("role", "alert");
      el.style.cssText = "position:fixed;left:0;right:0;top:0;z-index:10000;padding:8px 14px;" +
        "background:#7f1d1d;color:#fff;font:13px/1.4 system-ui,sans-serif;white-space:pre-wrap;" +
        "max-height:40vh;overflow:auto;box-shadow:0 2px 6px rgba(0,0,0,.3)";
      document.body.appendChild(el);
    }
    el.textContent = "Rebuild failed; showing the last good build until it is fixed.\n" + message;
  }

  // ---- reload -------------------------------------------------------------------------------
  function busy() {
    var a = document.activeElement;
    return Date.now() - lastTouch < MIN_RELOAD_MS ||
      !!(a && /^(INPUT|SELECT|TEXTAREA)$/.test(a.tagName) && a.type !== "checkbox");
  }

  function reload() {
    if (reloading) return;
    reloading = true;
    var last = 0;
    try { last = parseInt(sessionStorage.getItem("runpages-live-loaded") || "0", 10) || 0; } catch (e) { /* off */ }
    var attempt = function () {
      if (busy()) { setTimeout(attempt, 500); return; }
      try { sessionStorage.setItem(SCROLL_KEY, String(window.scrollY || 0)); } catch (e) { /* private mode */ }
      location.reload();
    };
    setTimeout(attempt, Math.max(0, last + MIN_RELOAD_MS - Date.now()));
  }

  function restoreScroll() {
    try {
      sessionStorage.setItem("runpages-live-loaded", String(Date.now()));
      var y = sessionStorage.getItem(SCROLL_KEY);
      if (y !== null) {
        sessionStorage.removeItem(SCROLL_KEY);
        var go = function () { window.scrollTo(0, parseFloat(y) || 0); };
        if (document.readyState === "complete") go(); else window.addEventListener("load", go);
      }
    } catch (e) { /* storage off: start at the top */ }
  }

  // ---- run data: load the script again, refresh charts in place ---------------------------
  function loadRunScript(key) {
    return new Promise(function (resolve) {
      var old = document.querySelectorAll("script[data-rp-live-key]");
      for (var i = 0; i < old.length; i++) {
        if (old[i].getAttribute("data-rp-live-key") === key) old[i].parentNode.removeChild(old[i]);
      }
      var s = document.createElement("script");
      s.src = "/data/runs/" + key + ".js?v=" + live.epoch;
      s.setAttribute("data-rp-live-key", key);
      s.onload = function () { resolve(true); };
      s.onerror = function () { resolve(false); };
      document.head.appendChild(s);
    });
  }

  function refreshCharts(keys) {
    var want = {};
    keys.forEach(function (k) { want[k] = 1; });
    var ctls = (window.RunpagesCharts && RunpagesCharts.controllers) || [];
    var jobs = [];
    ctls.forEach(function (ctl) {
      var hit = ctl.runs.some(function (r) { return want[r.key]; });
      if (!hit || !ctl.refresh) return;
      jobs.push(ctl.refresh(ctl.runs.map(function (r) {
        return want[r.key] && RunpagesData.runs[r.key] ? RunpagesData.runs[r.key] : r;
      })));
    });
    return Promise.all(jobs).then(function () {
      live.updates++;
      document.dispatchEvent(new CustomEvent("runpages:live-data", { detail: { keys: keys } }));
    });
  }

  // ---- run page: swap what is outside the charts -------------------------------------------
  function formatTimes(root) {
    if (window.RunpagesSite) RunpagesSite.formatTimes(root);
  }

  function patchPage() {
    return fetch(location.pathname, { cache: "no-store" }).then(function (r) {
      if (!r.ok) throw new Error("HTTP " + r.status);
      return r.text();
    }).then(function (text) {
      var doc = new DOMParser().parseFromString(text, "text/html");
      var oldMain = document.querySelector("main"), newMain = doc.querySelector("main");
      if (!oldMain || !newMain || oldMain.children.length !== newMain.children.length) return reload();
      var charts = document.getElementById("run-charts");
      for (var i = 0; i < newMain.children.length; i++) {
        var o = oldMain.children[i], n = newMain.children[i];
        if (charts && (o === charts || o.contains(charts))) continue;
        if (o.outerHTML === n.outerHTML) continue;
        var fresh = document.importNode(n, true);
        formatTimes(fresh);
        oldMain.replaceChild(fresh, o);
      }
      if (doc.title) document.title = doc.title;
      live.patches++;
    });
  }

  // ---- what changed, what to do --------------------------------------------------------------
  function handle(answer) {
    if (answer.full || answer.id !== serverId) { reload(); return Promise.resolve(); }
    live.error = answer.error || null;
    showBanner(live.error);
    var from = live.epoch;
    live.epoch = answer.epoch;
    var changed = answer.changed || [];
    if (!changed.length || answer.epoch <= from) return Promise.resolve();
    var set = {};
    changed.forEach(function (p) { set[p] = 1; });

    // Scripts and styles this page loaded (other than run data, handled in place).
    var assets = document.querySelectorAll("script[src], link[rel=stylesheet][href]");
    for (var i = 0; i < assets.length; i++) {
      if (assets[i].hasAttribute("data-rp-live-key") || assets[i] === me) continue;
      var p = sitePath(assets[i].getAttribute("src") || assets[i].getAttribute("href"));
      if (p && set[p] && !/^data\/runs\//.test(p)) { reload(); return Promise.resolve(); }
    }
    var runPage = document.body.classList.contains("page-run") && document.getElementById("run-charts");
    if (set[page] && !runPage) { reload(); return Promise.resolve(); }

    var keys = Object.keys(window.RunpagesData ? RunpagesData.runs : {}).filter(function (k) {
      return set["data/runs/" + k + ".js"];
    });
    if (runPage && !((window.RunpagesCharts && RunpagesCharts.controllers) || []).length) {
      var own = runPage.getAttribute("data-run");
      if (set["data/runs/" + own + ".js"]) { reload(); return Promise.resolve(); }   // first points: draw from scratch
    }
    var work = Promise.resolve();
    if (keys.length) {
      work = Promise.all(keys.map(loadRunScript)).then(function (ok) {
        if (ok.indexOf(false) >= 0) { reload(); return; }
        return refreshCharts(keys);
      });
    }
    if (set[page]) work = work.then(patchPage);
    return work.catch(function (e) { console.warn("runpages live update:", e); reload(); });
  }

  // ---- the long-poll loop --------------------------------------------------------------------
  function poll(wait) {
    clearTimeout(timer);
    if (reloading || document.hidden) { live.polling = false; return; }
    if (controller) controller.abort();
    controller = window.AbortController ? new AbortController() : null;
    var mine = controller;
    live.polling = true;
    fetch(ENDPOINT + "?since=" + live.epoch + "&id=" + encodeURIComponent(serverId) + "&wait=" + wait,
          { cache: "no-store", signal: mine ? mine.signal : undefined })
      .then(function (r) { if (!r.ok) throw new Error("HTTP " + r.status); return r.json(); })
      .then(function (answer) { failures = 0; return handle(answer); })
      .then(function () { if (controller === mine) poll(WAIT); })
      .catch(function (e) {
        if (e && e.name === "AbortError") return;
        failures++;   // server stopped or restarting: back off, at most 10 s between tries
        timer = setTimeout(function () { if (controller === mine) poll(0); }, Math.min(10000, 250 * Math.pow(2, failures)));
      });
  }

  document.addEventListener("visibilitychange", function () {
    if (document.hidden) {
      if (controller) controller.abort();
      controller = null;
      live.polling = false;
    } else {
      poll(0);
    }
  });
  window.addEventListener("pagehide", function () { if (controller) controller.abort(); });

  restoreScroll();
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { poll(0); });
  else poll(0);
})();
