/* runpages charts: per-run data scripts in, BokehJS plots out (the compare page, run pages and
 * project pages all draw through RunpagesCharts.mount).
 *
 * Data arrives as <script src> files (fetch() is blocked on file://):
 *   data/runs/<project>/<run-id>.js      RunpagesData.add({...})
 *   data/projects/<project>.js           RunpagesData.addProject({...})
 * On disk a metric series is {step, y} with wall times in the run-wide step map (relative to
 * t0); add()/addProject() expand every series to {step, time, y} (time = absolute Unix seconds)
 * and every system series to {time, y}, the shape documented in sitegen/charts.py.
 *
 * API (pages code against this):
 *   RunpagesData.add(payload) / addProject(p)      called by the data scripts
 *   RunpagesData.runs[key], RunpagesData.projects[projectSlug]
 *   RunpagesData.load(keys, rootPrefix, callback(failedKeys, loadedRuns))   injects <script> per
 *       missing key; keys outside the slug alphabet (or with "..") fail without a request.
 *   ctl = RunpagesCharts.mount(container, runs, opts)
 *       opts: metrics ([keys] or a prefix), system (bool: CPU/memory/GPU charts), title,
 *             x ("step" | "time" | "rel" | "m:<metric>"), maxLegend (default 12),
 *             onVisible(key, visible) (after a legend click), emptyText
 *       ctl.plots[metricKey | "system:" + key] = {figure, view, renderers: {runKey: [GlyphRenderer]}}
 *       ctl.ready (Promise, resolves when every plot is drawn; container gets data-ready="1")
 *       ctl.setVisible(runKey, bool), ctl.update(runs), ctl.setOption(name, value), ctl.destroy()
 *       ctl.refresh(runs): new data for the same charts (serve --watch: a run gained steps):
 *           data sources are replaced in place, so the reader's zoom and pan stay; when the set
 *           of charts or runs changed it redraws and puts back every range the reader had moved.
 *   RunpagesCharts.controllers   every mounted controller (live reload finds them here)
 *   RunpagesCharts.figure(attrs, dark?) a themed Bokeh figure; RunpagesCharts.colors(dark)
 *
 * User text (run names, metric names) only reaches the page through textContent, Bokeh titles
 * and legends (drawn on canvas) and hover tooltips (Bokeh escapes @field values). No innerHTML.
 */
(function () {
  "use strict";

  // ------------------------------------------------------------------------------------------
  // Data

  function sortedUnion(lists) {
    /* Every value of the given arrays once, ascending: the shared x grid of several series. */
    var all = [];
    lists.forEach(function (l) { for (var i = 0; i < l.length; i++) all.push(l[i]); });
    all.sort(function (a, b) { return a - b; });
    var out = [];
    for (var i = 0; i < all.length; i++) if (!out.length || all[i] !== out[out.length - 1]) out.push(all[i]);
    return out;
  }

  function interp(xs, xp, fp) {
    /* Linear interpolation of fp(xp) at xs; xp ascending. Values outside clamp to the ends. */
    var out = new Array(xs.length), n = xp.length, j = 0;
    if (!n) { for (var k = 0; k < xs.length; k++) out[k] = NaN; return out; }
    for (var i = 0; i < xs.length; i++) {
      var x = xs[i];
      if (x <= xp[0]) { out[i] = fp[0]; continue; }
      if (x >= xp[n - 1]) { out[i] = fp[n - 1]; continue; }
      while (j < n - 2 && xp[j + 1] < x) j++;
      if (xp[j] > x) j = 0;
      while (j < n - 2 && xp[j + 1] < x) j++;
      var x0 = xp[j], x1 = xp[j + 1];
      out[i] = x1 === x0 ? fp[j] : fp[j] + (fp[j + 1] - fp[j]) * (x - x0) / (x1 - x0);
    }
    return out;
  }

  /* The same list as PALETTE in sitegen/charts.py. */
  var PALETTE = ["#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9",
                 "#332288", "#117733", "#882255", "#44aa99", "#999933", "#aa4499"];

  /* In a view of up to 12 runs each run gets the next palette colour, in order, so lines stay
     tellable apart (stable per-run hash colours collide, and some palette pairs are close).
     Larger views keep each run's stable colour. Mutates the payloads, so tables drawn after
     this show the same colours as the lines. */
  function distinctColors(runs) {
    if (!runs || runs.length > PALETTE.length) return runs;
    runs.forEach(function (r, i) { if (r) r.color = PALETTE[i]; });
    return runs;
  }

  function expand(p) {
    if (!p || p._expanded) return p;
    var t0 = typeof p.t0 === "number" ? p.t0 : 0;
    var sm = p.steps || { step: [], t: [] };
    var abs = sm.t.map(function (t) { return t + t0; });
    var metrics = p.metrics || {};
    Object.keys(metrics).forEach(function (k) {
      var s = metrics[k];
      if (!s.time) s.time = interp(s.step, sm.step, abs);
    });
    var system = p.system || {};
    Object.keys(system).forEach(function (k) {
      var s = system[k];
      if (!s.time) s.time = s.t.map(function (t) { return t + t0; });
    });
    p.metrics = metrics;
    p.system = system;
    p._expanded = true;
    return p;
  }

  var KEY_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]*\/[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

  var Data = {
    runs: {},
    projects: {},
    _waiting: {},
    add: function (payload) {
      expand(payload);
      Data.runs[payload.key] = payload;
    },
    addProject: function (p) {
      (p.runs || []).forEach(expand);
      Data.projects[p.slug || p.name] = p;
    },
    /* Load data/runs/<key>.js for each key not loaded yet; callback(failedKeys, runs) once all
     * arrived or failed. Keys are checked against the slug alphabet, so a URL cannot point the
     * loader outside data/runs/. */
    load: function (keys, rootPrefix, callback) {
      var root = rootPrefix === undefined || rootPrefix === null ? (window.RunpagesSite ? RunpagesSite.root() : "") : rootPrefix;
      var failed = [], pending = 0, done = false;
      function finish() {
        if (done || pending > 0) return;
        done = true;
        var runs = keys.filter(function (k) { return Data.runs[k]; }).map(function (k) { return Data.runs[k]; });
        if (callback) callback(failed, runs);
      }
      (keys || []).forEach(function (key) {
        if (Data.runs[key]) return;
        if (typeof key !== "string" || !KEY_RE.test(key) || key.indexOf("..") >= 0) { failed.push(key); return; }
        pending++;
        var waiters = Data._waiting[key];
        var settle = function (ok) { pending--; if (!ok || !Data.runs[key]) failed.push(key); finish(); };
        if (waiters) { waiters.push(settle); return; }
        Data._waiting[key] = [settle];
        var s = document.createElement("script");
        s.src = root + "data/runs/" + key + ".js";
        s.async = true;
        var fire = function (ok) { var w = Data._waiting[key] || []; delete Data._waiting[key]; w.forEach(function (f) { f(ok); }); };
        s.onload = function () { fire(true); };
        s.onerror = function () { fire(false); };
        document.head.appendChild(s);
      });
      finish();
    }
  };
  window.RunpagesData = Data;

  // ------------------------------------------------------------------------------------------
  // Charts

  var SYSTEM_TITLES = {
    "cpu/proc_pct": "CPU, this process (% of one core)", "cpu/host_pct": "CPU, host (%)",
    "cpu/max_core_pct": "CPU, busiest core (%)", "mem/proc_rss_gb": "Memory, process RSS (GB)",
    "mem/host_pct": "Memory, host (%)", "disk/read_mbps": "Disk read (MB/s)", "disk/write_mbps": "Disk write (MB/s)",
    "net/recv_mbps": "Network received (MB/s)", "net/sent_mbps": "Network sent (MB/s)"
  };
  var GPU_TITLES = { util_pct: "utilisation (%)", mem_used_gb: "memory used (GB)", mem_total_gb: "memory total (GB)",
    mem_pct: "memory (%)", power_w: "power (W)", energy_j: "energy (J)", temp_c: "temperature (°C)" };

  function systemTitle(key) {
    if (SYSTEM_TITLES[key]) return SYSTEM_TITLES[key];
    var m = /^gpu\/(\d+)\/(.+)$/.exec(key);
    if (m) return "GPU " + m[1] + " " + (GPU_TITLES[m[2]] || m[2]);
    return key;
  }

  function sectionOf(key) {
    var i = key.indexOf("/");
    return i > 0 ? key.slice(0, i) : "";
  }

  function systemSection(key) {
    var m = /^gpu\/(\d+)\//.exec(key);
    if (m) return "GPU " + m[1];
    if (/^cpu\//.test(key)) return "CPU";
    if (/^mem\//.test(key)) return "Memory";
    if (/^(disk|net)\//.test(key)) return "Disk and network";
    return "Other";
  }

  function colors(darkMode) {
    return darkMode ? {
      bg: "#16181d", border: "#16181d", grid: "#2b2f38", axis: "#9aa3b2", text: "#d8dde6", title: "#e8ecf2", outline: "#2b2f38"
    } : {
      bg: "#ffffff", border: "#ffffff", grid: "#eceef2", axis: "#6b7280", text: "#374151", title: "#111827", outline: "#e5e7eb"
    };
  }

  function ema(ys, alpha) {
    /* Debiased exponential moving average; NaN/inf points pass through and do not poison it. */
    if (!alpha) return ys;
    var out = new Array(ys.length), acc = 0, w = 0;
    for (var i = 0; i < ys.length; i++) {
      var y = ys[i];
      if (!isFinite(y)) { out[i] = y; continue; }
      acc = alpha * acc + (1 - alpha) * y;
      w = alpha * w + (1 - alpha);
      out[i] = acc / w;
    }
    return out;
  }

  var el = RunpagesSite.el;

  function metricKeysOf(runs, opts) {
    var seen = {}, keys = [];
    runs.forEach(function (r) {
      Object.keys(r.metrics || {}).forEach(function (k) { if (!seen[k]) { seen[k] = 1; keys.push(k); } });
    });
    var filter = opts.metrics;
    if (Array.isArray(filter)) keys = filter.filter(function (k) { return seen[k]; });
    else if (typeof filter === "string" && filter) keys = keys.filter(function (k) { return k.indexOf(filter) === 0; });
    return keys;
  }

  function systemKeysOf(runs) {
    var seen = {}, keys = [];
    runs.forEach(function (r) {
      Object.keys(r.system || {}).forEach(function (k) { if (!seen[k]) { seen[k] = 1; keys.push(k); } });
    });
    var GPU_ORDER = ["util_pct", "mem_used_gb", "mem_pct", "power_w", "temp_c"];
    var order = function (k) {
      var m = /^gpu\/(\d+)\/(.*)$/.exec(k);
      if (m) { var i = GPU_ORDER.indexOf(m[2]); return 100 + 10 * +m[1] + (i < 0 ? 9 : i); }
      return /^cpu/.test(k) ? 0 : /^mem/.test(k) ? 1 : 50;
    };
    return keys.sort(function (a, b) { return order(a) - order(b) || (a < b ? -1 : a > b ? 1 : 0); });
  }

  var uid = 0;
  var controllers = [];   // every mounted controller, for live reload (RunpagesCharts.controllers)
  var MANY_RUNS = 30;   // above this, each chart draws all runs with one multi_line glyph

  /* A Bokeh figure with the site's look (light/dark from the system) and the standard tools. */
  function themedFigure(attrs, darkMode) {
    if (darkMode === undefined) darkMode = window.RunpagesSite ? RunpagesSite.isDark() : false;
    var c = colors(darkMode), a = {
      height: 240, sizing_mode: "stretch_width",
      tools: "xpan,box_zoom,xwheel_zoom,reset,save", active_scroll: "xwheel_zoom", active_drag: "box_zoom",
      background_fill_color: c.bg, border_fill_color: c.border, outline_line_color: c.outline,
      min_border_left: 48, min_border_right: 12, toolbar_location: "right"
    };
    Object.keys(attrs || {}).forEach(function (k) { a[k] = attrs[k]; });
    var fig = window.Bokeh.Plotting.figure(a);
    fig.title.text_color = c.title; fig.title.text_font_size = "12px"; fig.title.text_font_style = "bold";
    fig.axis.each(function (ax) {
      ax.axis_line_color = c.axis; ax.major_tick_line_color = c.axis; ax.minor_tick_line_color = c.axis;
      ax.major_label_text_color = c.text; ax.axis_label_text_color = c.text; ax.axis_label_text_font_size = "11px";
      ax.axis_label_text_font_style = "normal"; ax.major_label_text_font_size = "11px";
    });
    fig.grid.each(function (g) { g.grid_line_color = c.grid; });
    tickAxes(fig, a);
    return fig;
  }

  /* Ticks read like numbers people write (values.js: 3e-4, 0.25, 80M), never Bokeh's 3.000e−4;
   * log axes label every decade. Datetime axes keep Bokeh's date labels. */
  function tickAxes(fig, attrs) {
    var B = window.Bokeh;
    [["x_axis_type", fig.xaxis], ["y_axis_type", fig.yaxis]].forEach(function (pair) {
      var type = attrs[pair[0]] || "linear";
      if (type === "datetime") return;
      var set = function (ax) {
        ax.formatter = new B.CustomJSTickFormatter({ code: "return window.Runpages.values.formatTick(tick, ticks);" });
        // 40 decades at most; spans under a decade or so fall back to linear ticks in BokehJS.
        if (type === "log") ax.ticker = new B.LogTicker({ mantissas: [1], desired_num_ticks: 40 });
      };
      var axes = pair[1];
      if (axes && typeof axes.each === "function") axes.each(set);
      else if (Array.isArray(axes)) axes.forEach(set);
      else if (axes) set(axes);
    });
  }

  /* x values of one series for an x-axis mode: "step", "time" (ms, for datetime axes),
     "rel" (seconds since the run's start) or "m:<metric>" (that metric, interpolated on step);
     null when the run did not log that metric. */
  function xFor(run, series, mode) {
    if (mode === "time") return series.time.map(function (t) { return t * 1000; });
    if (mode === "rel") {
      var t0 = typeof run.t0 === "number" ? run.t0 : (series.time[0] || 0);
      return series.time.map(function (t) { return t - t0; });
    }
    if (mode.indexOf("m:") === 0) {
      var xs = (run.metrics || {})[mode.slice(2)];
      if (!xs) return null;
      return interp(series.step, xs.step, xs.y);
    }
    return series.step;
  }

  function mount(container, runs, opts) {
    if (typeof container === "string") container = document.querySelector(container);
    opts = opts || {};
    var id = "rpc" + (++uid);
    var refreshQueued = false;
    var state = {
      x: opts.x || "step", logY: false, logX: false, smooth: 0, search: "", hidden: {}
    };
    var ctl = {
      plots: {}, runs: [], container: container, state: state, ready: null,
      setVisible: function (key, visible) {
        if (visible) delete state.hidden[key]; else state.hidden[key] = true;
        var multi = false;
        Object.keys(ctl.plots).forEach(function (k) {
          var plot = ctl.plots[k];
          if (plot.mode === "multi") { multi = true; return; }
          (plot.renderers[key] || []).forEach(function (r) { if (r.visible !== !!visible) r.visible = !!visible; });
        });
        if (multi && !refreshQueued) {
          /* Many calls in a row (a table filter) cost one data update per chart. */
          refreshQueued = true;
          Promise.resolve().then(function () {
            refreshQueued = false;
            Object.keys(ctl.plots).forEach(function (k) { if (ctl.plots[k].refresh) ctl.plots[k].refresh(); });
          });
        }
      },
      update: function (newRuns) { ctl.runs = distinctColors((newRuns || []).map(expand)); render(); return ctl.ready; },
      refresh: function (newRuns) { return refresh(distinctColors((newRuns || []).map(expand))); },
      setOption: function (name, value) { state[name] = value; syncControls(); render(); return ctl.ready; },
      destroy: function () {
        clearPlots(); container.textContent = ""; container.classList.remove("rp-charts");
        var i = controllers.indexOf(ctl); if (i >= 0) controllers.splice(i, 1);
      }
    };
    controllers.push(ctl);
    ctl.runs = distinctColors((runs || []).map(expand));
    container.classList.add("rp-charts");
    container.textContent = "";

    if (opts.title) container.appendChild(el("h2", { "class": "rp-charts-title" }, opts.title));
    // ---- control bar ----------------------------------------------------------------------
    var bar = el("div", { "class": "rp-controls", role: "toolbar", "aria-label": "chart controls" });
    var xLabel = el("label", { "class": "rp-control" }, "x axis ");
    var xSel = el("select", { "class": "rp-x", "aria-label": "x axis" });
    xLabel.appendChild(xSel);
    var logYBox = el("input", { type: "checkbox", "class": "rp-logy" });
    var logYLabel = el("label", { "class": "rp-control" }); logYLabel.appendChild(logYBox); logYLabel.appendChild(document.createTextNode(" log y"));
    var logXBox = el("input", { type: "checkbox", "class": "rp-logx" });
    var logXLabel = el("label", { "class": "rp-control" }); logXLabel.appendChild(logXBox); logXLabel.appendChild(document.createTextNode(" log x"));
    var smoothLabel = el("label", { "class": "rp-control" }, "smoothing ");
    var smoothIn = el("input", { type: "range", min: "0", max: "0.99", step: "0.01", value: "0", "class": "rp-smooth", "aria-label": "smoothing" });
    var smoothVal = el("span", { "class": "rp-smooth-value" }, "0");
    smoothLabel.appendChild(smoothIn); smoothLabel.appendChild(smoothVal);
    var search = el("input", { type: "search", placeholder: "filter charts…", "class": "rp-search", "aria-label": "filter charts by name" });
    [xLabel, logYLabel, logXLabel, smoothLabel, search].forEach(function (c) { bar.appendChild(c); });
    container.appendChild(bar);
    var body = el("div", { "class": "rp-chart-body" });
    container.appendChild(body);
    var emptyNote = el("p", { "class": "muted rp-empty" });
    container.appendChild(emptyNote);

    function fillXOptions() {
      var cur = state.x;
      xSel.textContent = "";
      [["step", "step"], ["time", "wall time"], ["rel", "relative time"]].forEach(function (o) {
        xSel.appendChild(el("option", { value: o[0] }, o[1]));
      });
      metricKeysOf(ctl.runs, {}).forEach(function (k) {
        xSel.appendChild(el("option", { value: "m:" + k }, k));
      });
      xSel.value = cur;
      if (xSel.value !== cur) { state.x = "step"; xSel.value = "step"; }
    }
    function syncControls() {
      xSel.value = state.x; logYBox.checked = state.logY; logXBox.checked = state.logX;
      smoothIn.value = String(state.smooth); smoothVal.textContent = String(state.smooth);
      search.value = state.search;
    }
    xSel.addEventListener("change", function () { state.x = xSel.value; render(); });
    logYBox.addEventListener("change", function () { state.logY = logYBox.checked; render(); });
    logXBox.addEventListener("change", function () { state.logX = logXBox.checked; render(); });
    var smoothTimer = null;
    smoothIn.addEventListener("input", function () {
      state.smooth = parseFloat(smoothIn.value) || 0;
      smoothVal.textContent = state.smooth.toFixed(2);
      clearTimeout(smoothTimer);
      smoothTimer = setTimeout(render, 120);
    });
    search.addEventListener("input", function () { state.search = search.value; applySearch(); });

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

    // ---- plots ----------------------------------------------------------------------------
    var views = [];
    function clearPlots() {
      views.forEach(function (v) { try { v.remove(); } catch (e) { /* already gone */ } });
      views = [];
      ctl.plots = {};
    }

    function xValues(run, series, isSystem) {
      var mode = state.x;
      if (isSystem && (mode === "step" || mode.indexOf("m:") === 0)) mode = "rel";
      return xFor(run, series, mode);
    }

    function xAxisLabel(isSystem) {
      var mode = state.x;
      if (isSystem && (mode === "step" || mode.indexOf("m:") === 0)) mode = "rel";
      if (mode === "time") return "wall time";
      if (mode === "rel") return "relative time (s)";
      if (mode.indexOf("m:") === 0) return mode.slice(2);
      return "step";
    }

    /* One run's points on one chart: x, y (gaps for what the axes cannot show), marks for
     * non-finite values at the edge of the finite range. Null when the run lacks the series. */
    function seriesFor(run, key, isSystem, mode) {
      var series = (isSystem ? run.system : run.metrics || {})[key];
      if (!series) return null;
      var xs = xValues(run, series, isSystem);
      if (!xs) return null;
      var raw = series.y, ys = new Array(raw.length), lo = Infinity, hi = -Infinity, mx = [], my = [];
      for (var i = 0; i < raw.length; i++) {
        var v = raw[i];
        if (isFinite(v) && !(state.logY && v <= 0)) { if (v < lo) lo = v; if (v > hi) hi = v; }
      }
      for (var j = 0; j < raw.length; j++) {
        var y = raw[j], x = xs[j];
        if (state.logY && !(y > 0)) y = NaN;
        if (state.logX && mode !== "time" && !(x > 0)) { ys[j] = NaN; continue; }
        if (!isFinite(raw[j])) {
          /* Logged NaN/inf: a gap in the line and a mark (nonfinite.js says where). */
          mx.push(x); my.push(RunpagesCharts.nonfinite.markY(raw[j], lo, hi)); ys[j] = NaN; continue;
        }
        ys[j] = y;
      }
      return { series: series, xs: xs, ys: ys, lo: lo, hi: hi, marksX: mx, marksY: my };
    }

    function lineData(run, s) {
      var names = new Array(s.xs.length);
      for (var n = 0; n < s.xs.length; n++) names[n] = run.name;
      return { x: s.xs, y: state.smooth > 0 ? ema(s.ys, state.smooth) : s.ys, raw: s.ys, step: s.series.step || s.xs, run: names };
    }

    function makePlot(cell, key, isSystem, darkMode) {
      var B = window.Bokeh, P = B.Plotting, c = colors(darkMode);
      var mode = state.x;
      if (isSystem && (mode === "step" || mode.indexOf("m:") === 0)) mode = "rel";
      var fig = themedFigure({
        height: 240,
        x_axis_type: state.logX && mode !== "time" ? "log" : (mode === "time" ? "datetime" : "linear"),
        y_axis_type: state.logY ? "log" : "linear",
        title: isSystem ? systemTitle(key) : key,
        x_axis_label: xAxisLabel(isSystem)
      }, darkMode);
      var plot = { figure: fig, view: null, renderers: {}, key: key, system: !!isSystem, mode: "lines" };
      RunpagesCharts.nonfinite.note(cell, ctl.runs, key, isSystem);   // "12 NaN steps from step 300"
      var hoverable = [];
      var legend = ctl.runs.length > 1 && ctl.runs.length <= (opts.maxLegend || 12);
      var many = ctl.runs.length > MANY_RUNS;
      var marksX = [], marksY = [], marksRun = [], allLo = Infinity, allHi = -Infinity;
      var smooth = state.smooth > 0;
      var lines = [];   // many-runs mode: one entry per run, drawn by a single multi_line
      var sources = {}, runKeys = [];
      ctl.runs.forEach(function (run) {
        var s = seriesFor(run, key, isSystem, mode);
        if (!s) return;
        runKeys.push(run.key);
        var xs = s.xs, ys = s.ys;
        if (s.lo < allLo) allLo = s.lo;
        if (s.hi > allHi) allHi = s.hi;
        for (var m = 0; m < s.marksX.length; m++) { marksX.push(s.marksX[m]); marksY.push(s.marksY[m]); marksRun.push(run.name); }
        if (many) {
          lines.push({ key: run.key, name: run.name, color: run.color || "#0072b2", xs: xs,
                       ys: smooth ? ema(ys, state.smooth) : ys, raw: ys });
          return;
        }
        var src = new B.ColumnDataSource({ data: lineData(run, s) });
        sources[run.key] = src;
        var rs = [];
        var lineOpts = { x: { field: "x" }, y: { field: "y" }, source: src, line_color: run.color || "#0072b2", line_width: 1.6 };
        if (legend) lineOpts.legend_label = run.name;
        if (smooth) {
          var faint = fig.line({ x: { field: "x" }, y: { field: "raw" }, source: src, line_color: run.color || "#0072b2", line_width: 1, line_alpha: 0.22 });
          rs.push(faint);
        }
        var main = fig.line(lineOpts);
        rs.push(main);
        hoverable.push(main);
        if (state.hidden[run.key]) rs.forEach(function (r) { r.visible = false; });
        main.properties.visible.change.connect(function () {
          var vis = main.visible;
          if (!!state.hidden[run.key] === !vis) return;
          ctl.setVisible(run.key, vis);
          if (opts.onVisible) opts.onVisible(run.key, vis);
        });
        plot.renderers[run.key] = rs;
      });
      if (many) {
        /* Hundreds of runs: one multi_line glyph per chart (a renderer per run would take
         * BokehJS minutes); hiding a run filters the data. renderers[key] holds a stand-in
         * with a `visible` property so callers see the same shape as in the per-run mode. */
        var msrcData = function () {
          var d = { xs: [], ys: [], raw: [], color: [], run: [], key: [] };
          lines.forEach(function (l) {
            if (state.hidden[l.key]) return;
            d.xs.push(l.xs); d.ys.push(l.ys); d.raw.push(l.raw); d.color.push(l.color); d.run.push(l.name); d.key.push(l.key);
          });
          return d;
        };
        var lineSrc = new B.ColumnDataSource({ data: msrcData() });
        if (smooth) fig.multi_line({ xs: { field: "xs" }, ys: { field: "raw" }, source: lineSrc, line_color: { field: "color" }, line_width: 1, line_alpha: 0.15 });
        var ml = fig.multi_line({ xs: { field: "xs" }, ys: { field: "ys" }, source: lineSrc, line_color: { field: "color" }, line_width: 1.2, line_alpha: 0.7,
          hover_line_alpha: 1, hover_line_width: 2.5 });
        hoverable.push(ml);
        plot.mode = "multi";
        plot.refresh = function () { lineSrc.data = msrcData(); };
        lines.forEach(function (l) {
          var proxy = {};
          Object.defineProperty(proxy, "visible", {
            get: function () { return !state.hidden[l.key]; },
            set: function (v) { if (!!v === !state.hidden[l.key]) return; ctl.setVisible(l.key, !!v); if (opts.onVisible) opts.onVisible(l.key, !!v); }
          });
          plot.renderers[l.key] = [proxy];
        });
      }
      var constant = allLo === allHi && isFinite(allLo);
      /* Percent system metrics run 0-100 (a process may use more than one core: then up to its peak). */
      var pctEnd = isSystem && !state.logY && /_pct$/.test(key) ? (isFinite(allHi) && allHi > 100 ? allHi * 1.05 : 100) : null;
      if (pctEnd !== null) fig.y_range = new B.Range1d({ start: 0, end: pctEnd });
      else if (constant) {
        /* A constant series: Bokeh would pad it by ±1; show a narrow band around the value. */
        var pad = Math.abs(allLo) * 0.05 || 1;
        if (state.logY) fig.y_range = new B.Range1d({ start: allLo / 1.2, end: allLo * 1.2 });
        else fig.y_range = new B.Range1d({ start: allLo - pad, end: allLo + pad });
      }
      var marksSrc = null;
      if (marksX.length) {
        marksSrc = new B.ColumnDataSource({ data: { x: marksX, y: marksY, run: marksRun, step: marksX } });
        fig.scatter({ x: { field: "x" }, y: { field: "y" }, source: marksSrc, marker: "x", size: 9, line_color: "#d55e00", line_width: 2 });
      }
      /* New data for the same runs: replace each source's data (ranges the reader moved stay);
       * false when the chart must be redrawn instead (a run gained or lost this series, the
       * series became or stopped being constant, non-finite marks appeared or went). */
      plot.refill = function () {
        var keys = [], lo = Infinity, hi = -Infinity, mx = [], my = [], mr = [], fresh = {}, newLines = [];
        ctl.runs.forEach(function (run) {
          var s = seriesFor(run, key, isSystem, mode);
          if (!s) return;
          keys.push(run.key);
          if (s.lo < lo) lo = s.lo;
          if (s.hi > hi) hi = s.hi;
          for (var m = 0; m < s.marksX.length; m++) { mx.push(s.marksX[m]); my.push(s.marksY[m]); mr.push(run.name); }
          if (many) newLines.push({ key: run.key, name: run.name, color: run.color || "#0072b2", xs: s.xs,
                                    ys: smooth ? ema(s.ys, state.smooth) : s.ys, raw: s.ys });
          else fresh[run.key] = lineData(run, s);
        });
        if (keys.join("\n") !== runKeys.join("\n")) return false;
        if ((lo === hi && isFinite(lo)) !== constant || (constant && lo !== allLo)) return false;
        if (pctEnd !== null && hi > pctEnd) return false;
        if (!!mx.length !== !!marksSrc) return false;
        if (many) { lines = newLines; plot.refresh(); }
        else Object.keys(fresh).forEach(function (k) { sources[k].data = fresh[k]; });
        if (marksSrc) marksSrc.data = { x: mx, y: my, run: mr, step: mx };
        RunpagesCharts.nonfinite.note(cell, ctl.runs, key, isSystem);
        return true;
      };
      var xFmt = mode === "time" ? "@x{%F %T}" : "@x{0,0.[000]}";
      if (many) {
        fig.add_tools(new B.HoverTool({ renderers: hoverable, line_policy: "nearest",
          tooltips: [["run", "@run"], [xAxisLabel(isSystem), mode === "time" ? "$x{%F %T}" : "$x{0,0.[000]}"], ["value", "$y{0.[0000]}"]],
          formatters: mode === "time" ? { "$x": "datetime" } : {} }));
        ctl.plots[(isSystem ? "system:" : "") + key] = plot;
        return P.show(fig, cell).then(function (view) { plot.view = view; views.push(view); return view; });
      }
      var hover = new B.HoverTool({
        renderers: hoverable, mode: "vline", line_policy: "nearest", point_policy: "snap_to_data",
        tooltips: [["run", "@run"], ["step", "@step{0,0}"], [xAxisLabel(isSystem), xFmt], ["value", "@y{0.[0000]}"]],
        formatters: mode === "time" ? { "@x": "datetime" } : {}
      });
      if (isSystem || state.x === "step") hover.tooltips = [["run", "@run"], [xAxisLabel(isSystem), xFmt], ["value", "@y{0.[0000]}"]];
      fig.add_tools(hover);
      if (legend && fig.legend) {
        fig.legend.click_policy = "hide";
        fig.legend.location = "top_right";
        fig.legend.label_text_font_size = "11px";
        fig.legend.background_fill_color = c.bg; fig.legend.background_fill_alpha = 0.8;
        fig.legend.label_text_color = c.text; fig.legend.border_line_color = c.outline;
      }
      ctl.plots[(isSystem ? "system:" : "") + key] = plot;
      return P.show(fig, cell).then(function (view) { plot.view = view; views.push(view); return view; });
    }

    /* The chart keys render() would draw for ctl.runs, sorted. */
    function plotKeys() {
      var keys = metricKeysOf(ctl.runs, opts);
      if (opts.system) {
        systemKeysOf(ctl.runs).forEach(function (k) {
          if (!/\/mem_total_gb$|\/energy_j$/.test(k)) keys.push("system:" + k);
        });
      }
      return keys.sort();
    }

    function savedRanges() {
      var out = {};
      Object.keys(ctl.plots).forEach(function (k) {
        var f = ctl.plots[k].figure, r = {};
        [["x", f.x_range], ["y", f.y_range]].forEach(function (p) {
          var rng = p[1];
          if (rng && rng.have_updated_interactively) r[p[0]] = [rng.start, rng.end];
        });
        if (r.x || r.y) out[k] = r;
      });
      return out;
    }

    function restoreRanges(saved) {
      Object.keys(saved).forEach(function (k) {
        var plot = ctl.plots[k];
        if (!plot) return;
        [["x", plot.figure.x_range], ["y", plot.figure.y_range]].forEach(function (p) {
          var want = saved[k][p[0]], rng = p[1];
          if (!want || !rng) return;
          rng.setv({ start: want[0], end: want[1] });
          if ("have_updated_interactively" in rng) rng.have_updated_interactively = true;
        });
      });
    }

    function refresh(newRuns) {
      var before = plotKeys().join("\n"), runsBefore = ctl.runs.map(function (r) { return r.key; }).join("\n");
      ctl.runs = newRuns;
      var same = plotKeys().join("\n") === before && Object.keys(ctl.plots).sort().join("\n") === before &&
        ctl.runs.map(function (r) { return r.key; }).join("\n") === runsBefore;
      var keys = same ? Object.keys(ctl.plots) : [];
      for (var i = 0; i < keys.length && same; i++) same = !!(ctl.plots[keys[i]].refill && ctl.plots[keys[i]].refill());
      if (same) return Promise.resolve(ctl);
      var saved = savedRanges();
      render();
      return ctl.ready.then(function () { restoreRanges(saved); return ctl; });
    }

    function render() {
      clearPlots();
      body.textContent = "";
      fillXOptions();
      var darkMode = window.RunpagesSite ? RunpagesSite.isDark() : false;
      var jobs = [];
      var groups = [];
      var mkeys = metricKeysOf(ctl.runs, opts);
      var bySection = {};
      mkeys.forEach(function (k) {
        var s = sectionOf(k);
        if (!bySection[s]) { bySection[s] = []; groups.push({ title: s || "metrics", keys: bySection[s], system: false }); }
        bySection[s].push(k);
      });
      if (opts.system) {
        var sysSections = {};
        systemKeysOf(ctl.runs).forEach(function (k) {
          if (/\/mem_total_gb$|\/energy_j$/.test(k)) return;   // constants and counters: tables say it better
          var s = systemSection(k);
          if (!sysSections[s]) { sysSections[s] = []; groups.push({ title: "system · " + s, keys: sysSections[s], system: true }); }
          sysSections[s].push(k);
        });
      }
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
        try { return makePlot(j[0], j[1], j[2], darkMode); } catch (e) { console.error(e); return Promise.resolve(null); }
      });
      ctl.ready = Promise.all(promises).then(function () { container.setAttribute("data-ready", "1"); return ctl; });
      container.removeAttribute("data-ready");
      return ctl.ready;
    }

    if (window.RunpagesSite) RunpagesSite.onThemeChange(function () { render(); });
    render();
    return ctl;
  }

  window.RunpagesCharts = { mount: mount, controllers: controllers, distinctColors: distinctColors, xValues: xFor, figure: themedFigure, colors: colors, interp: interp, ema: ema, sortedUnion: sortedUnion,
    expand: expand, sectionOf: sectionOf, palette: ["#0072b2", "#e69f00", "#009e73", "#d55e00", "#cc79a7", "#56b4e9",
      "#332288", "#117733", "#882255", "#44aa99", "#999933", "#aa4499"] };
})();
