/* runpages: parameters against results on the project page: a scatter of any numeric config key
 * (or summary value) against any summary metric, chosen from menus, with log axes. A point is a
 * run; clicking it opens the run. Values come from the runs table (RunpagesTable.rows()), so
 * no extra data is loaded; runs the table hides (filter text, brushing) stay as faint points.
 *
 * Hooks: window.RunpagesParams = {ready, drawn (Promise), points() ([{key, x, y, url, on}]),
 * set({x, y, logX, logY}), source (the Bokeh ColumnDataSource)}.
 */
(function () {
  "use strict";

  var el = RunpagesSite.el;

  function num(v) {
    var q = window.RunpagesQuery;
    var n = q ? q.toNumber(v) : (v === "" || v === null || v === undefined ? null : Number(v));
    return n === null || !isFinite(n) ? null : n;
  }

  function columnKeyFor(columns, metric) {
    for (var i = 0; i < columns.length; i++) {
      var c = columns[i];
      if (c.group === "summary" && c.label === metric) return c.key;
    }
    return "";
  }

  function Params(section, area) {
    this.section = section;
    this.area = area;
    this.state = { x: "", y: "", logX: false, logY: false };
    this.view = null;
    this.started = false;
  }

  Params.prototype.start = function () {
    if (this.started) return this.drawn;
    var api = window.RunpagesTable;
    if (!api || !api.rows) { this.area.textContent = "Needs the runs table."; return Promise.resolve(false); }
    this.started = true;
    var self = this;
    this.columns = api.columns().filter(function (c) { return c.type === "num" && (c.group === "config" || c.group === "summary"); });
    var config = this.columns.filter(function (c) { return c.group === "config"; });
    var summary = this.columns.filter(function (c) { return c.group === "summary"; });
    this.state.y = columnKeyFor(this.columns, this.area.getAttribute("data-metric")) || (summary[0] || {}).key || "";
    // The first config key that varies is the most likely question ("what did lr do?").
    var rows = api.rows();
    var varying = config.filter(function (c) {
      var seen = {};
      rows.forEach(function (r) { seen[String(r.values[c.key])] = 1; });
      return Object.keys(seen).length > 1;
    });
    this.state.x = (varying[0] || config[0] || summary[1] || summary[0] || {}).key || "";
    if (varying[0]) {
      var vals = rows.map(function (r) { return num(r.values[varying[0].key]); }).filter(function (v) { return v !== null; });
      var lo = Math.min.apply(null, vals), hi = Math.max.apply(null, vals);
      this.state.logX = lo > 0 && hi / lo >= 25;
    }
    this.controls(config, summary);
    var timer = null;
    document.addEventListener("rp-table-change", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { self.recolor(); }, 60);
    });
    this.drawn = this.draw();
    return this.drawn;
  };

  Params.prototype.controls = function (config, summary) {
    var self = this, area = this.area;
    area.textContent = "";
    var bar = el("div", { "class": "rp-controls", role: "toolbar", "aria-label": "scatter controls" });
    function select(name, label, groups) {
      var lab = el("label", { "class": "rp-control" }, label + " ");
      var sel = el("select", { "class": "rp-params-" + name, "aria-label": label });
      groups.forEach(function (g) {
        if (!g[1].length) return;
        var og = el("optgroup", { label: g[0] });
        g[1].forEach(function (c) { og.appendChild(el("option", { value: c.key }, c.label)); });
        sel.appendChild(og);
      });
      sel.value = self.state[name];
      sel.addEventListener("change", function () { self.state[name] = sel.value; self.drawn = self.draw(); });
      lab.appendChild(sel);
      bar.appendChild(lab);
      return sel;
    }
    function box(name, label) {
      var lab = el("label", { "class": "rp-control" });
      var b = el("input", { type: "checkbox", "class": "rp-params-" + name });
      b.checked = self.state[name];
      b.addEventListener("change", function () { self.state[name] = b.checked; self.drawn = self.draw(); });
      lab.appendChild(b);
      lab.appendChild(document.createTextNode(" " + label));
      bar.appendChild(lab);
      return b;
    }
    this.inputs = {
      x: select("x", "x", [["config", config], ["summary", summary]]),
      logX: box("logX", "log x"),
      y: select("y", "y", [["summary", summary], ["config", config]]),
      logY: box("logY", "log y")
    };
    area.appendChild(bar);
    this.plot = el("div", { "class": "rp-chart-cell rp-params-plot" });
    area.appendChild(this.plot);
    this.note = el("p", { "class": "muted small" });
    area.appendChild(this.note);
  };

  Params.prototype.data = function () {
    var s = this.state, rows = window.RunpagesTable.rows();
    var d = { x: [], y: [], url: [], key: [], name: [], on: [], color: [], alpha: [] };
    var c = window.RunpagesCharts ? window.RunpagesCharts.colors(window.RunpagesSite ? RunpagesSite.isDark() : false) : {};
    for (var i = 0; i < rows.length; i++) {
      var r = rows[i], x = num(r.values[s.x]), y = num(r.values[s.y]);
      if (x === null || y === null || (s.logX && x <= 0) || (s.logY && y <= 0)) continue;
      d.x.push(x); d.y.push(y); d.url.push(r.url); d.key.push(r.key); d.name.push(r.name);
      d.on.push(r.visible);
      d.color.push(r.visible ? window.RunpagesCharts.rules.palette[0] : (c.grid || "#bbbbbb"));
      d.alpha.push(r.visible ? 0.85 : 0.35);
    }
    this.total = rows.length;
    return d;
  };

  Params.prototype.label = function (key) {
    for (var i = 0; i < this.columns.length; i++) if (this.columns[i].key === key) return this.columns[i].label;
    return key;
  };

  Params.prototype.draw = function () {
    var self = this, B = window.Bokeh, s = this.state;
    if (this.view) { try { this.view.remove(); } catch (e) { /* gone */ } this.view = null; }
    this.plot.textContent = "";
    if (!s.x || !s.y) { this.note.textContent = "No numeric config keys or summary values to plot."; return Promise.resolve(false); }
    if (!B || !B.Plotting) { this.note.textContent = "Charts need BokehJS, which did not load."; return Promise.resolve(false); }
    var data = this.data();
    var dark = window.RunpagesSite ? RunpagesSite.isDark() : false;
    var fig = window.RunpagesCharts.figure({
      height: 340, title: this.label(s.y) + " against " + this.label(s.x),
      x_axis_type: s.logX ? "log" : "linear", y_axis_type: s.logY ? "log" : "linear",
      x_axis_label: this.label(s.x), y_axis_label: this.label(s.y),
      tools: "pan,wheel_zoom,box_zoom,reset,tap,save", active_scroll: "wheel_zoom", active_drag: "box_zoom"
    }, dark);
    // Log axes over a decade or two: ticks at 1, 2, 5 of each decade (labels come from values.js).
    [[s.logX, fig.xaxis], [s.logY, fig.yaxis]].forEach(function (pair) {
      if (!pair[0]) return;
      var set = function (ax) {
        ax.ticker = new B.LogTicker({ mantissas: [1, 2, 5], desired_num_ticks: 6 });
      };
      var axes = pair[1];
      if (axes && typeof axes.each === "function") axes.each(set);
      else if (Array.isArray(axes)) axes.forEach(set);
      else if (axes) set(axes);
    });
    var src = new B.ColumnDataSource({ data: data });
    var r = fig.scatter({ x: { field: "x" }, y: { field: "y" }, source: src, size: 8,
      fill_color: { field: "color" }, line_color: { field: "color" }, fill_alpha: { field: "alpha" }, line_alpha: { field: "alpha" } });
    fig.add_tools(new B.HoverTool({ renderers: [r], tooltips: [["run", "@name"], [this.label(s.x), "@x{0.[0000]}"], [this.label(s.y), "@y{0.[0000]}"]] }));
    src.selected.properties.indices.change.connect(function () {
      var idx = src.selected.indices;
      if (idx && idx.length === 1 && src.data.url[idx[0]]) location.href = src.data.url[idx[0]];
    });
    this.source = src;
    this.updateNote(data);
    return B.Plotting.show(fig, this.plot).then(function (view) {
      self.view = view;
      self.area.setAttribute("data-ready", "1");
      return true;
    });
  };

  Params.prototype.updateNote = function (data) {
    var s = this.state;
    if (!data.x.length) {     // an empty frame alone reads as a broken chart
      this.note.textContent = "No run has both " + this.label(s.x) + " and " + this.label(s.y) +
        (s.logX || s.logY ? " (above 0, for a log axis)" : "") + "; choose other keys above.";
      return;
    }
    var on = data.on.filter(function (v) { return v; }).length;
    this.note.textContent = data.x.length + " of " + this.total + " runs have both values" +
      (on < data.x.length ? " (" + on + " shown in the table, the rest faint)" : "") + "; click a point to open its run.";
  };

  Params.prototype.recolor = function () {
    if (!this.source) return;
    var data = this.data();
    this.source.data = data;
    this.updateNote(data);
  };

  function init() {
    var section = document.getElementById("rp-params-section"), area = document.getElementById("rp-params");
    var api = window.RunpagesParams = { ready: false };
    if (!section || !area) return;
    var p = new Params(section, area);
    api.controller = p;
    api.start = function () { section.open = true; return p.start(); };
    api.points = function () {
      if (!p.source) return [];
      var d = p.source.data;
      return d.x.map(function (x, i) { return { key: d.key[i], x: x, y: d.y[i], url: d.url[i], on: d.on[i] }; });
    };
    api.set = function (o) {
      Object.keys(o).forEach(function (k) {
        p.state[k] = o[k];
        if (p.inputs && p.inputs[k]) { if (typeof o[k] === "boolean") p.inputs[k].checked = o[k]; else p.inputs[k].value = o[k]; }
      });
      p.drawn = p.draw();
      return p.drawn;
    };
    Object.defineProperty(api, "drawn", { get: function () { return p.drawn; } });
    Object.defineProperty(api, "source", { get: function () { return p.source; } });
    RunpagesSite.whenOpen(section, function () { p.start(); });
    api.ready = true;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
