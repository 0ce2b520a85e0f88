/* Compare page media (partials/compare_media.html): the same media key side by side across the
 * compared runs at a chosen step, each run showing its nearest logged step; tables diffed by a
 * chosen id column. Each run's sections come from data/media/<key>.js (sitegen/media_page.py,
 * the run page's own data), loaded by script tags so file:// works. compare.js tells this file
 * which runs are shown with a "runpages:compare" event. User text only reaches the page through
 * textContent.
 *
 * Pure functions (tests/js/compare-media.test.js): RunpagesCompareMedia.nearestStep,
 * .unionSteps, .diffTables. Hooks for tests: RunpagesCompareMedia.ready, .show(key, step),
 * .idColumn(key, column).
 */
(function () {
  "use strict";
  var KEY_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]*\/[A-Za-z0-9_-][A-Za-z0-9._-]*$/;
  var PAGE = 50;

  var store = window.RunpagesMedia = window.RunpagesMedia || { runs: {} };
  store.add = function (key, sections) { store.runs[key] = sections; };

  /* ---- pure functions ---- */

  /* The logged step nearest to `target` (the earlier one on a tie); null without steps. */
  function nearestStep(steps, target) {
    var best = null;
    (steps || []).forEach(function (s) {
      if (best === null || Math.abs(s - target) < Math.abs(best - target) ||
          (Math.abs(s - target) === Math.abs(best - target) && s < best)) best = s;
    });
    return best;
  }

  function unionSteps(lists) {
    var seen = {}, out = [];
    lists.forEach(function (l) { (l || []).forEach(function (s) { if (!seen[s]) { seen[s] = true; out.push(s); } }); });
    return out.sort(function (a, b) { return a - b; });
  }

  function cellKey(v) { return v === undefined ? "\u0000missing" : JSON.stringify(v); }

  /* Rows of several tables matched by the value in column `idCol`.
   * tables: one {columns, data} (or null) per run. Returns {columns (the other columns, union,
   * first table's order first), rows: [{id, cells: [[value per run] per column], present: [bool
   * per run], status: "same" | "changed" | "partial"}], changed, partial, duplicates, missing:
   * [run indexes whose table lacks idCol]}. A value absent from a run is undefined. */
  function diffTables(tables, idCol) {
    var columns = [], seenCol = {}, missing = [], duplicates = 0;
    tables.forEach(function (t, ri) {
      if (!t || !t.columns) return;
      if (t.columns.indexOf(idCol) < 0) { missing.push(ri); return; }
      t.columns.forEach(function (c) { if (c !== idCol && !seenCol[c]) { seenCol[c] = true; columns.push(c); } });
    });
    var order = [], byId = {};
    tables.forEach(function (t, ri) {
      if (!t || !t.columns || missing.indexOf(ri) >= 0) return;
      var idi = t.columns.indexOf(idCol), pos = {};
      t.columns.forEach(function (c, i) { pos[c] = i; });
      var mine = {};
      t.data.forEach(function (r) {
        var k = cellKey(r[idi]);
        if (mine[k]) { duplicates++; return; }       // the first row with an id is the one compared
        mine[k] = true;
        var row = byId[k];
        if (!row) {
          row = byId[k] = { id: r[idi], cells: columns.map(function () { return tables.map(function () { return undefined; }); }),
                            present: tables.map(function () { return false; }) };
          order.push(k);
        }
        row.present[ri] = true;
        columns.forEach(function (c, ci) { if (c in pos) row.cells[ci][ri] = r[pos[c]]; });
      });
    });
    var used = tables.map(function (t, ri) { return !!(t && t.columns) && missing.indexOf(ri) < 0; });
    var changed = 0, partial = 0;
    var rows = order.map(function (k) {
      var row = byId[k];
      var some = row.present.filter(function (p, ri) { return used[ri] && !p; }).length;
      if (some) { row.status = "partial"; partial++; return row; }
      var diff = row.cells.some(function (vals) {
        var first = null;
        return vals.some(function (v, ri) {
          if (!used[ri]) return false;
          if (first === null) { first = cellKey(v); return false; }
          return cellKey(v) !== first;
        });
      });
      row.status = diff ? "changed" : "same";
      if (diff) changed++;
      return row;
    });
    return { columns: columns, rows: rows, changed: changed, partial: partial,
             duplicates: duplicates, missing: missing };
  }

  var api = window.RunpagesCompareMedia = {
    ready: false, nearestStep: nearestStep, unionSteps: unionSteps, diffTables: diffTables
  };
  if (typeof document === "undefined") return;     // node --test loads the pure part only

  /* ---- DOM ---- */

  var S = window.RunpagesSite;

  function h(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  function show(v) {
    if (v === undefined) return "\u2013";
    if (v === null) return "";
    if (typeof v === "number") return S.fmtNum(v);
    return String(v);
  }

  function runHead(run, shown, wanted) {
    var head = h("div", { "class": "cmp-run" });
    var sw = h("span", { "class": "rp-swatch", "aria-hidden": "true" });
    sw.style.background = run.color || "#888";
    head.appendChild(sw);
    head.appendChild(document.createTextNode(" " + run.name + " "));
    head.appendChild(h("span", { "class": "muted small cmp-run-step" },
      shown === null ? "not logged" : "step " + shown + (shown !== wanted ? " (nearest)" : "")));
    return head;
  }

  /* One media key: which runs have it, with their section for it. */
  function keysOf(runs) {
    var order = [], byKey = {};
    runs.forEach(function (run, ri) {
      (store.runs[run.key] || []).forEach(function (sec) {
        var e = byKey[sec.key];
        if (!e) { e = byKey[sec.key] = { key: sec.key, kind: sec.kind, secs: runs.map(function () { return null; }) }; order.push(e); }
        if (sec.kind === e.kind) e.secs[ri] = sec;      // one kind per key: the first run's
      });
    });
    return order;
  }

  function fileItems(entry, ri, step) {
    var sec = entry.secs[ri], box = h("div", { "class": entry.kind === "image" ? "media-grid" : "media-players" });
    (sec.items[String(step)] || []).forEach(function (item) {
      var fig = h("figure", { "class": "media-item" }), el;
      if (entry.kind === "image") {
        el = h("a", { href: S.url(item.src), "class": "media-thumb", title: "full size", target: "_blank", rel: "noopener" });
        el.appendChild(h("img", { src: S.url(item.thumb), alt: item.caption || entry.key, loading: "lazy" }));
      } else if (entry.kind === "video" && /\.gif$/i.test(item.src)) {
        el = h("img", { src: S.url(item.src), alt: item.caption || entry.key });
      } else {
        el = h(entry.kind, { src: S.url(item.src), controls: "", preload: "metadata" });
        if (entry.kind === "video") { el.muted = true; el.setAttribute("playsinline", ""); }
      }
      fig.appendChild(el);
      if (item.caption) fig.appendChild(h("figcaption", {}, item.caption));
      box.appendChild(fig);
    });
    return box;
  }

  function histBars(hist, lo, hi) {
    var c = h("canvas", { "class": "media-bars", width: "320", height: "160" });
    var g = c.getContext("2d"), W = c.width, H = c.height - 16, m = Math.max.apply(null, hist.counts) || 1;
    var dark = document.documentElement.getAttribute("data-theme") === "dark";
    g.fillStyle = dark ? "rgb(120,170,255)" : "rgb(31,90,200)";
    hist.counts.forEach(function (n, i) {     // drawn on the range shared by every run, so they line up
      var x0 = (hist.edges[i] - lo) / (hi - lo) * W, x1 = (hist.edges[i + 1] - lo) / (hi - lo) * W;
      var bh = n / m * H;
      g.fillRect(x0, H - bh, Math.max(1, x1 - x0 - 0.5), bh);
    });
    g.fillStyle = dark ? "#ccc" : "#444";
    g.font = "11px sans-serif";
    g.fillText(S.fmtNum(lo), 2, c.height - 3);
    var r = S.fmtNum(hi);
    g.fillText(r, W - g.measureText(r).width - 2, c.height - 3);
    return c;
  }

  function tableAt(sec, step) { return sec ? sec.tables[String(step)] || null : null; }

  function drawTableDiff(entry, runs, shownSteps, body, state) {
    var tables = entry.secs.map(function (sec, ri) {
      var t = tableAt(sec, shownSteps[ri]);
      return t && t.columns ? t : null;
    });
    var cols = [];
    tables.forEach(function (t) { if (t) t.columns.forEach(function (c) { if (cols.indexOf(c) < 0) cols.push(c); }); });
    if (!cols.length) { body.appendChild(h("p", { "class": "note" }, "No table at this step is shown inline.")); return; }
    if (cols.indexOf(state.id) < 0) state.id = cols.indexOf("id") >= 0 ? "id" : cols[0];
    var tools = h("div", { "class": "media-table-tools" });
    var pick = h("select", { "aria-label": entry.key + " id column", "class": "cmp-id" });
    cols.forEach(function (c) { var o = h("option", { value: c }, c); if (c === state.id) o.selected = true; pick.appendChild(o); });
    var only = h("input", { type: "checkbox", "class": "cmp-only-diff" });
    only.checked = state.onlyDiff;
    var onlyLabel = h("label", {}, " only differing rows");
    onlyLabel.insertBefore(only, onlyLabel.firstChild);
    var prev = h("button", { type: "button" }, "\u2039 prev"), next = h("button", { type: "button" }, "next \u203a");
    var info = h("span", { "class": "muted small media-table-info" });
    var idLabel = h("label", {}, "rows matched by ");
    idLabel.appendChild(pick);
    [idLabel, onlyLabel, prev, next, info].forEach(function (e) { tools.appendChild(e); });
    body.appendChild(tools);
    var d = diffTables(tables, state.id);
    var notes = [];
    if (d.missing.length) notes.push(d.missing.map(function (ri) { return runs[ri].name; }).join(", ") + ": no column " + state.id);
    if (d.duplicates) notes.push(d.duplicates + " rows repeat an id; the first is compared");
    if (notes.length) body.appendChild(h("p", { "class": "note" }, notes.join("; ")));
    var rows = state.onlyDiff ? d.rows.filter(function (r) { return r.status !== "same"; }) : d.rows;
    var pages = Math.max(1, Math.ceil(rows.length / PAGE));
    state.page = Math.max(0, Math.min(state.page, pages - 1));
    info.textContent = d.rows.length + " ids: " + d.changed + " differ, " + d.partial + " not in every run" +
      " \u00b7 page " + (state.page + 1) + " of " + pages;
    prev.disabled = state.page === 0;
    next.disabled = state.page >= pages - 1;
    var wrap = h("div", { "class": "table-wrap" }), table = h("table", { "class": "media-data cmp-table-diff" });
    var thead = h("thead"), tr1 = h("tr"), tr2 = h("tr");
    tr1.appendChild(h("th", { rowspan: "2", scope: "col" }, state.id));
    d.columns.forEach(function (c) {
      tr1.appendChild(h("th", { colspan: String(runs.length), scope: "colgroup" }, c));
      runs.forEach(function (run) { tr2.appendChild(h("th", { scope: "col", "class": "small" }, run.name)); });
    });
    thead.appendChild(tr1);
    thead.appendChild(tr2);
    table.appendChild(thead);
    var tb = h("tbody");
    rows.slice(state.page * PAGE, (state.page + 1) * PAGE).forEach(function (r) {
      var row = h("tr", { "class": "cmp-" + r.status });
      row.appendChild(h("th", { scope: "row", "class": typeof r.id === "number" ? "num" : "" }, show(r.id)));
      r.cells.forEach(function (vals) {
        var firstShown = null;
        vals.forEach(function (v, ri) {
          var cls = typeof v === "number" ? "num" : "";
          if (r.present[ri]) {
            if (firstShown === null) firstShown = cellKey(v);
            else if (cellKey(v) !== firstShown) cls += " rp-diff";
          } else cls += " muted";
          row.appendChild(h("td", cls ? { "class": cls.trim() } : {}, r.present[ri] ? show(v) : "\u2013"));
        });
      });
      tb.appendChild(row);
    });
    table.appendChild(tb);
    wrap.appendChild(table);
    body.appendChild(wrap);
    function again() { state.redraw(); }
    pick.addEventListener("change", function () { state.id = pick.value; state.page = 0; again(); });
    only.addEventListener("change", function () { state.onlyDiff = only.checked; state.page = 0; again(); });
    prev.addEventListener("click", function () { state.page--; again(); });
    next.addEventListener("click", function () { state.page++; again(); });
  }

  var views = {};

  function drawKey(entry, runs, root) {
    var sec = h("section", { "class": "media-key cmp-media-key media-" + entry.kind, "data-key": entry.key, tabindex: "0" });
    sec.appendChild(h("h3", {}, entry.key));
    var have = runs.filter(function (r, ri) { return entry.secs[ri]; }).length;
    sec.lastChild.appendChild(h("span", { "class": "muted small" }, " " + entry.kind + ", in " + have + " of " + runs.length + " runs"));
    var steps = unionSteps(entry.secs.map(function (s) { return s && s.steps; }));
    var bar = h("div", { "class": "media-stepper" });
    var input = h("input", { type: "range", min: "0", max: String(Math.max(0, steps.length - 1)),
      value: String(Math.max(0, steps.length - 1)), "aria-label": entry.key + " step" });
    if (steps.length < 2) input.disabled = true;
    var label = h("span", { "class": "media-step" });
    bar.appendChild(input);
    bar.appendChild(label);
    sec.appendChild(bar);
    var body = h("div", { "class": "cmp-media-body" });
    sec.appendChild(body);
    var state = { id: null, onlyDiff: false, page: 0, step: steps[steps.length - 1] };

    function render() {
      var step = state.step;
      label.textContent = "step " + step;
      body.textContent = "";
      var shown = entry.secs.map(function (s) {
        if (!s) return null;
        var own = entry.kind === "histogram" ? s.hists.map(function (x) { return x.step; }) : s.steps;
        return nearestStep(own, step);
      });
      if (entry.kind === "table") {
        var heads = h("div", { "class": "cmp-media-runs small" });
        runs.forEach(function (run, ri) { heads.appendChild(runHead(run, shown[ri], step)); });
        body.appendChild(heads);
        drawTableDiff(entry, runs, shown, body, state);
        return;
      }
      var grid = h("div", { "class": "cmp-media-grid" }), lo = Infinity, hi = -Infinity;
      if (entry.kind === "histogram") {
        entry.secs.forEach(function (s, ri) {
          (s ? s.hists : []).forEach(function (x) {
            if (x.step !== shown[ri]) return;
            lo = Math.min(lo, x.edges[0]); hi = Math.max(hi, x.edges[x.edges.length - 1]);
          });
        });
        if (!(hi > lo)) hi = lo + 1;
      }
      runs.forEach(function (run, ri) {
        var cell = h("div", { "class": "cmp-media-cell", "data-run": run.key });
        cell.appendChild(runHead(run, shown[ri], step));
        var s = entry.secs[ri];
        if (!s || shown[ri] === null) cell.appendChild(h("p", { "class": "muted small" }, "This run did not log " + entry.key + "."));
        else if (entry.kind === "histogram") {
          s.hists.forEach(function (x) { if (x.step === shown[ri]) cell.appendChild(histBars(x, lo, hi)); });
        } else cell.appendChild(fileItems(entry, ri, shown[ri]));
        grid.appendChild(cell);
      });
      body.appendChild(grid);
    }
    state.redraw = render;
    function go(i) {
      i = Math.max(0, Math.min(steps.length - 1, i));
      input.value = String(i);
      state.step = steps[i];
      state.page = 0;
      render();
    }
    input.addEventListener("input", function () { go(+input.value); });
    sec.addEventListener("keydown", function (ev) {
      if (ev.target.tagName === "INPUT" || ev.target.tagName === "SELECT") return;
      if (ev.key === "ArrowLeft" || ev.key === "ArrowRight") {
        go(+input.value + (ev.key === "ArrowRight" ? 1 : -1));
        ev.preventDefault();
      }
    });
    views[entry.key] = {
      show: function (target) { go(steps.indexOf(nearestStep(steps, target))); },
      idColumn: function (c) { state.id = c; state.page = 0; render(); }
    };
    root.appendChild(sec);
    render();
  }

  function render(runs) {
    var wrap = document.getElementById("rp-compare-media-wrap"), root = document.getElementById("rp-compare-media");
    if (!wrap || !root) return;
    root.textContent = "";
    views = {};
    var entries = keysOf(runs);
    wrap.hidden = !entries.length;
    entries.forEach(function (e) {
      try { drawKey(e, runs, root); } catch (err) {
        root.appendChild(h("p", { "class": "note" }, "Cannot show " + e.key + ": " + err.message));
      }
    });
  }

  function load(keys, done) {
    var pending = 0, root = S.root();
    keys.forEach(function (key) {
      if (store.runs[key] || !KEY_RE.test(key) || key.indexOf("..") >= 0) return;
      pending++;
      var s = document.createElement("script");
      s.src = root + "data/media/" + key + ".js";
      s.async = true;
      s.onload = s.onerror = function () { if (--pending === 0) done(); };
      document.head.appendChild(s);
    });
    if (!pending) done();
  }

  var generation = 0;
  document.addEventListener("runpages:compare", function (ev) {
    var runs = (ev.detail && ev.detail.runs) || [], mine = ++generation;
    api.ready = false;
    // A run whose data says it has no media has no media script: nothing to ask for.
    load(runs.filter(function (r) { return r.media !== false; }).map(function (r) { return r.key; }), function () {
      if (mine !== generation) return;            // a newer choice of runs came meanwhile
      render(runs);
      api.ready = true;
    });
  });
  api.show = function (key, step) { views[key].show(step); };
  api.idColumn = function (key, column) { views[key].idColumn(column); };
})();
