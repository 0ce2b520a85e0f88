/* runpages charts: the controller that puts a set of charts on a page (the compare page, run
 * pages, project pages and the live site all draw through RunpagesCharts.mount).
 *
 * Files, loaded in this order (partials/charts_scripts.html; sitegen/assets.py CHART_SCRIPTS):
 *   chart-rules.js    generated from Python: palette, metric direction, system metric titles
 *   chart-series.js   pure functions (interpolation, EMA, x values, direction, titles, order)
 *   chart-data.js     RunpagesData: where the data scripts land
 *   chart-figure.js   a themed Bokeh figure, ticks
 *   chart-toolbar.js  the control bar (x axis, log axes, smoothing, chart filter)
 *   chart-ranges.js   the range keeper (zoom and pan survive a redraw)
 *   chart-plot.js     the plot factory: one chart, its lines, hover, highlight; plotHooks
 *   chart-runlist.js  the run list beside the charts: the legend, show/hide, search, hover
 *   charts.js         this file: mount() and the controller
 * All of them add to one namespace object, window.RunpagesCharts.
 *
 * API (pages code against this):
 *   ctl = RunpagesCharts.mount(container, runs, opts)
 *       opts: metrics ([keys] or a prefix), system (bool: CPU/memory/GPU charts), title,
 *             x ("step" | "time" | "rel" | "m:<metric>"), runList (default: more than one run),
 *             onVisible(key, visible) (after the reader showed or hid a run), emptyText
 *       ctl.plots[metricKey | "system:" + key] = {figure, view, renderers: {runKey: [GlyphRenderer]}}
 *           (system GPU charts overlay every GPU: key "system:gpu/*\/util_pct")
 *       ctl.ready (Promise, resolves when every plot is drawn; container gets data-ready="1")
 *       ctl.setVisible(runKey, bool), ctl.highlight(runKey | null), ctl.update(runs),
 *       ctl.setOption(name, value), ctl.destroy()
 *       ctl.refresh(runs): new data for the same charts (serve --watch: a run gained steps):
 *           data sources are replaced in place, so the reader's zoom and pan stay; when the set
 *           of charts or runs changed it redraws and puts back every range the reader had moved.
 *   RunpagesCharts.controllers   every mounted controller (live reload finds them here)
 *   RunpagesCharts.figure(attrs, dark?) a themed Bokeh figure; RunpagesCharts.colors(dark)
 *
 * A run's colour is run.color, set by the build (sitegen/colors.py); nothing here re-colours.
 * User text (run names, metric names) only reaches the page through textContent, Bokeh titles
 * (drawn on canvas) and hover tooltips (Bokeh escapes @field values). No innerHTML.
 */
(function () {
  "use strict";
  var C = window.RunpagesCharts = window.RunpagesCharts || {};
  var el = RunpagesSite.el;
  var uid = 0;
  var controllers = [];   // every mounted controller, for live reload (RunpagesCharts.controllers)

  function mount(container, runs, opts) {
    if (typeof container === "string") container = document.querySelector(container);
    opts = opts || {};
    var id = "rpc" + (++uid);
    var refreshQueued = false, hot = null;
    var state = { x: opts.x || "step", logY: false, logX: false, smooth: 0, search: "", hidden: {} };
    var ctl = {
      plots: {}, runs: [], views: [], container: container, state: state, ready: null, opts: opts,
      setVisible: function (key, visible, byReader) {
        visible = !!visible;
        if (visible === !state.hidden[key]) return;
        if (visible) delete state.hidden[key]; else state.hidden[key] = true;
        var multi = false;
        Object.keys(ctl.plots).forEach(function (k) {
          var plot = ctl.plots[k];
          if (plot.mode === "multi") { multi = true; return; }
          (plot.renderers[key] || []).forEach(function (r) { if (r.visible !== visible) r.visible = visible; });
        });
        if (multi && !refreshQueued) {
          /* Many calls in a row (a table filter) cost one data update per chart. */
          refreshQueued = true;
          Promise.resolve().then(function () {
            refreshQueued = false;
            Object.keys(ctl.plots).forEach(function (k) { if (ctl.plots[k].refresh) ctl.plots[k].refresh(); });
          });
        }
        if (runList) runList.sync();
        if (byReader && opts.onVisible) opts.onVisible(key, visible);
      },
      /* One run stands out in every chart (the others fade); null: all back to normal. */
      highlight: function (key) {
        if (key === hot) return;
        hot = key;
        Object.keys(ctl.plots).forEach(function (k) { if (ctl.plots[k].highlight) ctl.plots[k].highlight(key); });
        if (runList) runList.setHot(key);
      },
      onHover: function (key) { ctl.highlight(key); },
      update: function (newRuns) { ctl.runs = (newRuns || []).map(C.expand); render(); return ctl.ready; },
      refresh: function (newRuns) { return refresh((newRuns || []).map(C.expand)); },
      setOption: function (name, value) { state[name] = value; toolbar.sync(); render(); return ctl.ready; },
      destroy: function () {
        clearPlots(); container.textContent = ""; container.classList.remove("rp-charts", "rp-with-runs");
        var i = controllers.indexOf(ctl); if (i >= 0) controllers.splice(i, 1);
      }
    };
    controllers.push(ctl);
    ctl.runs = (runs || []).map(C.expand);
    container.classList.add("rp-charts");
    container.textContent = "";

    if (opts.title) container.appendChild(el("h2", { "class": "rp-charts-title" }, opts.title));
    var toolbar = C.toolbar(state, function (what) { if (what === "search") applySearch(); else render(); });
    container.appendChild(toolbar.el);
    var layout = el("div", { "class": "rp-chart-layout" });
    var body = el("div", { "class": "rp-chart-body" });
    layout.appendChild(body);
    container.appendChild(layout);
    var runList = null;
    var emptyNote = el("p", { "class": "muted rp-empty" });
    container.appendChild(emptyNote);

    function wantRunList() {
      return opts.runList !== undefined ? !!opts.runList : ctl.runs.length > 1;
    }

    function syncRunList() {
      if (wantRunList()) {
        if (!runList) { runList = C.runList(ctl); layout.appendChild(runList.el); }
        runList.update();
      } else if (runList) {
        layout.removeChild(runList.el); runList = null;
      }
      container.classList.toggle("rp-with-runs", !!runList);
    }

    function applySearch() {
      var q = state.search.trim().toLowerCase();
      var cells = body.querySelectorAll(".rp-chart-cell");
      for (var i = 0; i < cells.length; i++) {
        var k = (cells[i].getAttribute("data-key") || "").toLowerCase();
        cells[i].style.display = !q || k.indexOf(q) >= 0 ? "" : "none";
      }
      var sections = body.querySelectorAll(".rp-section");
      for (var j = 0; j < sections.length; j++) {
        var any = sections[j].querySelectorAll(".rp-chart-cell:not([style*='none'])").length;
        sections[j].style.display = any ? "" : "none";
      }
    }

    function clearPlots() {
      ctl.views.forEach(function (v) { try { v.remove(); } catch (e) { /* already gone */ } });
      ctl.views = [];
      ctl.plots = {};
      hot = null;
    }

    /* The chart keys render() draws for ctl.runs, sorted. */
    function plotKeys() {
      var keys = C.metricKeysOf(ctl.runs, opts);
      if (opts.system) C.systemKeysOf(ctl.runs).forEach(function (k) { keys.push("system:" + k); });
      return C.sortKeys(keys);
    }

    function refresh(newRuns) {
      var before = plotKeys().join("\n"), runsBefore = ctl.runs.map(function (r) { return r.key; }).join("\n");
      ctl.runs = newRuns;
      var same = plotKeys().join("\n") === before && Object.keys(ctl.plots).sort().join("\n") === before &&
        ctl.runs.map(function (r) { return r.key; }).join("\n") === runsBefore;
      var keys = same ? Object.keys(ctl.plots) : [];
      for (var i = 0; i < keys.length && same; i++) same = !!(ctl.plots[keys[i]].refill && ctl.plots[keys[i]].refill());
      if (same) return Promise.resolve(ctl);
      var saved = C.ranges.save(ctl.plots);
      render();
      return ctl.ready.then(function () { C.ranges.restore(ctl.plots, saved); return ctl; });
    }

    /* Sections of charts: metrics grouped by their first "/" part, then system sections. */
    function chartGroups() {
      var groups = [], bySection = {};
      C.metricKeysOf(ctl.runs, opts).forEach(function (k) {
        var s = C.sectionOf(k);
        if (!bySection[s]) { bySection[s] = []; groups.push({ title: s || "metrics", keys: bySection[s], system: false }); }
        bySection[s].push(k);
      });
      if (opts.system) {
        var sysSections = {};
        C.systemKeysOf(ctl.runs).forEach(function (k) {
          var s = C.systemSection(k);
          if (!sysSections[s]) { sysSections[s] = []; groups.push({ title: "system · " + s, keys: sysSections[s], system: true }); }
          sysSections[s].push(k);
        });
      }
      return groups;
    }

    function render() {
      clearPlots();
      body.textContent = "";
      toolbar.fillX(C.metricKeysOf(ctl.runs, {}));
      syncRunList();
      var darkMode = window.RunpagesSite ? RunpagesSite.isDark() : false;
      var jobs = [], groups = chartGroups();
      if (!window.Bokeh || !window.Bokeh.Plotting) {
        emptyNote.textContent = "Charts need BokehJS (_static/bokeh/), which did not load.";
        ctl.ready = Promise.resolve(ctl);
        return ctl.ready;
      }
      emptyNote.textContent = groups.length ? "" : (opts.emptyText || "No numeric metrics logged yet.");
      groups.forEach(function (g) {
        var sec = el("section", { "class": "rp-section" + (g.system ? " rp-system" : ""), "data-section": g.title });
        sec.appendChild(el("h3", { "class": "rp-section-title" }, g.title));
        var grid = el("div", { "class": "rp-grid" });
        g.keys.forEach(function (k) {
          var cell = el("div", { "class": "rp-chart-cell", "data-key": k, id: id + "-" + jobs.length });
          grid.appendChild(cell);
          jobs.push([cell, k, g.system]);
        });
        sec.appendChild(grid);
        body.appendChild(sec);
      });
      applySearch();
      var promises = jobs.map(function (j) {
        try { return C.makePlot(ctl, j[0], j[1], j[2], darkMode); } catch (e) { console.error(e); return Promise.resolve(null); }
      });
      ctl.ready = Promise.all(promises).then(function () { container.setAttribute("data-ready", "1"); return ctl; });
      container.removeAttribute("data-ready");
      return ctl.ready;
    }

    if (window.RunpagesSite) RunpagesSite.onThemeChange(function () { render(); });
    render();
    return ctl;
  }

  C.mount = mount;
  C.controllers = controllers;
  C.palette = (C.rules || {}).palette || [];
})();
