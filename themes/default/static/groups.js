/* runpages: the project page's group chart. Runs sharing a `group` (or any config value chosen
 * in the menu) are drawn as one line (mean or median across the group's runs, per step) with a
 * min–max band (Bokeh varea), from the project's low-resolution series
 * (data/projects/<project>.js, loaded when the section opens). Only the runs the table shows
 * (filter text, brushing) count; the chart follows the table's "rp-table-change" event.
 *
 * Per step: each run's series is interpolated on a shared grid of steps inside that run's own
 * step range only (a run that stopped early does not pull the line after its end). A run that
 * logged NaN/inf at a step is left out of the mean there (never interpolated across it), the
 * step gets a mark and the note says how many runs did (nonfinite.js); a step no run has a
 * value for is a gap in the line.
 * Hooks: window.RunpagesGroups = {ready, drawn (a Promise), groups() ([{label, n, x, y, lo, hi}]),
 * set(name, value) with name "metric" | "by" | "stat"}.
 * User text reaches the page only through textContent and Bokeh legends/tooltips.
 */
(function () {
  "use strict";

  var GRID_POINTS = 300;

  var el = RunpagesSite.el;

  function interpInside(xs, sx, sy) {
    /* sy(sx) at xs, NaN outside [sx[0], sx[last]]; sx ascending. */
    var out = new Array(xs.length), j = 0, n = sx.length;
    for (var i = 0; i < xs.length; i++) {
      var x = xs[i];
      if (!n || x < sx[0] || x > sx[n - 1]) { out[i] = NaN; continue; }
      while (j < n - 1 && sx[j + 1] < x) j++;
      if (sx[j] === x || j === n - 1) { out[i] = sy[j]; continue; }
      var x0 = sx[j], x1 = sx[j + 1];
      out[i] = x1 === x0 ? sy[j] : sy[j] + (sy[j + 1] - sy[j]) * (x - x0) / (x1 - x0);
    }
    return out;
  }

  function median(a) {
    var s = a.slice().sort(function (p, q) { return p - q; }), m = s.length >> 1;
    return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
  }

  /* The aggregate of one group: {x, y, lo, hi, n} over a grid of steps. */
  function aggregate(series, stat) {
    var grid = RunpagesCharts.sortedUnion(series.map(function (s) { return s.step; }));
    if (grid.length > GRID_POINTS) {
      var lo = grid[0], hi = grid[grid.length - 1], even = [];
      for (var g = 0; g < GRID_POINTS; g++) even.push(lo + (hi - lo) * g / (GRID_POINTS - 1));
      grid = even;
    }
    var columns = series.map(function (s) { return interpInside(grid, s.step, s.y); });
    var out = { x: [], y: [], lo: [], hi: [], n: [] };
    for (var k = 0; k < grid.length; k++) {
      var vals = [];
      for (var c = 0; c < columns.length; c++) if (isFinite(columns[c][k])) vals.push(columns[c][k]);
      if (!vals.length) {   // every run left out here (NaN, or no data): a gap, not a joined line
        out.x.push(grid[k]); out.y.push(NaN); out.lo.push(NaN); out.hi.push(NaN); out.n.push(0);
        continue;
      }
      var sum = 0;
      for (var v = 0; v < vals.length; v++) sum += vals[v];
      out.x.push(grid[k]);
      out.y.push(stat === "median" ? median(vals) : sum / vals.length);
      out.lo.push(Math.min.apply(null, vals));
      out.hi.push(Math.max.apply(null, vals));
      out.n.push(vals.length);
    }
    return out;
  }

  /* Steps where a group's runs logged NaN/inf, and how many of its runs did. */
  function nonfiniteOf(series) {
    var steps = [], runs = 0;
    series.forEach(function (s) {
      var hit = false;
      for (var i = 0; i < s.raw.length; i++) if (!isFinite(s.raw[i])) { steps.push(s.step[i]); hit = true; }
      if (hit) runs++;
    });
    return { steps: RunpagesCharts.sortedUnion([steps]), runs: runs };
  }

  function groupValue(run, by) {
    var v;
    if (by === "group") v = run.group;
    else if (by.indexOf("config.") === 0) v = (run.config || {})[by.slice(7)];
    else v = (run.config || {})[by];
    if (v === null || v === undefined || v === "") return "(none)";
    return typeof v === "object" ? JSON.stringify(v) : String(v);
  }

  function Groups(section, area) {
    this.section = section;
    this.area = area;
    this.project = area.getAttribute("data-project");
    this.state = { metric: area.getAttribute("data-metric") || "", by: area.getAttribute("data-default-group") || "group", stat: "mean" };
    this.view = null;
    this.result = [];
    this.started = false;
  }

  Groups.prototype.start = function () {
    if (this.started) return this.drawn;
    this.started = true;
    var self = this;
    this.area.textContent = "Loading\u2026";
    this.drawn = new Promise(function (resolve) {
      var done = function () {
        var p = window.RunpagesData && window.RunpagesData.projects[self.project];
        if (!p) {
          self.area.textContent = "The chart data did not load; rebuild the site.";
          resolve(false);
          return;
        }
        self.runs = Array.isArray(p.runs) ? p.runs : Object.keys(p.runs).map(function (k) { return p.runs[k]; });
        self.controls();
        resolve(self.draw());
      };
      if (!window.RunpagesData) { self.area.textContent = "Charts need charts.js."; resolve(false); return; }
      if (window.RunpagesData.projects[self.project]) { done(); return; }
      var s = document.createElement("script");
      s.src = self.area.getAttribute("data-src");
      s.onload = done;
      s.onerror = done;
      document.body.appendChild(s);
    });
    var timer = null;
    document.addEventListener("rp-table-change", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { self.draw(); }, 200);
    });
    return this.drawn;
  };

  Groups.prototype.controls = function () {
    var self = this, area = this.area;
    area.textContent = "";
    var bar = el("div", { "class": "rp-controls", role: "toolbar", "aria-label": "group chart controls" });
    var metrics = {};
    this.runs.forEach(function (r) { Object.keys(r.metrics || {}).forEach(function (k) { metrics[k] = 1; }); });
    var keys = Object.keys(metrics).sort();
    if (keys.indexOf(this.state.metric) < 0) {
      var guess = keys.filter(function (k) { return /val/.test(k); });
      this.state.metric = guess[0] || keys[0] || "";
    }
    var byOptions = [];
    var tableSelect = document.getElementById("rp-group-by");
    if (tableSelect) {
      Array.prototype.forEach.call(tableSelect.options, function (o) { if (o.value) byOptions.push([o.value, o.textContent]); });
    }
    if (!byOptions.length) byOptions.push(["group", "group"]);
    if (!byOptions.some(function (o) { return o[0] === self.state.by; })) this.state.by = byOptions[0][0];

    function select(name, label, options) {
      var lab = el("label", { "class": "rp-control" }, label + " ");
      var sel = el("select", { "class": "rp-groups-" + name, "aria-label": label });
      options.forEach(function (o) { sel.appendChild(el("option", { value: o[0] }, o[1])); });
      sel.value = self.state[name];
      sel.addEventListener("change", function () { self.state[name] = sel.value; self.draw(); });
      lab.appendChild(sel);
      bar.appendChild(lab);
      return sel;
    }
    this.selects = {
      metric: select("metric", "metric", keys.map(function (k) { return [k, k]; })),
      by: select("by", "group by", byOptions),
      stat: select("stat", "line", [["mean", "mean"], ["median", "median"]])
    };
    area.appendChild(bar);
    this.plot = el("div", { "class": "rp-chart-cell rp-groups-plot" });
    area.appendChild(this.plot);
    this.note = el("p", { "class": "muted small" });
    area.appendChild(this.note);
  };

  Groups.prototype.visibleRuns = function () {
    var api = window.RunpagesTable;
    if (!api || !api.rows) return this.runs;
    var on = {};
    api.rows().forEach(function (r) { if (r.visible) on[r.key] = true; });
    return this.runs.filter(function (r) { return on[r.key]; });
  };

  Groups.prototype.compute = function () {
    var metric = this.state.metric, by = this.state.by, stat = this.state.stat, groups = {}, order = [];
    this.visibleRuns().forEach(function (run) {
      var s = (run.metrics || {})[metric];
      if (!s || !s.step || !s.step.length) return;
      var g = groupValue(run, by);
      if (!groups[g]) { groups[g] = []; order.push(g); }
      groups[g].push(RunpagesCharts.nonfinite.gapSeries(s));
    });
    order.sort();
    return order.map(function (g) {
      var a = aggregate(groups[g], stat);
      a.label = g;
      a.runs = groups[g].length;
      a.nonfinite = nonfiniteOf(groups[g]);
      return a;
    });
  };

  Groups.prototype.draw = function () {
    if (!this.plot) return Promise.resolve(false);
    var self = this, B = window.Bokeh;
    if (this.view) { try { this.view.remove(); } catch (e) { /* gone */ } this.view = null; }
    this.plot.textContent = "";
    this.result = this.compute();
    if (!B || !B.Plotting) { this.note.textContent = "Charts need BokehJS, which did not load."; return Promise.resolve(false); }
    if (!this.result.length) {
      this.note.textContent = "No run shown in the table logged \u201c" + this.state.metric + "\u201d.";
      return Promise.resolve(true);
    }
    var dark = window.RunpagesSite ? RunpagesSite.isDark() : false;
    var palette = window.RunpagesCharts.rules.groupPalette;
    var fig = window.RunpagesCharts.figure({ height: 320, title: this.state.metric + " by " + this.state.by.replace(/^config\./, "") +
      " (" + this.state.stat + ", min\u2013max band)", x_axis_label: "step" }, dark);
    var lines = [];
    this.result.forEach(function (g, i) {
      var color = palette[i % palette.length];
      var src = new B.ColumnDataSource({ data: { x: g.x, y: g.y, lo: g.lo, hi: g.hi, n: g.n, group: g.x.map(function () { return g.label; }) } });
      var band = fig.varea({ x: { field: "x" }, y1: { field: "lo" }, y2: { field: "hi" }, source: src, fill_color: color, fill_alpha: 0.18 });
      var line = fig.line({ x: { field: "x" }, y: { field: "y" }, source: src, line_color: color, line_width: 2,
        legend_label: g.label + " (" + g.runs + (g.runs === 1 ? " run)" : " runs)") });
      line.properties.visible.change.connect(function () { band.visible = line.visible; });
      lines.push(line);
    });
    var nanRuns = this.drawNonfinite(fig, B);
    fig.add_tools(new B.HoverTool({ renderers: lines, tooltips: [["group", "@group"], ["step", "@x{0,0}"],
      [this.state.stat, "@y{0.[0000]}"], ["min", "@lo{0.[0000]}"], ["max", "@hi{0.[0000]}"], ["runs", "@n"]] }));
    if (fig.legend) {
      var c = window.RunpagesCharts.colors(dark);
      fig.legend.click_policy = "hide";
      fig.legend.label_text_font_size = "11px";
      fig.legend.background_fill_color = c.bg; fig.legend.background_fill_alpha = 0.8;
      fig.legend.label_text_color = c.text;
    }
    var runs = this.result.reduce(function (a, g) { return a + g.runs; }, 0);
    this.note.textContent = this.result.length + (this.result.length === 1 ? " group" : " groups") + ", " + runs +
      (runs === 1 ? " run" : " runs") + " (the runs the table shows)." + (nanRuns ? " " + nanRuns +
      (nanRuns === 1 ? " run" : " runs") + " logged NaN/inf: the " + this.state.stat +
      " leaves a run out at those steps (marked ×)." : "");
    return B.Plotting.show(fig, this.plot).then(function (view) {
      self.view = view;
      self.area.setAttribute("data-ready", "1");
      return true;
    });
  };

  /* Marks at the steps where a group's runs logged NaN/inf, at the bottom of the bands;
   * returns how many runs did. */
  Groups.prototype.drawNonfinite = function (fig, B) {
    var lo = Infinity, hi = -Infinity, data = { x: [], y: [], group: [] }, runs = 0;
    this.result.forEach(function (g) {
      g.lo.forEach(function (v) { if (isFinite(v) && v < lo) lo = v; });
      g.hi.forEach(function (v) { if (isFinite(v) && v > hi) hi = v; });
    });
    this.result.forEach(function (g) {
      runs += g.nonfinite.runs;
      g.nonfinite.steps.forEach(function (x) {
        data.x.push(x); data.y.push(RunpagesCharts.nonfinite.markY(NaN, lo, hi)); data.group.push(g.label);
      });
    });
    RunpagesCharts.nonfinite.drawMarks(fig, B, data);
    return runs;
  };

  function init() {
    var section = document.getElementById("rp-groups-section"), area = document.getElementById("rp-groups");
    var api = window.RunpagesGroups = { ready: false };
    if (!section || !area) return;
    var g = new Groups(section, area);
    api.controller = g;
    api.start = function () { section.open = true; return g.start(); };
    api.groups = function () { return g.result.map(function (r) { return { label: r.label, n: r.runs, x: r.x, y: r.y, lo: r.lo, hi: r.hi,
      nonfinite_steps: r.nonfinite.steps, nonfinite_runs: r.nonfinite.runs }; }); };
    api.set = function (name, value) {
      g.state[name] = value;
      if (g.selects && g.selects[name]) g.selects[name].value = value;
      return g.draw();
    };
    Object.defineProperty(api, "drawn", { get: function () { return g.drawn; } });
    section.addEventListener("toggle", function () { if (section.open) g.start(); });
    if (section.open) g.start();
    api.ready = true;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
