/* runpages reports: draw each ```chart / ```compare block of a report page with BokehJS.
 *
 * Input: <script type="application/json" id="rp-report-spec"> {"blocks": [{id, kind, metrics,
 * runs: [runKey], groups: [{label, color, runs: [runKey]}] | null, x ("step" | "time" | "rel" |
 * "m:<metric>"), log_x, log_y, smoothing, y_range: [lo, hi] | null, height, title}]}, made by
 * sitegen/pages/report.py; run data in RunpagesData.runs (data scripts on the site, inline in an
 * export). Each metric of a block is drawn into its <div class="rp-chart-cell" data-key> inside
 * #<id>-charts. With groups, each group is one line (the mean over its runs) and a min–max band,
 * on a shared x grid (each run interpolated where it has data). A logged NaN/inf is a gap with a
 * mark and a note (nonfinite.js); a group's mean leaves a run out where it logged one.
 *
 * window.runpagesReport = {plots: {"<block id>/<metric>": {figure, view}}, ready: Promise};
 * containers get data-ready="1" when drawn. User text reaches the page only through Bokeh
 * (canvas, escaped tooltips) and textContent.
 */
(function () {
  "use strict";
  var MAX_GRID = 600;
  var api = { plots: {}, ready: null };
  window.runpagesReport = api;

  function finiteSorted(xs, ys) {
    /* Points with a usable x, sorted; a NaN y stays, so an interpolation never bridges it. */
    var pts = [];
    for (var i = 0; i < xs.length; i++) if (isFinite(xs[i])) pts.push([xs[i], isFinite(ys[i]) ? ys[i] : NaN]);
    pts.sort(function (a, b) { return a[0] - b[0]; });
    return { x: pts.map(function (p) { return p[0]; }), y: pts.map(function (p) { return p[1]; }) };
  }

  function xLabel(mode) {
    if (mode === "time") return "wall time";
    if (mode === "rel") return "relative time (s)";
    if (mode.indexOf("m:") === 0) return mode.slice(2);
    return "step";
  }

  function cleanY(ys, logY) {
    return ys.map(function (y) { return (!isFinite(y) || (logY && !(y > 0))) ? NaN : y; });
  }

  /* One run's points for a metric: {x, y} with the block's options applied, or null. */
  function points(run, key, spec) {
    var series = (run.metrics || {})[key];
    if (!series) return null;
    var xs = RunpagesCharts.xValues(run, series, spec.x);
    if (!xs) return null;
    var ys = cleanY(series.y, spec.log_y);
    if (spec.smoothing > 0) ys = RunpagesCharts.ema(ys, spec.smoothing);
    if (spec.log_x && spec.x !== "time") xs = xs.map(function (x) { return x > 0 ? x : NaN; });
    return { x: xs, y: ys, raw: series.y };
  }

  /* Mean and min–max over the runs of a group on a shared grid of x values. */
  function band(curves) {
    var grid = RunpagesCharts.sortedUnion(curves.map(function (c) { return c.x; }));
    if (grid.length > MAX_GRID) {
      var step = (grid.length - 1) / (MAX_GRID - 1), g = [];
      for (var k = 0; k < MAX_GRID; k++) g.push(grid[Math.round(k * step)]);
      grid = g;
    }
    var mean = [], lo = [], hi = [], n = [];
    var inter = curves.map(function (c) { return RunpagesCharts.interp(grid, c.x, c.y); });
    for (var j = 0; j < grid.length; j++) {
      var s = 0, cnt = 0, mn = Infinity, mx = -Infinity;
      for (var r = 0; r < curves.length; r++) {
        var c = curves[r];
        if (!c.x.length || grid[j] < c.x[0] || grid[j] > c.x[c.x.length - 1]) continue;
        var v = inter[r][j];
        if (!isFinite(v)) continue;
        s += v; cnt++; if (v < mn) mn = v; if (v > mx) mx = v;
      }
      mean.push(cnt ? s / cnt : NaN); lo.push(cnt ? mn : NaN); hi.push(cnt ? mx : NaN); n.push(cnt);
    }
    return { x: grid, mean: mean, lo: lo, hi: hi, n: n };
  }

  /* Marks at the logged NaN/inf of the drawn runs, at the edge of their finite values. */
  function drawNonfinite(fig, B, drawn, logY) {
    var lo = Infinity, hi = -Infinity, data = { x: [], y: [] };
    drawn.forEach(function (p) {
      p.y.forEach(function (v) { if (isFinite(v) && !(logY && v <= 0)) { if (v < lo) lo = v; if (v > hi) hi = v; } });
    });
    drawn.forEach(function (p) {
      var m = RunpagesCharts.nonfinite.marks(p.x, p.raw, lo, hi);
      for (var i = 0; i < m.x.length; i++) { data.x.push(m.x[i]); data.y.push(m.y[i]); }
    });
    RunpagesCharts.nonfinite.drawMarks(fig, B, data);
  }

  function drawMetric(cell, spec, key, runs) {
    var B = window.Bokeh, attrs = {
      height: spec.height || 260, title: key, x_axis_label: xLabel(spec.x),
      x_axis_type: spec.x === "time" ? "datetime" : (spec.log_x ? "log" : "linear"),
      y_axis_type: spec.log_y ? "log" : "linear"
    };
    if (spec.y_range) attrs.y_range = new B.Range1d({ start: spec.y_range[0], end: spec.y_range[1] });
    var fig = RunpagesCharts.figure(attrs);
    var hoverable = [], legend = false, colors = {}, drawn = [], noted = [];
    (spec.runs || []).forEach(function (k, i) { colors[k] = (spec.colors || [])[i]; });
    if (spec.groups) {
      legend = true;
      spec.groups.forEach(function (g) {
        var curves = [];
        g.runs.forEach(function (k) {
          var run = RunpagesData.runs[k], p = run && points(run, key, spec);
          if (p) { curves.push(finiteSorted(p.x, p.y)); drawn.push(p); noted.push(run); }
        });
        if (!curves.length) return;
        var b = band(curves), label = g.label + " (" + curves.length + ")";
        var src = new B.ColumnDataSource({ data: { x: b.x, y: b.mean, lo: b.lo, hi: b.hi, n: b.n,
          run: b.x.map(function () { return g.label; }) } });
        fig.varea({ x: { field: "x" }, y1: { field: "lo" }, y2: { field: "hi" }, source: src,
          fill_color: g.color, fill_alpha: 0.18, legend_label: label });
        var line = fig.line({ x: { field: "x" }, y: { field: "y" }, source: src, line_color: g.color,
          line_width: 2, legend_label: label });
        hoverable.push(line);
      });
    } else {
      legend = runs.length > 1 && runs.length <= 12;
      runs.forEach(function (run, i) {
        var p = points(run, key, spec);
        if (!p) return;
        drawn.push(p); noted.push(run);
        var names = p.x.map(function () { return run.name; });
        var src = new B.ColumnDataSource({ data: { x: p.x, y: p.y, run: names } });
        var o = { x: { field: "x" }, y: { field: "y" }, source: src, line_color: colors[run.key] || run.color || RunpagesCharts.rules.palette[0], line_width: 1.6 };
        if (legend) o.legend_label = run.name;
        hoverable.push(fig.line(o));
      });
    }
    drawNonfinite(fig, B, drawn, spec.log_y);
    RunpagesCharts.nonfinite.note(cell, noted, key, false);
    var xFmt = spec.x === "time" ? "@x{%F %T}" : "@x{0,0.[000]}";
    var tips = spec.groups
      ? [["group", "@run"], [xLabel(spec.x), xFmt], ["mean", "@y{0.[0000]}"], ["min", "@lo{0.[0000]}"], ["max", "@hi{0.[0000]}"], ["runs", "@n"]]
      : [["run", "@run"], [xLabel(spec.x), xFmt], ["value", "@y{0.[0000]}"]];
    fig.add_tools(new B.HoverTool({ renderers: hoverable, tooltips: tips, line_policy: "nearest",
      formatters: spec.x === "time" ? { "@x": "datetime" } : {} }));
    if (legend && fig.legend) {
      var c = RunpagesCharts.colors(window.RunpagesSite ? RunpagesSite.isDark() : false);
      fig.legend.click_policy = "hide"; fig.legend.location = "top_right";
      fig.legend.label_text_font_size = "11px"; fig.legend.background_fill_alpha = 0.8;
      fig.legend.background_fill_color = c.bg; fig.legend.label_text_color = c.text;
      fig.legend.border_line_color = c.outline;
    }
    var entry = { figure: fig, view: null };
    api.plots[spec.id + "/" + key] = entry;
    return B.Plotting.show(fig, cell).then(function (view) { entry.view = view; return view; });
  }

  function drawBlock(spec) {
    var box = document.getElementById(spec.id + "-charts");
    if (!box) return Promise.resolve();
    var runs = spec.runs.map(function (k) { return RunpagesData.runs[k]; }).filter(Boolean);
    var missing = spec.runs.length - runs.length;
    if (!runs.length) {
      box.textContent = "The chart data of these runs did not load.";
      return Promise.resolve();
    }
    var cells = box.querySelectorAll(".rp-chart-cell"), jobs = [];
    for (var i = 0; i < cells.length; i++) {
      cells[i].textContent = "";
      try { jobs.push(drawMetric(cells[i], spec, cells[i].getAttribute("data-key"), runs)); }
      catch (e) { console.error(e); cells[i].textContent = "This chart could not be drawn."; }
    }
    if (missing) {
      var note = document.createElement("p");
      note.className = "muted small";
      note.textContent = missing + " run" + (missing === 1 ? "" : "s") + " without chart data.";
      box.appendChild(note);
    }
    return Promise.all(jobs).then(function () { box.setAttribute("data-ready", "1"); });
  }

  function drawAll() {
    var el = document.getElementById("rp-report-spec");
    var spec = el ? JSON.parse(el.textContent) : { blocks: [] };
    if (spec.blocks.length && !(window.Bokeh && window.Bokeh.Plotting && window.RunpagesCharts)) {
      spec.blocks.forEach(function (b) {
        var box = document.getElementById(b.id + "-charts");
        if (box) box.textContent = "Charts need BokehJS, which did not load.";
      });
      api.ready = Promise.resolve(api);
      return;
    }
    Object.keys(api.plots).forEach(function (k) {
      var v = api.plots[k].view;
      if (v) { try { v.remove(); } catch (e) { /* already gone */ } }
    });
    api.plots = {};
    api.ready = Promise.all(spec.blocks.map(drawBlock)).then(function () {
      document.documentElement.setAttribute("data-report-ready", "1");
      return api;
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", drawAll);
  else drawAll();
  if (window.RunpagesSite) RunpagesSite.onThemeChange(function () { drawAll(); });
})();
