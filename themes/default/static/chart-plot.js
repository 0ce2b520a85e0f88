/* runpages plot factory: one chart (a metric, or a system metric with every GPU overlaid) for
 * the runs of a controller. RunpagesCharts.makePlot(view, cell, key, isSystem, dark) → Promise
 * of the Bokeh view; it registers view.plots[plotKey] =
 *   {figure, view, renderers: {runKey: [GlyphRenderer]}, key, system, mode: "lines" | "multi",
 *    refill() → bool, highlight(runKey | null), refresh() (multi mode)}
 * `view` is the controller's side: {runs, state, plots, views, opts, setVisible, onHover}.
 *
 * Hook point: every function in RunpagesCharts.plotHooks is called as hook(ctx) once a chart's
 * lines are drawn, before it is shown, with ctx = {figure, plot, key, isSystem, mode, state,
 * lines: [{run, series, xs, ys, label}], onRefill(fn(lines))}; a hook adds its own glyphs (NaN
 * marks) and may register a refill callback. A hook that throws is logged and skipped.
 *
 * Legends are the run list beside the charts (chart-runlist.js), never drawn over the data.
 */
(function () {
  "use strict";
  var C = window.RunpagesCharts = window.RunpagesCharts || {};
  C.plotHooks = C.plotHooks || [];
  var MANY_RUNS = 30;   // above this, each chart draws all runs with one multi_line glyph
  var DASHES = ["solid", "dashed", "dotted", "dotdash", "dashdot"];
  var LINE_WIDTH = 1.6, HOT_WIDTH = 3.2, COLD_ALPHA = 0.25;

  /* The series a run contributes to one chart: one, or one per GPU on a gpu/*\/<name> chart. */
  function seriesOf(run, key, isSystem) {
    if (!isSystem) {
      var s = (run.metrics || {})[key];
      return s ? [{ series: s, gpu: null }] : [];
    }
    var system = run.system || {};
    var m = /^gpu\/\*\/(.+)$/.exec(key);
    if (!m) return system[key] ? [{ series: system[key], gpu: null }] : [];
    var out = [];
    Object.keys(system).forEach(function (k) {
      var g = C.gpuIndex(k);
      if (g !== null && k === "gpu/" + g + "/" + m[1]) out.push({ series: system[k], gpu: g });
    });
    return out.sort(function (a, b) { return a.gpu - b.gpu; });
  }

  /* One line's points: x, y (gaps for what the axes cannot show), marks for NaN and ±inf
   * (nonfinite.js). Null when the run lacks the x metric. */
  function points(run, series, mode, state) {
    var xs = C.xFor(run, series, mode);
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
        mx.push(x); my.push(C.nonfinite.markY(raw[j], lo, hi)); ys[j] = NaN; continue;
      }
      ys[j] = y;
    }
    return { series: series, xs: xs, ys: ys, lo: lo, hi: hi, marksX: mx, marksY: my };
  }

  /* Every line of the chart, in run order: {run, gpu, label, color, dash, series, xs, ys, ...}. */
  function linesFor(view, key, isSystem, mode) {
    var lines = [], runs = view.runs, gpus = {};
    runs.forEach(function (run) {
      seriesOf(run, key, isSystem).forEach(function (s) {
        var p = points(run, s.series, mode, view.state);
        if (!p) return;
        p.run = run; p.gpu = s.gpu;
        if (s.gpu !== null) gpus[s.gpu] = 1;
        lines.push(p);
      });
    });
    var palette = C.rules.palette;
    var oneRunManyGpus = runs.length === 1 && Object.keys(gpus).length > 1;
    lines.forEach(function (l) {
      var gpu = l.gpu;
      l.label = l.run.name + (gpu !== null ? " · GPU " + gpu : "");
      /* One run: a colour per GPU. Several runs: the run's colour, a dash per GPU. */
      l.color = oneRunManyGpus ? palette[gpu % palette.length] : (l.run.color || palette[0]);
      l.dash = oneRunManyGpus || gpu === null ? "solid" : DASHES[gpu % DASHES.length];
    });
    return lines;
  }

  function lineData(l, state) {
    var names = new Array(l.xs.length);
    for (var n = 0; n < l.xs.length; n++) names[n] = l.label;
    return { x: l.xs, y: state.smooth > 0 ? C.ema(l.ys, state.smooth) : l.ys, raw: l.ys,
             step: l.series.step || l.xs, run: names };
  }

  /* A small caption for a GPU chart saying which line is which GPU; null for one GPU. */
  function gpuCaption(lines) {
    var seen = {}, el = RunpagesSite.el, cap = el("p", { "class": "rp-chart-caption small muted" }), n = 0;
    lines.forEach(function (l) {
      if (l.gpu === null || seen[l.gpu]) return;
      seen[l.gpu] = 1; n++;
      var item = el("span", { "class": "rp-gpu-key" });
      var mark = el("span", { "class": "rp-gpu-mark", "aria-hidden": "true" });
      mark.style.borderTopColor = l.color;
      mark.style.borderTopStyle = l.dash === "solid" ? "solid" : l.dash === "dotted" ? "dotted" : "dashed";
      item.appendChild(mark);
      item.appendChild(document.createTextNode("GPU " + l.gpu));
      cap.appendChild(item);
    });
    return n > 1 ? cap : null;
  }

  function runHooks(ctx) {
    C.plotHooks.forEach(function (hook) {
      try { hook(ctx); } catch (e) { console.error(e); }
    });
  }

  function makePlot(view, cell, key, isSystem, darkMode) {
    var B = window.Bokeh, P = B.Plotting, state = view.state;
    var mode = C.effectiveMode(state.x, isSystem);
    var fig = C.figure({
      height: 240,
      x_axis_type: state.logX && mode !== "time" ? "log" : (mode === "time" ? "datetime" : "linear"),
      y_axis_type: state.logY ? "log" : "linear",
      title: isSystem ? C.systemTitle(key) : key,
      x_axis_label: C.xAxisLabel(mode)
    }, darkMode);
    var plotKey = (isSystem ? "system:" : "") + key;
    C.nonfinite.note(cell, view.runs, key, isSystem);   // "12 NaN steps from step 300"
    var plot = { figure: fig, view: null, renderers: {}, key: key, system: !!isSystem, mode: "lines" };
    var many = view.runs.length > MANY_RUNS, smooth = state.smooth > 0;
    var lines = linesFor(view, key, isSystem, mode);
    var hoverable = [], sources = [], owner = {}, mains = {};   // owner[renderer id] = run key
    var bounds = function (ls) {
      var lo = Infinity, hi = -Infinity, mx = [], my = [], mr = [];
      ls.forEach(function (l) {
        if (l.lo < lo) lo = l.lo;
        if (l.hi > hi) hi = l.hi;
        for (var m = 0; m < l.marksX.length; m++) { mx.push(l.marksX[m]); my.push(l.marksY[m]); mr.push(l.label); }
      });
      return { lo: lo, hi: hi, marks: { x: mx, y: my, run: mr, step: mx } };
    };
    var b = bounds(lines);
    var refillHooks = [];

    if (many) {
      /* Hundreds of runs: one multi_line glyph per chart (a renderer per run would take
       * BokehJS minutes); hiding a run filters the data. renderers[key] holds a stand-in
       * with a `visible` property so callers see the same shape as in the per-run mode. */
      var msrcData = function () {
        var d = { xs: [], ys: [], raw: [], color: [], run: [], key: [] };
        lines.forEach(function (l) {
          if (state.hidden[l.run.key]) return;
          d.xs.push(l.xs); d.ys.push(smooth ? C.ema(l.ys, state.smooth) : l.ys); d.raw.push(l.ys);
          d.color.push(l.color); d.run.push(l.label); d.key.push(l.run.key);
        });
        return d;
      };
      var lineSrc = new B.ColumnDataSource({ data: msrcData() });
      if (smooth) fig.multi_line({ xs: { field: "xs" }, ys: { field: "raw" }, source: lineSrc, line_color: { field: "color" }, line_width: 1, line_alpha: 0.15 });
      var ml = fig.multi_line({ xs: { field: "xs" }, ys: { field: "ys" }, source: lineSrc, line_color: { field: "color" }, line_width: 1.2, line_alpha: 0.7,
        hover_line_alpha: 1, hover_line_width: 2.5 });
      hoverable.push(ml);
      var hotSrc = new B.ColumnDataSource({ data: { xs: [], ys: [], color: [] } });
      fig.multi_line({ xs: { field: "xs" }, ys: { field: "ys" }, source: hotSrc, line_color: { field: "color" }, line_width: HOT_WIDTH });
      plot.mode = "multi";
      plot.refresh = function () { lineSrc.data = msrcData(); };
      plot.highlight = function (runKey) {
        var d = { xs: [], ys: [], color: [] };
        lines.forEach(function (l) {
          if (l.run.key !== runKey || state.hidden[runKey]) return;
          d.xs.push(l.xs); d.ys.push(smooth ? C.ema(l.ys, state.smooth) : l.ys); d.color.push(l.color);
        });
        hotSrc.data = d;
      };
      lines.forEach(function (l) {
        if (plot.renderers[l.run.key]) return;
        var proxy = {};
        Object.defineProperty(proxy, "visible", {
          get: function () { return !state.hidden[l.run.key]; },
          set: function (v) { if (!!v === !state.hidden[l.run.key]) return; view.setVisible(l.run.key, !!v, true); }
        });
        plot.renderers[l.run.key] = [proxy];
      });
    } else {
      lines.forEach(function (l) {
        var run = l.run, src = new B.ColumnDataSource({ data: lineData(l, state) });
        sources.push(src);
        var rs = plot.renderers[run.key] || (plot.renderers[run.key] = []);
        var style = { x: { field: "x" }, source: src, line_color: l.color, line_dash: l.dash };
        if (smooth) rs.push(fig.line(Object.assign({ y: { field: "raw" }, line_width: 1, line_alpha: 0.22 }, style)));
        var main = fig.line(Object.assign({ y: { field: "y" }, line_width: LINE_WIDTH }, style));
        rs.push(main);
        (mains[run.key] = mains[run.key] || []).push(main);
        hoverable.push(main);
        owner[main.id] = run.key;
        if (state.hidden[run.key]) rs.forEach(function (r) { r.visible = false; });
        main.properties.visible.change.connect(function () {
          if (!!state.hidden[run.key] === !main.visible) return;
          view.setVisible(run.key, main.visible, true);
        });
      });
      plot.highlight = function (runKey) {
        Object.keys(mains).forEach(function (k) {
          var width = runKey === k ? HOT_WIDTH : LINE_WIDTH, alpha = runKey === null || runKey === k ? 1 : COLD_ALPHA;
          mains[k].forEach(function (r) { r.glyph.setv({ line_width: width, line_alpha: alpha }); });
        });
      };
    }

    var constant = b.lo === b.hi && isFinite(b.lo);
    /* Percent system metrics run 0-100 (a process may use more than one core: then up to its peak). */
    var pctEnd = isSystem && !state.logY && /_pct$/.test(key) ? (isFinite(b.hi) && b.hi > 100 ? b.hi * 1.05 : 100) : null;
    if (pctEnd !== null) fig.y_range = new B.Range1d({ start: 0, end: pctEnd });
    else if (constant) {
      /* A constant series: Bokeh would pad it by ±1; show a narrow band around the value. */
      var pad = Math.abs(b.lo) * 0.05 || 1;
      if (state.logY) fig.y_range = new B.Range1d({ start: b.lo / 1.2, end: b.lo * 1.2 });
      else fig.y_range = new B.Range1d({ start: b.lo - pad, end: b.lo + pad });
    }
    var marksSrc = null;
    if (b.marks.x.length) {
      marksSrc = new B.ColumnDataSource({ data: b.marks });
      fig.scatter({ x: { field: "x" }, y: { field: "y" }, source: marksSrc, marker: "x", size: 9, line_color: C.rules.markColor, line_width: 2 });
    }
    runHooks({ figure: fig, plot: plot, key: key, isSystem: !!isSystem, mode: mode, state: state, lines: lines,
               onRefill: function (fn) { refillHooks.push(fn); } });

    /* New data for the same runs: replace each source's data (ranges the reader moved stay);
     * false when the chart must be redrawn instead (a run gained or lost this series, the
     * series became or stopped being constant, non-finite marks appeared or went). */
    plot.refill = function () {
      var fresh = linesFor(view, key, isSystem, mode), nb = bounds(fresh);
      var ids = function (ls) { return ls.map(function (l) { return l.run.key + "#" + l.gpu; }).join("\n"); };
      if (ids(fresh) !== ids(lines)) return false;
      if ((nb.lo === nb.hi && isFinite(nb.lo)) !== constant || (constant && nb.lo !== b.lo)) return false;
      if (pctEnd !== null && nb.hi > pctEnd) return false;
      if (!!nb.marks.x.length !== !!marksSrc) return false;
      lines = fresh;
      if (many) plot.refresh();
      else fresh.forEach(function (l, i) { sources[i].data = lineData(l, state); });
      if (marksSrc) marksSrc.data = nb.marks;
      C.nonfinite.note(cell, view.runs, key, isSystem);
      refillHooks.forEach(function (fn) { try { fn(fresh); } catch (e) { console.error(e); } });
      return true;
    };

    var label = C.xAxisLabel(mode), xFmt = mode === "time" ? "@x{%F %T}" : "@x{0,0.[000]}";
    if (many) {
      fig.add_tools(new B.HoverTool({ renderers: hoverable, line_policy: "nearest",
        tooltips: [["run", "@run"], [label, mode === "time" ? "$x{%F %T}" : "$x{0,0.[000]}"], ["value", "$y{0.[0000]}"]],
        formatters: mode === "time" ? { "$x": "datetime" } : {} }));
    } else {
      var hover = new B.HoverTool({
        renderers: hoverable, mode: "vline", line_policy: "nearest", point_policy: "snap_to_data",
        tooltips: [["run", "@run"], ["step", "@step{0,0}"], [label, xFmt], ["value", "@y{0.[0000]}"]],
        formatters: mode === "time" ? { "@x": "datetime" } : {}
      });
      if (isSystem || state.x === "step") hover.tooltips = [["run", "@run"], [label, xFmt], ["value", "@y{0.[0000]}"]];
      fig.add_tools(hover);
    }
    if (view.runs.length > 1 && hoverable.length) addLineHover(B, fig, hoverable, owner, view);
    view.plots[plotKey] = plot;
    var caption = isSystem ? gpuCaption(lines) : null;
    return P.show(fig, cell).then(function (bv) {
      plot.view = bv; view.views.push(bv);
      if (caption) cell.appendChild(caption);     // under the figure
      return bv;
    });
  }

  /* The pointer near a line highlights that run on every chart of the page (view.onHover). */
  function addLineHover(B, fig, renderers, owner, view) {
    var hot = null;
    var tool = new B.HoverTool({ renderers: renderers, mode: "mouse", line_policy: "nearest", tooltips: null,
                                 description: "Highlight the run under the pointer" });
    if ("visible" in tool) tool.visible = false;           // no second hover button in the toolbar
    tool.callback = function (_tool, data) {
      var r = data && data.renderer, idx = data && data.index;
      if (!r || !idx) return;
      var key = null;
      if (r.glyph.type === "MultiLine") {
        if (idx.indices && idx.indices.length) key = r.data_source.data.key[idx.indices[0]];
      } else if ((idx.line_indices && idx.line_indices.length) || (idx.indices && idx.indices.length)) {
        key = owner[r.id] || null;
      }
      if (key !== null) { hot = r.id; view.onHover(key); }
      else if (hot === r.id) { hot = null; view.onHover(null); }
    };
    fig.add_tools(tool);
  }

  C.makePlot = makePlot;
  C.linePoints = points;     // chart-zoom.js redraws a line from finer points the same way
  C.MANY_RUNS = MANY_RUNS;
})();
