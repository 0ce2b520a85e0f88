/* runpages detail on zoom: a long run's charts first draw its overview (~2,000 min/max points
 * per series); zooming into a window loads a finer level for that window, down to every point.
 *
 * Levels are tile scripts next to the run's data script (sitegen/zoom_levels.py), loaded with
 * <script src> so it works from file://:
 *   data/runs/<key>/z/<level>/<tile>.js    RunpagesData.addTile({level, tile, rows?, keys})
 * run.zoom = {base, unit, levels: [{level, width, span, ranges: [[first, last], ...]}]}, level 0
 * holding every point. A window gets the coarsest level with at least MIN_BUCKETS buckets in
 * it, once the overview has fewer; a wider window goes back to the overview. Points outside
 * the loaded tiles stay the overview's, so the line is whole at every zoom.
 * Pure parts (plan, seriesIn, merge) are RunpagesCharts.zoom.*; hook() is a plotHooks entry.
 * Only per-run line charts of metrics take part, with step or time on x (not system charts, not
 * the many-runs mode, not a metric on x).
 */
(function () {
  "use strict";
  var C = window.RunpagesCharts = window.RunpagesCharts || {};
  var MIN_BUCKETS = 500, OVERVIEW_BUCKETS = 1000, MAX_TILES = 8, WAIT_MS = 120;
  var tiles = {};             // url -> {data, done: bool, waiters: [fn]}

  if (window.RunpagesData) {
    window.RunpagesData.addTile = function (payload) {
      var el = document.currentScript, url = el && el.getAttribute("data-tile");
      if (url && tiles[url]) tiles[url].data = payload;
    };
  }

  function loadTile(url, done) {
    var t = tiles[url];
    if (t && t.done) { done(t.data); return; }
    if (t) { t.waiters.push(done); return; }
    t = tiles[url] = { data: null, done: false, waiters: [done] };
    var s = document.createElement("script");
    s.src = url;
    s.async = true;
    s.setAttribute("data-tile", url);
    var fire = function () { t.done = true; var w = t.waiters; t.waiters = []; w.forEach(function (f) { f(t.data); }); };
    s.onload = fire;
    s.onerror = fire;
    document.head.appendChild(s);
  }

  /* One metric's {step, y} in a tile (null when the tile has none of it). */
  function seriesIn(tile, key) {
    var k = tile && tile.keys && Object.prototype.hasOwnProperty.call(tile.keys, key) ? tile.keys[key] : null;
    if (!k) return null;
    return { step: C.unpack(k.s === null ? tile.rows : k.s), y: C.unpack(k.y) };
  }

  function hasTile(level, t) {
    return (level.ranges || []).some(function (r) { return t >= r[0] && t <= r[1]; });
  }

  /* Which level and tiles a step window [lo, hi] needs: null when the overview shows it well
   * enough (span: the steps the whole series covers). */
  function plan(zoom, lo, hi, span) {
    var width = hi - lo;
    if (!zoom || !(width > 0) || !zoom.levels || !zoom.levels.length) return null;
    if (span > 0 && width / (span / OVERVIEW_BUCKETS) >= MIN_BUCKETS) return null;
    var levels = zoom.levels.slice().sort(function (a, b) { return a.level - b.level; });
    var pick = levels[0];
    for (var i = levels.length - 1; i >= 0; i--) {
      if (width / levels[i].width >= MIN_BUCKETS) { pick = levels[i]; break; }
    }
    var first = Math.max(0, Math.floor(lo / pick.span)), last = Math.floor(hi / pick.span);
    if (last - first + 1 > MAX_TILES) return null;
    var want = [];
    for (var t = first; t <= last; t++) if (hasTile(pick, t)) want.push(t);
    return { level: pick.level, span: pick.span, first: first, last: last, tiles: want };
  }

  /* The overview's points outside [from, to), the finer ones inside: one {step, y} by step. */
  function merge(coarse, fine, from, to) {
    var step = [], y = [], i;
    for (i = 0; i < coarse.step.length && coarse.step[i] < from; i++) { step.push(coarse.step[i]); y.push(coarse.y[i]); }
    fine.forEach(function (f) { for (var j = 0; j < f.step.length; j++) { step.push(f.step[j]); y.push(f.y[j]); } });
    for (; i < coarse.step.length; i++) if (coarse.step[i] >= to) { step.push(coarse.step[i]); y.push(coarse.y[i]); }
    return { step: step, y: y };
  }

  /* Wall times for merged steps: from the tiles' own _time points where they have them, else
   * from the run's step map (as RunpagesCharts.expand does for the overview). */
  function timesFor(run, steps, timeSeries) {
    if (timeSeries && timeSeries.step.length > 1) return C.interp(steps, timeSeries.step, timeSeries.y);
    var sm = run.steps || { step: [], t: [] }, t0 = typeof run.t0 === "number" ? run.t0 : 0;
    return C.interp(steps, sm.step, sm.t.map(function (t) { return t + t0; }));
  }

  /* x window of a chart -> step window, through the overview line (its x rises with step). */
  function stepWindow(line, mode, x0, x1) {
    if (mode === "step") return [x0, x1];
    var xs = line.xs, st = line.series.step, ok = [], os = [];
    for (var i = 0; i < xs.length; i++) if (isFinite(xs[i])) { ok.push(xs[i]); os.push(st[i]); }
    if (ok.length < 2) return null;
    var w = C.interp([x0, x1], ok, os);
    return [Math.floor(w[0]), Math.ceil(w[1])];
  }

  function hook(ctx) {
    /* x by another metric need not rise with step: no window of steps to load there */
    if (ctx.isSystem || ctx.plot.mode !== "lines" || ctx.mode.indexOf("m:") === 0) return;
    var fig = ctx.figure, plot = ctx.plot, state = ctx.state, B = window.Bokeh;
    var lines = ctx.lines.filter(function (l) { return l.run.zoom && l.run.zoom.levels && l.run.zoom.levels.length; });
    if (!lines.length) return;
    var marks = new B.ColumnDataSource({ data: { x: [], y: [], run: [], step: [] } });
    fig.scatter({ x: { field: "x" }, y: { field: "y" }, source: marks, marker: "x", size: 9,
                  line_color: C.rules.markColor, line_width: 2 });
    var timer = null, epoch = 0;
    plot.zoomLevel = null;

    function sourceOf(l) {
      var rs = plot.renderers[l.run.key] || [];
      var r = rs[rs.length - 1];
      return r && r.data_source;
    }
    function draw(l, series) {
      var p = C.linePoints(l.run, series, ctx.mode, state), src = sourceOf(l);
      if (!p || !src) return null;
      var names = new Array(p.xs.length);
      for (var n = 0; n < names.length; n++) names[n] = l.label;
      src.data = { x: p.xs, y: state.smooth > 0 ? C.ema(p.ys, state.smooth) : p.ys, raw: p.ys,
                   step: series.step, run: names };
      return p;
    }
    function apply() {
      var mine = ++epoch, x0 = fig.x_range.start, x1 = fig.x_range.end, pending = 0, result = [];
      var finish = function () {
        if (mine !== epoch || pending > 0) return;
        var mx = [], my = [], mr = [], level = null;
        result.forEach(function (r) {
          var l = r.line, series = r.series;
          if (r.plan) level = r.plan.level;
          var p = draw(l, series);
          if (p && r.plan) {
            for (var m = 0; m < p.marksX.length; m++) { mx.push(p.marksX[m]); my.push(p.marksY[m]); mr.push(l.label); }
          }
        });
        marks.data = { x: mx, y: my, run: mr, step: mx };
        if (level !== null && "have_updated_interactively" in fig.x_range) fig.x_range.have_updated_interactively = true;
        plot.zoomLevel = level;
        if (plot.view && plot.view.el) plot.view.el.setAttribute("data-zoom-level", level === null ? "" : String(level));
      };
      lines.forEach(function (l) {
        var coarse = l.series, st = coarse.step;
        var span = st.length ? st[st.length - 1] - st[0] : 0;
        var w = stepWindow(l, ctx.mode, Math.min(x0, x1), Math.max(x0, x1));
        var pl = w ? plan(l.run.zoom, w[0], w[1], span) : null;
        var entry = { line: l, plan: pl, series: coarse };
        result.push(entry);
        if (!pl) return;
        var base = (window.RunpagesSite ? RunpagesSite.root() : "") + l.run.zoom.base + pl.level + "/";
        var got = {};
        pending++;
        var left = pl.tiles.length;
        var done = function () {
          var fine = [], times = { step: [], y: [] };
          pl.tiles.forEach(function (t) {
            var s = seriesIn(got[t], ctx.key), ts = seriesIn(got[t], "_time");
            if (s) fine.push(s);
            if (ts) { times.step = times.step.concat(ts.step); times.y = times.y.concat(ts.y); }
          });
          var merged = merge(coarse, fine, pl.first * pl.span, (pl.last + 1) * pl.span);
          merged.time = timesFor(l.run, merged.step, times);
          entry.series = merged;
          pending--;
          finish();
        };
        if (!left) { done(); return; }
        pl.tiles.forEach(function (t) {
          loadTile(base + t + ".js", function (data) { got[t] = data; if (--left === 0) done(); });
        });
      });
      finish();
    }
    function later() {
      if (timer) clearTimeout(timer);
      timer = setTimeout(function () { timer = null; apply(); }, WAIT_MS);
    }
    fig.x_range.properties.start.change.connect(later);
    fig.x_range.properties.end.change.connect(later);
    ctx.onRefill(function (fresh) {
      lines = fresh.filter(function (l) { return l.run.zoom && l.run.zoom.levels && l.run.zoom.levels.length; });
      if (plot.zoomLevel !== null) later();
    });
  }

  C.zoom = { plan: plan, merge: merge, seriesIn: seriesIn, hook: hook,
             MIN_BUCKETS: MIN_BUCKETS };
  C.plotHooks = C.plotHooks || [];
  C.plotHooks.push(hook);
})();
