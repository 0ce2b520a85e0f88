/* runpages: the compare page. The runs come from the URL, ?runs=<key>,<key> (or #runs=...),
 * and their data from data/runs/<key>.js through RunpagesData.load (script tags, so file://
 * and any sub-path work). Everything a run holds is written with textContent, never as HTML.
 *
 * Runs are added with the picker (picker.js, over the run index data/runs-index.js); ?pick=1
 * (the run page's "Compare with…") opens it with the search focused.
 *
 * Hooks for tests: window.RunpagesCompare = {ready, keys, failed, charts, add(key), remove(key),
 * setVisible(key, on), direction(metric), picker}.
 */
(function () {
  "use strict";

  // Lower or higher is better, or neither (epoch, lr: no colour): sitegen.model.metric_preference,
  // handed over in chart-rules.js.
  function direction(key) { return window.RunpagesCharts ? window.RunpagesCharts.direction(key) : null; }

  var api = window.RunpagesCompare = {
    ready: false, keys: [], failed: [], charts: null, direction: direction
  };

  function $(id) { return document.getElementById(id); }

  var el = RunpagesSite.el;

  function show(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "number") return RunpagesSite.fmtNum(v);
    if (typeof v === "boolean") return v ? "true" : "false";
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  function full(v) {
    if (v === null || v === undefined) return "";
    if (typeof v === "object") return JSON.stringify(v);
    return String(v);
  }

  function same(a, b) {
    if (typeof a === "number" && typeof b === "number" && isNaN(a) && isNaN(b)) return true;
    return JSON.stringify(a === undefined ? null : a) === JSON.stringify(b === undefined ? null : b) &&
      (a === undefined) === (b === undefined);
  }

  /* ---- URL ---- */

  function readKeys() {
    var raw = null, m = /(?:^#|&)runs=([^&]*)/.exec(location.hash);
    if (m) raw = m[1];
    else if ((m = /[?&]runs=([^&#]*)/.exec(location.search))) raw = m[1];
    if (!raw) return [];
    var text;
    try { text = decodeURIComponent(raw.replace(/\+/g, " ")); } catch (e) { text = raw; }
    var seen = {}, keys = [];
    text.split(",").forEach(function (k) {
      k = k.trim();
      if (k && !seen[k]) { seen[k] = true; keys.push(k); }
    });
    return keys;
  }

  function encodeKeys(keys) {
    return keys.map(function (k) { return encodeURIComponent(k).replace(/%2F/g, "/"); }).join(",");
  }

  function writeKeys(keys) {
    var search = keys.length ? "?runs=" + encodeKeys(keys) : "";
    var hash = location.hash.replace(/(^#|&)runs=[^&]*/, "$1").replace(/^#&?$/, "");
    try {
      history.replaceState(history.state, "", location.pathname + search + hash);
    } catch (e) {
      // Some browsers refuse to change a file:// URL's query; the hash form works everywhere.
      location.replace("#runs=" + encodeKeys(keys));
    }
  }

  /* ---- rendering ---- */

  var ctl = null;
  var hidden = {};

  function currentRuns() {
    return api.keys.filter(function (k) { return window.RunpagesData.runs[k]; })
      .map(function (k) { return window.RunpagesData.runs[k]; });
  }

  function renderFailed() {
    var box = $("rp-compare-failed");
    var failed = api.failed.filter(function (k) { return api.keys.indexOf(k) !== -1; });
    box.textContent = "";
    box.hidden = !failed.length;
    if (!failed.length) return;
    box.appendChild(el("strong", null, "Could not load " + failed.length + " run" + (failed.length === 1 ? "" : "s") + ": "));
    failed.forEach(function (k, i) {
      if (i) box.appendChild(document.createTextNode(", "));
      box.appendChild(el("code", null, k));
    });
    box.appendChild(document.createTextNode(
      ". No such run in this site: the link may hold a typo, or the run was removed or not yet built. "));
    var b = el("button", { type: "button", id: "rp-drop-failed" }, "Remove from the comparison");
    b.addEventListener("click", function () { failed.forEach(function (k) { remove(k, true); }); refresh(); });
    box.appendChild(b);
  }

  function swatch(run) {
    var s = el("span", { "class": "rp-swatch", "aria-hidden": "true" });
    s.style.background = run.color || "#888";
    return s;
  }

  function renderRuns(runs) {
    var tbody = $("rp-compare-runs").tBodies[0];
    tbody.textContent = "";
    runs.forEach(function (run) {
      var tr = el("tr", { "data-key": run.key });
      var td = el("td");
      var box = el("input", { type: "checkbox", "class": "rp-visible", "aria-label": "Show " + run.name + " in the charts" });
      box.checked = !hidden[run.key];
      box.addEventListener("change", function () { setVisible(run.key, box.checked); });
      td.appendChild(box);
      tr.appendChild(td);
      td = el("td");
      td.appendChild(swatch(run));
      td.appendChild(document.createTextNode(" "));
      var a = el("a", { href: RunpagesSite.root() + run.url }, run.name);
      td.appendChild(a);
      tr.appendChild(td);
      tr.appendChild(el("td", null, run.project));
      tr.appendChild(el("td", null, run.user));
      td = el("td");
      td.appendChild(el("span", { "class": "badge status-" + String(run.status).replace(/[^a-z]/g, "") }, run.status));
      tr.appendChild(td);
      var started = window.RunpagesSite ? RunpagesSite.fmtTime(run.started_at) : "";
      tr.appendChild(el("td", null, started));
      td = el("td");
      var rm = el("button", { type: "button", "class": "rp-remove", "aria-label": "Remove " + run.name + " from the comparison", title: "Remove from the comparison" }, "\u00d7");
      rm.addEventListener("click", function () { remove(run.key); });
      td.appendChild(rm);
      tr.appendChild(td);
      tbody.appendChild(tr);
    });
  }

  function unionKeys(runs, field) {
    var seen = {}, keys = [];
    runs.forEach(function (r) {
      Object.keys(r[field] || {}).forEach(function (k) { if (!seen[k]) { seen[k] = true; keys.push(k); } });
    });
    return keys;
  }

  function header(table, runs, first) {
    var thead = el("thead"), tr = el("tr");
    tr.appendChild(el("th", null, first));
    runs.forEach(function (run, i) {
      var th = el("th");
      th.appendChild(swatch(run));
      th.appendChild(document.createTextNode(" " + run.name + (i === 0 && runs.length > 1 && first === "summary" ? " (baseline)" : "")));
      tr.appendChild(th);
    });
    thead.appendChild(tr);
    table.appendChild(thead);
  }

  function renderConfig(runs) {
    var table = $("rp-compare-config");
    table.textContent = "";
    var keys = unionKeys(runs, "config");
    header(table, runs, "config");
    var tbody = el("tbody"), differ = 0;
    keys.forEach(function (k) {
      var values = runs.map(function (r) { return (r.config || {})[k]; });
      var diff = values.some(function (v) { return !same(v, values[0]); });
      if (diff) differ++;
      var tr = el("tr", { "class": diff ? "rp-diff" : "rp-same", "data-key": k });
      tr.appendChild(el("th", { scope: "row" }, k));
      values.forEach(function (v) {
        var td = el("td", { title: full(v) }, v === undefined ? "\u2013" : show(v));
        if (typeof v === "number") td.className = "num";
        if (v === undefined) td.className += " muted";
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    table.appendChild(tbody);
    if (!keys.length) tbody.appendChild(el("tr", null)).appendChild(el("td", { colspan: String(runs.length + 1), "class": "muted" }, "No config logged."));
    $("rp-config-count").textContent = keys.length ? differ + " of " + keys.length + " keys differ" : "";
    applyOnlyDiff();
  }

  function applyOnlyDiff() {
    var only = $("rp-only-diff").checked;
    var rows = $("rp-compare-config").querySelectorAll("tr.rp-same");
    for (var i = 0; i < rows.length; i++) rows[i].hidden = only;
  }

  function fmtDelta(d) {
    var s = RunpagesSite.fmtNum(d);
    return (d > 0 ? "+" : "") + s;
  }

  function fmtPct(p) {
    var a = Math.abs(p);
    var s = a >= 100 ? Math.round(p).toString() : a >= 10 ? p.toFixed(1) : p.toFixed(2);
    return (p > 0 ? "+" : "") + s + "%";
  }

  function renderSummary(runs) {
    var table = $("rp-compare-summary");
    table.textContent = "";
    var keys = unionKeys(runs, "summary");
    header(table, runs, "summary");
    var tbody = el("tbody");
    keys.forEach(function (k) {
      var values = runs.map(function (r) { return (r.summary || {})[k]; });
      var base = values[0];
      var diff = values.some(function (v) { return !same(v, base); });
      var dir = direction(k);
      var tr = el("tr", { "class": diff ? "rp-diff" : "rp-same", "data-key": k });
      tr.appendChild(el("th", { scope: "row" }, k));
      values.forEach(function (v, i) {
        var td = el("td", { title: full(v) }, v === undefined ? "\u2013" : show(v));
        if (typeof v === "number") td.className = "num";
        if (i > 0 && typeof v === "number" && typeof base === "number" && isFinite(v) && isFinite(base)) {
          var d = v - base;
          var text = fmtDelta(d) + (base !== 0 ? " (" + fmtPct(d / Math.abs(base) * 100) + ")" : "");
          var span = el("span", { "class": "rp-delta", "data-delta": String(d) }, d === 0 ? "\u00b10" : text);
          if (d !== 0 && dir) {
            var good = dir === "min" ? d < 0 : d > 0;
            span.className += good ? " rp-good" : " rp-bad";
            span.title = good ? "better than the first run" : "worse than the first run";
          }
          td.appendChild(span);
        }
        tr.appendChild(td);
      });
      tbody.appendChild(tr);
    });
    if (!keys.length) tbody.appendChild(el("tr", null)).appendChild(el("td", { colspan: String(runs.length + 1), "class": "muted" }, "No summary values logged."));
    table.appendChild(tbody);
  }

  function setVisible(key, on) {
    if (on) delete hidden[key]; else hidden[key] = true;
    if (ctl) ctl.setVisible(key, on);
    var box = document.querySelector("#rp-compare-runs tr[data-key=\"" + cssEscape(key) + "\"] input.rp-visible");
    if (box && box.checked !== on) box.checked = on;
  }

  function cssEscape(s) {
    return window.CSS && CSS.escape ? CSS.escape(s) : String(s).replace(/["\\]/g, "\\$&");
  }

  function remove(key, quiet) {
    api.keys = api.keys.filter(function (k) { return k !== key; });
    delete hidden[key];
    writeKeys(api.keys);
    if (!quiet) refresh();
  }

  function add(key) {
    if (api.keys.indexOf(key) !== -1) return;
    api.keys.push(key);
    writeKeys(api.keys);
    if (!window.RunpagesData) { refresh(); return; }
    api.ready = false;
    window.RunpagesData.load([key], RunpagesSite.root(), function (failed) {
      failed.forEach(function (k) { if (api.failed.indexOf(k) === -1) api.failed.push(k); });
      refresh();
    });
  }

  function refresh() {
    draw();
    if (api.picker) api.picker.sync();      // ticks and colours as the view now has them
  }

  function draw() {
    var runs = currentRuns();
    var empty = !api.keys.length;
    $("rp-compare-empty").hidden = !empty;
    $("rp-compare-main").hidden = empty;
    if (empty) {
      if (ctl) { ctl.destroy(); ctl = null; api.charts = null; }
      api.ready = true;
      return;
    }
    $("rp-compare-status").textContent = runs.length + " run" + (runs.length === 1 ? "" : "s") +
      " compared" + (runs.length === 1 ? "; add more with \u201cAdd runs\u2026\u201d" : "");
    renderFailed();
    $("rp-compare-body").hidden = !runs.length;
    $("rp-compare-runs-wrap").hidden = !runs.length;
    if (!runs.length) { api.ready = true; return; }
    renderRuns(runs);
    renderConfig(runs);
    renderSummary(runs);
    document.dispatchEvent(new CustomEvent("runpages:compare", { detail: { runs: runs } }));   // compare-media.js
    var chartsEl = $("rp-compare-charts");
    var promise;
    if (!window.RunpagesCharts) {
      chartsEl.textContent = "Charts did not load (_static/charts.js is missing).";
      promise = Promise.resolve();
    } else if (!ctl) {
      ctl = window.RunpagesCharts.mount(chartsEl, runs, {
        onVisible: function (key, on) { setVisible(key, on); },
        emptyText: "None of these runs logged numeric metrics."
      });
      promise = ctl.ready;
    } else {
      promise = ctl.update(runs);
    }
    api.charts = ctl;
    api.ready = false;
    Object.keys(hidden).forEach(function (k) { if (ctl) ctl.setVisible(k, false); });
    Promise.resolve(promise).then(function () { api.ready = true; }, function (e) { console.error(e); api.ready = true; });
  }

  function init() {
    api.keys = readKeys();
    api.remove = function (key) { remove(key); };
    api.add = add;
    api.setVisible = setVisible;
    $("rp-only-diff").addEventListener("change", applyOnlyDiff);
    if (window.RunpagesPicker) {
      api.picker = window.RunpagesPicker.mount($("rp-picker"), {
        index: window.RunpagesRunIndex, toggle: $("rp-pick-toggle"),
        picked: function () { return api.keys; }, add: add, remove: function (key) { remove(key); },
        colorOf: function (key) {
          var run = api.keys.indexOf(key) !== -1 && window.RunpagesData && window.RunpagesData.runs[key];
          return run ? run.color : null;
        }
      });
      if (/[?&]pick=1/.test(location.search) || /(^#|&)pick=1/.test(location.hash)) api.picker.open(true);
    }
    if (!api.keys.length) { refresh(); return; }
    $("rp-compare-empty").hidden = true;
    $("rp-compare-main").hidden = false;
    $("rp-compare-status").textContent = "Loading " + api.keys.length + " run" + (api.keys.length === 1 ? "" : "s") + "\u2026";
    if (!window.RunpagesData) {
      $("rp-compare-status").textContent = "The chart data loader (_static/charts.js) did not load.";
      api.ready = true;
      return;
    }
    window.RunpagesData.load(api.keys, RunpagesSite.root(), function (failed) {
      api.failed = failed.slice();
      refresh();
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
