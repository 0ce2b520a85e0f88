/* runpages: parallel coordinates across the runs of a project, drawn by hand on a canvas.
 *
 * One vertical axis per chosen column (numeric config keys and summary values; text config
 * values become evenly spaced categories); one line per run. Drag along an axis to brush a
 * range; brushes on several axes combine (AND); a click on an axis without dragging clears its
 * brush. The runs inside every brush are what the runs table shows: the table gets them as a
 * key filter ("parcoords"), and its text filter still applies on top. Runs the text filter
 * hides are not drawn. Values come from the runs table (RunpagesTable.rows()).
 *
 * Axes whose positive values span a factor of 25 or more (learning rates) are logarithmic.
 * Hooks: window.RunpagesParcoords = {ready, axes() ([{key, label, log, cat}]), setAxes(keys),
 * brush(key, lo, hi) (in data units; null clears), clear(), brushedKeys(), axisX(key),
 * valueY(key, value) (canvas CSS pixels, for tests)}.
 */
(function () {
  "use strict";

  var HEIGHT = 300, PAD_TOP = 34, PAD_BOTTOM = 26, PAD_SIDE = 70, MAX_DEFAULT_AXES = 6, HIT = 14;

  var el = RunpagesSite.el;

  function num(v) {
    var q = window.RunpagesQuery;
    var n = q ? q.toNumber(v) : Number(v);
    return n === null || !isFinite(n) ? null : n;
  }

  var fmt = window.Runpages.values.formatNumber;   // axis ends are data values, shown as every value is

  function cssVar(name, fallback) {
    var v = getComputedStyle(document.documentElement).getPropertyValue(name);
    return v && v.trim() ? v.trim() : fallback;
  }

  function PC(area) {
    this.area = area;
    this.axes = [];
    this.brushes = {};
    this.started = false;
  }

  PC.prototype.start = function () {
    if (this.started) return;
    var api = window.RunpagesTable;
    if (!api || !api.rows) return;
    this.started = true;
    var self = this;
    this.rows = api.rows();
    var cols = api.columns().filter(function (c) { return c.group === "config" || c.group === "summary"; });
    this.candidates = [];
    cols.forEach(function (c) {
      var ax = self.makeAxis(c);
      if (ax) self.candidates.push(ax);
    });
    var metric = this.area.getAttribute("data-metric");
    var varying = this.candidates.filter(function (a) { return a.group === "config" && a.varies; });
    var chosen = varying.slice(0, MAX_DEFAULT_AXES - 1);
    var main = this.candidates.filter(function (a) { return a.group === "summary" && a.label === metric; })[0] ||
      this.candidates.filter(function (a) { return a.group === "summary" && !a.cat; })[0];
    if (main) chosen.push(main);
    this.axes = chosen;
    this.build();
    var timer = null;
    document.addEventListener("rp-table-change", function () {
      clearTimeout(timer);
      timer = setTimeout(function () { self.rows = window.RunpagesTable.rows(); self.draw(); }, 30);
    });
  };

  /* An axis for column c: numeric (linear or log) or categorical; null when nothing to show. */
  PC.prototype.makeAxis = function (c) {
    var values = [], texts = {}, nums = 0, present = 0;
    for (var i = 0; i < this.rows.length; i++) {
      var v = this.rows[i].values[c.key];
      if (v === null || v === undefined || v === "") { values.push(null); continue; }
      present++;
      var n = c.type === "num" ? num(v) : null;
      if (n !== null) { nums++; values.push(n); } else { texts[String(v)] = 1; values.push(String(v)); }
    }
    if (!present) return null;
    var ax = { key: c.key, label: c.label, group: c.group, cat: c.type !== "num" };
    if (ax.cat) {
      var cats = Object.keys(texts).sort();
      if (cats.length > 30) return null;        // free text (notes, paths): not an axis
      ax.cats = cats;
      ax.varies = cats.length > 1;
      return ax;
    }
    var finite = values.filter(function (v) { return typeof v === "number"; });
    var lo = Math.min.apply(null, finite), hi = Math.max.apply(null, finite);
    ax.lo = lo; ax.hi = hi;
    ax.log = lo > 0 && hi / lo >= 25;
    ax.varies = hi > lo;
    return ax;
  };

  PC.prototype.build = function () {
    var self = this, area = this.area;
    area.textContent = "";
    area.appendChild(el("h3", { "class": "rp-pc-title" }, "Parallel coordinates"));
    var bar = el("div", { "class": "rp-controls rp-pc-controls" });
    var menu = el("details", { "class": "rp-menu" });
    menu.appendChild(el("summary", {}, "Axes"));
    var body = el("div", { "class": "rp-menu-body" });
    this.candidates.forEach(function (a) {
      var lab = el("label");
      var b = el("input", { type: "checkbox", "data-key": a.key });
      b.checked = self.axes.indexOf(a) >= 0;
      b.addEventListener("change", function () {
        var keys = self.axes.map(function (x) { return x.key; });
        if (b.checked) keys.push(a.key); else keys = keys.filter(function (k) { return k !== a.key; });
        self.setAxes(keys);
      });
      lab.appendChild(b);
      lab.appendChild(document.createTextNode(" " + a.group + ": " + a.label));
      body.appendChild(lab);
    });
    menu.appendChild(body);
    bar.appendChild(menu);
    var clear = el("button", { type: "button", "class": "rp-pc-clear" }, "Clear brushes");
    clear.addEventListener("click", function () { self.clear(); });
    bar.appendChild(clear);
    this.status = el("span", { "class": "muted rp-pc-status", role: "status" });
    bar.appendChild(this.status);
    area.appendChild(bar);
    this.canvas = el("canvas", { "class": "rp-pc-canvas", "aria-label": "parallel coordinates: drag along an axis to filter the runs" });
    this.canvas.style.width = "100%";
    this.canvas.style.height = HEIGHT + "px";
    area.appendChild(this.canvas);
    area.appendChild(el("p", { "class": "muted small" }, "Drag along an axis to keep only the runs in that range (in the table too); click an axis to clear its range."));
    this.listen();
    window.addEventListener("resize", function () { self.draw(); });
    this.draw();
    area.setAttribute("data-ready", "1");
  };

  PC.prototype.setAxes = function (keys) {
    var byKey = {};
    this.candidates.forEach(function (a) { byKey[a.key] = a; });
    this.axes = keys.filter(function (k) { return byKey[k]; }).map(function (k) { return byKey[k]; });
    var self = this;
    Object.keys(this.brushes).forEach(function (k) { if (keys.indexOf(k) < 0) delete self.brushes[k]; });
    var boxes = this.area.querySelectorAll("input[data-key]");
    for (var i = 0; i < boxes.length; i++) boxes[i].checked = keys.indexOf(boxes[i].getAttribute("data-key")) >= 0;
    this.apply();
  };

  /* ---- geometry ---- */

  PC.prototype.width = function () { return this.canvas.clientWidth || 800; };

  PC.prototype.axisX = function (i) {
    var n = this.axes.length, w = this.width();
    return n <= 1 ? w / 2 : PAD_SIDE + (w - 2 * PAD_SIDE) * i / (n - 1);
  };

  PC.prototype.frac = function (ax, v) {
    /* 0 (bottom) .. 1 (top), or null for a missing value. */
    if (v === null || v === undefined || v === "") return null;
    if (ax.cat) {
      var i = ax.cats.indexOf(String(v));
      return i < 0 ? null : ax.cats.length === 1 ? 0.5 : i / (ax.cats.length - 1);
    }
    var n = num(v);
    if (n === null) return null;
    if (ax.hi === ax.lo) return 0.5;
    if (ax.log) return n <= 0 ? null : (Math.log(n) - Math.log(ax.lo)) / (Math.log(ax.hi) - Math.log(ax.lo));
    return (n - ax.lo) / (ax.hi - ax.lo);
  };

  PC.prototype.yOf = function (f) { return PAD_TOP + (1 - f) * (HEIGHT - PAD_TOP - PAD_BOTTOM); };
  PC.prototype.fOf = function (y) { return 1 - (y - PAD_TOP) / (HEIGHT - PAD_TOP - PAD_BOTTOM); };

  /* ---- brushing ---- */

  PC.prototype.inBrushes = function (row) {
    for (var k in this.brushes) {
      if (!Object.prototype.hasOwnProperty.call(this.brushes, k)) continue;
      var b = this.brushes[k], ax = this.axisByKey(k);
      if (!ax) continue;
      var f = this.frac(ax, row.values[k]);
      if (f === null || f < b[0] - 1e-9 || f > b[1] + 1e-9) return false;
    }
    return true;
  };

  PC.prototype.axisByKey = function (key) {
    for (var i = 0; i < this.axes.length; i++) if (this.axes[i].key === key) return this.axes[i];
    return null;
  };

  PC.prototype.apply = function () {
    var self = this, table = window.RunpagesTable;
    var any = Object.keys(this.brushes).length > 0;
    if (table && table.setKeyFilter) {
      table.setKeyFilter("parcoords", any ? this.rows.filter(function (r) { return self.inBrushes(r); }).map(function (r) { return r.key; }) : null);
      this.rows = table.rows();
    }
    this.draw();
  };

  PC.prototype.brushedKeys = function () {
    var self = this;
    return this.rows.filter(function (r) { return r.queryOk && self.inBrushes(r); }).map(function (r) { return r.key; });
  };

  PC.prototype.listen = function () {
    var self = this, drag = null;
    function pos(ev) {
      var r = self.canvas.getBoundingClientRect();
      return { x: ev.clientX - r.left, y: ev.clientY - r.top };
    }
    function clampF(y) { return Math.max(0, Math.min(1, self.fOf(y))); }
    this.canvas.addEventListener("mousedown", function (ev) {
      var p = pos(ev), best = -1, dist = HIT;
      for (var i = 0; i < self.axes.length; i++) {
        var d = Math.abs(self.axisX(i) - p.x);
        if (d <= dist) { dist = d; best = i; }
      }
      if (best < 0) return;
      ev.preventDefault();
      drag = { key: self.axes[best].key, y0: p.y, moved: false };
    });
    window.addEventListener("mousemove", function (ev) {
      if (!drag) return;
      var p = pos(ev);
      if (Math.abs(p.y - drag.y0) < 3 && !drag.moved) return;
      drag.moved = true;
      var a = clampF(drag.y0), b = clampF(p.y);
      self.brushes[drag.key] = [Math.min(a, b), Math.max(a, b)];
      self.draw();
    });
    window.addEventListener("mouseup", function () {
      if (!drag) return;
      if (!drag.moved) delete self.brushes[drag.key];
      drag = null;
      self.apply();
    });
  };

  PC.prototype.clear = function () { this.brushes = {}; this.apply(); };

  /* ---- drawing ---- */

  PC.prototype.draw = function () {
    var canvas = this.canvas;
    if (!canvas) return;
    var w = this.width(), dpr = window.devicePixelRatio || 1;
    canvas.width = Math.round(w * dpr);
    canvas.height = Math.round(HEIGHT * dpr);
    var ctx = canvas.getContext("2d");
    ctx.setTransform(dpr, 0, 0, dpr, 0, 0);
    ctx.clearRect(0, 0, w, HEIGHT);
    var text = cssVar("--text", "#1f2430"), muted = cssVar("--muted", "#6b7280"), grid = cssVar("--border", "#e3e6eb");
    var axes = this.axes, self = this;
    if (!axes.length) {
      ctx.fillStyle = muted;
      ctx.font = "13px system-ui, sans-serif";
      ctx.fillText("Choose axes in the menu.", 12, 24);
      this.status.textContent = "";
      return;
    }
    var xs = axes.map(function (a, i) { return self.axisX(i); });
    var last = axes[axes.length - 1];
    var drawn = 0, kept = 0, lines = [];
    for (var r = 0; r < this.rows.length; r++) {
      var row = this.rows[r];
      if (!row.queryOk) continue;
      var fs = axes.map(function (a) { return self.frac(a, row.values[a.key]); });
      lines.push({ fs: fs, on: this.inBrushes(row), c: this.frac(last, row.values[last.key]) });
    }
    ctx.lineWidth = 1;
    function path(fs) {
      ctx.beginPath();
      var open = false;
      for (var i = 0; i < fs.length; i++) {
        if (fs[i] === null) { open = false; continue; }
        var y = self.yOf(fs[i]);
        if (open) ctx.lineTo(xs[i], y); else ctx.moveTo(xs[i], y);
        open = true;
      }
      ctx.stroke();
    }
    ctx.strokeStyle = grid;
    ctx.globalAlpha = 0.7;
    lines.forEach(function (l) { if (!l.on) { path(l.fs); drawn++; } });
    ctx.globalAlpha = lines.length > 300 ? 0.35 : 0.75;
    lines.forEach(function (l) {
      if (!l.on) return;
      var c = l.c === null ? 0.5 : l.c;         // colour by the last axis: blue (low) to orange (high)
      ctx.strokeStyle = "rgb(" + Math.round(0 + 230 * c) + "," + Math.round(114 + 45 * c) + "," + Math.round(178 - 178 * c) + ")";
      path(l.fs);
      drawn++; kept++;
    });
    ctx.globalAlpha = 1;
    ctx.font = "11px system-ui, sans-serif";
    axes.forEach(function (a, i) {
      var x = xs[i];
      ctx.strokeStyle = muted;
      ctx.lineWidth = 1;
      ctx.beginPath(); ctx.moveTo(x, self.yOf(1)); ctx.lineTo(x, self.yOf(0)); ctx.stroke();
      ctx.fillStyle = text;
      ctx.textAlign = i === 0 ? "left" : i === axes.length - 1 ? "right" : "center";
      var label = a.label.length > 24 ? a.label.slice(0, 23) + "\u2026" : a.label;
      ctx.fillText(label + (a.log ? " (log)" : ""), i === 0 ? Math.max(2, x - 30) : i === axes.length - 1 ? Math.min(w - 2, x + 30) : x, 14);
      ctx.fillStyle = muted;
      ctx.textAlign = "right";
      var ticks = a.cat ? a.cats.map(function (c, j) { return [a.cats.length === 1 ? 0.5 : j / (a.cats.length - 1), c.length > 12 ? c.slice(0, 11) + "\u2026" : c]; })
        : [[0, fmt(a.lo)], [1, fmt(a.hi)]];
      if (a.cat && ticks.length > 8) ticks = [ticks[0], ticks[ticks.length - 1]];
      ticks.forEach(function (t) { ctx.fillText(t[1], x - 4, self.yOf(t[0]) + 4); });
      var b = self.brushes[a.key];
      if (b) {
        ctx.fillStyle = "rgba(11, 99, 197, 0.22)";
        ctx.strokeStyle = "#0b63c5";
        var y1 = self.yOf(b[1]), y0 = self.yOf(b[0]);
        ctx.fillRect(x - 7, y1, 14, Math.max(2, y0 - y1));
        ctx.strokeRect(x - 7, y1, 14, Math.max(2, y0 - y1));
      }
    });
    var any = Object.keys(this.brushes).length > 0;
    this.status.textContent = any ? kept + " of " + lines.length + " runs in the brushed ranges" : lines.length + " runs";
    this.lastDrawn = drawn;
  };

  function init() {
    var area = document.getElementById("rp-parcoords"), section = document.getElementById("rp-params-section");
    var api = window.RunpagesParcoords = { ready: false };
    if (!area || !section) return;
    var pc = new PC(area);
    api.controller = pc;
    api.start = function () { section.open = true; pc.start(); return pc.started; };
    api.axes = function () { return pc.axes.map(function (a) { return { key: a.key, label: a.label, log: !!a.log, cat: !!a.cat }; }); };
    api.setAxes = function (keys) { pc.setAxes(keys); };
    api.brush = function (key, lo, hi) {
      var ax = pc.axisByKey(key);
      if (!ax) return false;
      if (lo === null || lo === undefined) delete pc.brushes[key];
      else {
        var a = pc.frac(ax, lo), b = pc.frac(ax, hi);
        pc.brushes[key] = [Math.min(a, b), Math.max(a, b)];
      }
      pc.apply();
      return true;
    };
    api.clear = function () { pc.clear(); };
    api.brushedKeys = function () { return pc.brushedKeys(); };
    api.axisX = function (key) {
      for (var i = 0; i < pc.axes.length; i++) if (pc.axes[i].key === key) return pc.axisX(i);
      return null;
    };
    api.valueY = function (key, value) { var ax = pc.axisByKey(key); return ax ? pc.yOf(pc.frac(ax, value)) : null; };
    RunpagesSite.whenOpen(section, function () { pc.start(); });
    api.ready = true;
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
