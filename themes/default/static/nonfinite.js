/* runpages: NaN and ±inf on charts. A logged NaN or ±inf is a gap in the line, a mark at its
 * step and a short note with the chart ("12 NaN steps from step 300").
 *
 * Input: a metric series {step, y, nonfinite?} from sitegen/charts.py, where y holds NaN only
 * at steps the key was logged as NaN (steps where it was not logged are not in the series), and
 * nonfinite = {"NaN"|"inf"|"-inf": [steps, first step]} counted before downsampling.
 * Marks sit at the edge of the finite values: +inf at the top, NaN and -inf at the bottom (0
 * when a series has no finite value at all, so an all-NaN metric still gets a chart).
 * Group and report means leave a run out at a step where it logged a non-finite value (no line
 * is interpolated across it) and mark that step; the note says how many runs did.
 * Loaded after charts.js: RunpagesCharts.nonfinite = {markY, marks, noteText, note, counts,
 * gapSeries, drawMarks}. Pure functions apart from note() and drawMarks(); user text reaches
 * the page only through textContent.
 */
(function () {
  "use strict";
  var MAX_RUNS_NAMED = 3;
  var KINDS = ["NaN", "inf", "-inf"];
  var MARK_COLOR = window.RunpagesCharts.rules.markColor;   // chart-rules.js, from sitegen/chart_rules.py

  /* Where a mark of value v goes, given the finite range [lo, hi] of its chart. */
  function markY(v, lo, hi) {
    if (!(lo <= hi)) return 0;                         // no finite value: a baseline at 0
    return v === Infinity ? hi : lo;
  }

  /* The marks of one series: {x, y, kind} for every non-finite raw value with a usable x. */
  function marks(xs, raw, lo, hi) {
    var out = { x: [], y: [], kind: [] };
    for (var i = 0; i < raw.length; i++) {
      var v = raw[i];
      if (isFinite(v) || xs[i] === null || xs[i] === undefined || !isFinite(xs[i])) continue;
      out.x.push(xs[i]); out.y.push(markY(v, lo, hi));
      out.kind.push(v !== v ? "NaN" : (v > 0 ? "inf" : "-inf"));
    }
    return out;
  }

  function plural(n, word) { return n + " " + word + (n === 1 ? " step" : " steps"); }

  /* "12 NaN steps from step 300; 1 inf step at step 40" for one series' counts, "" for none. */
  function countsText(counts) {
    var parts = [];
    KINDS.forEach(function (k) {
      var c = counts && counts[k];
      if (!c || !c[0]) return;
      parts.push(plural(c[0], k) + (c[0] === 1 ? " at step " : " from step ") + c[1]);
    });
    return parts.join("; ");
  }

  /* The note for a chart: entries [{name, counts}] (one per run); run names are given when
   * the chart shows more than one run; at most MAX_RUNS_NAMED runs are spelled out. */
  function noteText(entries, manyRuns) {
    var hit = entries.filter(function (e) { return countsText(e.counts); });
    if (!hit.length) return "";
    if (!manyRuns) return countsText(hit[0].counts);
    var shown = hit.slice(0, MAX_RUNS_NAMED).map(function (e) { return e.name + ": " + countsText(e.counts); });
    var more = hit.length - shown.length;
    if (more > 0) shown.push("and " + more + " more run" + (more === 1 ? "" : "s") + " with NaN/inf");
    return shown.join(" \u00b7 ");
  }

  /* The counts of one run's series of metric key (null when it has none). */
  function counts(run, key, isSystem) {
    if (isSystem) return null;
    var s = (run.metrics || {})[key];
    return s && s.nonfinite ? s.nonfinite : null;
  }

  /* Write (or clear) the note of a chart cell for the given runs' series of key. */
  function note(cell, runs, key, isSystem) {
    if (!cell) return "";
    var entries = runs.map(function (r) { return { name: r.name || r.id || "", counts: counts(r, key, isSystem) }; });
    var withSeries = runs.filter(function (r) { return ((isSystem ? r.system : r.metrics) || {})[key]; }).length;
    var text = noteText(entries, withSeries > 1);
    var p = cell.querySelector(":scope > .rp-nonfinite-note");
    if (!text) { if (p) p.parentNode.removeChild(p); return ""; }
    if (!p) {
      p = document.createElement("p");
      p.className = "rp-nonfinite-note";
      p.setAttribute("role", "note");
      cell.insertBefore(p, cell.firstChild);
    }
    p.textContent = "\u26a0 " + text;
    return text;
  }

  /* A series for a mean over runs: every step kept, non-finite values as NaN, so an
   * interpolation never bridges a NaN and the mean leaves the run out there. */
  function gapSeries(s) {
    var y = new Array(s.y.length);
    for (var i = 0; i < s.y.length; i++) y[i] = isFinite(s.y[i]) ? s.y[i] : NaN;
    return { step: s.step.slice(), y: y, raw: s.y };
  }

  /* Draw marks {x, y, label} on a Bokeh figure (report and group charts). */
  function drawMarks(fig, B, data) {
    if (!data.x.length) return null;
    var src = new B.ColumnDataSource({ data: data });
    return fig.scatter({ x: { field: "x" }, y: { field: "y" }, source: src, marker: "x", size: 9,
                         line_color: MARK_COLOR, line_width: 2 });
  }

  var api = { markY: markY, marks: marks, countsText: countsText, noteText: noteText, note: note,
              counts: counts, gapSeries: gapSeries, drawMarks: drawMarks, color: MARK_COLOR };
  (window.RunpagesCharts = window.RunpagesCharts || {}).nonfinite = api;
})();
