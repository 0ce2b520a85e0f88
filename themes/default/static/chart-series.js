/* runpages charts, pure functions: series arithmetic, x values, metric direction, system titles
 * and chart order. No DOM, no Bokeh: `node --test tests/js/` runs them (tests/js/charts.test.js).
 *
 * Needs RunpagesCharts.rules (the generated chart-rules.js, from sitegen/chart_rules.py): the
 * direction words and system titles live in Python and are not copied here.
 * Adds to window.RunpagesCharts: unpack, sortedUnion, interp, ema, xFor, xAxisLabel, expand, sectionOf,
 * direction, systemTitle, systemChartKey, systemSection, metricKeysOf, systemKeysOf,
 * runMatches, sortKeys.
 */
(function (root) {
  "use strict";
  var C = root.RunpagesCharts = root.RunpagesCharts || {};
  var rules = C.rules || { direction: { pattern: "(?:^|[^a-z])({words})", lower: [], higher: [] },
                           systemTitles: {}, gpuTitles: {}, gpuOrder: [], gpuNotCharted: [] };

  /* A packed number array (sitegen/packed.py) -> an Array of numbers: a string is base64
     little-endian float64 (exact, NaN and ±inf kept), {f4} float32, {i4} int32, {a, d, n} n
     evenly spaced steps from a; an Array is returned as it is. */
  function unbase64(b64, width, read) {
    var bin = atob(b64), n = Math.floor(bin.length / width), bytes = new Uint8Array(bin.length);
    for (var i = 0; i < bin.length; i++) bytes[i] = bin.charCodeAt(i);
    var view = new DataView(bytes.buffer), out = new Array(n);
    for (var j = 0; j < n; j++) out[j] = read(view, j * width);
    return out;
  }
  function f8(view, at) { return view.getFloat64(at, true); }
  function f4(view, at) { return view.getFloat32(at, true); }
  function i4(view, at) { return view.getInt32(at, true); }
  function unpack(v) {
    if (typeof v === "string") return unbase64(v, 8, f8);
    if (v && !Array.isArray(v) && typeof v === "object") {
      if (typeof v.f4 === "string") return unbase64(v.f4, 4, f4);
      if (typeof v.i4 === "string") return unbase64(v.i4, 4, i4);
      if (typeof v.n === "number") {
        var steps = new Array(v.n);
        for (var k = 0; k < v.n; k++) steps[k] = v.a + v.d * k;
        return steps;
      }
    }
    return v || [];
  }

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

  /* System charts have no steps: step and metric x axes fall back to relative time there. */
  function effectiveMode(mode, isSystem) {
    return isSystem && (mode === "step" || mode.indexOf("m:") === 0) ? "rel" : mode;
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

  function xAxisLabel(mode) {
    if (mode === "time") return "wall time";
    if (mode === "rel") return "relative time (s)";
    if (mode.indexOf("m:") === 0) return mode.slice(2);
    return "step";
  }

  /* A payload as the data script wrote it → its arrays unpacked, every metric series with
     absolute `time` (from the run-wide step map, relative to t0) and every system series with
     `time`. Idempotent. */
  function expand(p) {
    if (!p || p._expanded) return p;
    var t0 = typeof p.t0 === "number" ? p.t0 : 0;
    var sm = p.steps || {};
    sm = p.steps = { step: unpack(sm.step), t: unpack(sm.t) };
    var abs = sm.t.map(function (t) { return t + t0; });
    var metrics = p.metrics || {};
    Object.keys(metrics).forEach(function (k) {
      var s = metrics[k];
      s.step = unpack(s.step);
      s.y = unpack(s.y);
      if (!s.time) s.time = interp(s.step, sm.step, abs);
    });
    var system = p.system || {};
    Object.keys(system).forEach(function (k) {
      var s = system[k];
      s.t = unpack(s.t);
      s.y = unpack(s.y);
      if (!s.time) s.time = s.t.map(function (t) { return t + t0; });
    });
    p.metrics = metrics;
    p.system = system;
    p._expanded = true;
    return p;
  }

  function sectionOf(key) {
    var i = key.indexOf("/");
    return i > 0 ? key.slice(0, i) : "";
  }

  function wordsRe(words) {
    return words.length ? new RegExp(rules.direction.pattern.replace("{words}", words.join("|")), "i") : null;
  }
  var LOWER = wordsRe(rules.direction.lower), HIGHER = wordsRe(rules.direction.higher);

  /* "min" (lower is better: loss, error), "max" (accuracy, reward) or null: the twin of
     sitegen.model.metric_preference, from the same words. */
  function direction(key) {
    if (LOWER && LOWER.test(key)) return "min";
    if (HIGHER && HIGHER.test(key)) return "max";
    return null;
  }

  var GPU_KEY = /^gpu\/(\d+)\/(.+)$/, GPU_CHART = /^gpu\/\*\/(.+)$/;

  /* cpu/host_pct → "CPU, host (%)"; gpu/1/util_pct → "GPU 1 utilisation (%)";
     gpu/*\/util_pct (every GPU overlaid) → "GPU utilisation (%)". Twin of chart_rules.system_title. */
  function systemTitle(key) {
    if (Object.prototype.hasOwnProperty.call(rules.systemTitles, key)) return rules.systemTitles[key];
    var t = rules.gpuTitles, m = GPU_KEY.exec(key);
    if (m) return "GPU " + m[1] + " " + (t[m[2]] || m[2]);
    m = GPU_CHART.exec(key);
    if (m) return "GPU " + (t[m[1]] || m[1]);
    return key;
  }

  /* The chart a system series is drawn on: every GPU's gpu/<i>/<name> on gpu/*\/<name>;
     null for the ones no chart shows (constants and counters: tables say them better). */
  function systemChartKey(key) {
    var m = GPU_KEY.exec(key);
    if (!m) return key;
    return rules.gpuNotCharted.indexOf(m[2]) >= 0 ? null : "gpu/*/" + m[2];
  }

  /* The GPU index of a system series key, or null. */
  function gpuIndex(key) {
    var m = GPU_KEY.exec(key);
    return m ? +m[1] : null;
  }

  function systemSection(chartKey) {
    if (/^gpu\//.test(chartKey)) return "GPU";
    if (/^cpu\//.test(chartKey)) return "CPU";
    if (/^mem\//.test(chartKey)) return "Memory";
    if (/^(disk|net)\//.test(chartKey)) return "Disk and network";
    return "Other";
  }

  function metricKeysOf(runs, opts) {
    var seen = {}, keys = [];
    runs.forEach(function (r) {
      Object.keys(r.metrics || {}).forEach(function (k) { if (!seen[k]) { seen[k] = 1; keys.push(k); } });
    });
    var filter = (opts || {}).metrics;
    if (Array.isArray(filter)) keys = filter.filter(function (k) { return seen[k]; });
    else if (typeof filter === "string" && filter) keys = keys.filter(function (k) { return k.indexOf(filter) === 0; });
    return keys;
  }

  function byText(a, b) { return a < b ? -1 : a > b ? 1 : 0; }

  /* The system charts the runs need, in reading order: CPU, memory, GPU (gpuOrder), the rest. */
  function systemKeysOf(runs) {
    var seen = {}, keys = [];
    runs.forEach(function (r) {
      Object.keys(r.system || {}).forEach(function (k) {
        var c = systemChartKey(k);
        if (c !== null && !seen[c]) { seen[c] = 1; keys.push(c); }
      });
    });
    var order = function (k) {
      var m = GPU_CHART.exec(k);
      if (m) { var i = rules.gpuOrder.indexOf(m[1]); return 100 + (i < 0 ? 9 : i); }
      return /^cpu/.test(k) ? 0 : /^mem/.test(k) ? 1 : 50;
    };
    return keys.sort(function (a, b) { return order(a) - order(b) || byText(a, b); });
  }

  /* Chart keys in the page's order: by text (metrics first, then "system:..."). */
  function sortKeys(keys) {
    return keys.slice().sort(byText);
  }

  /* Does a run match the run list's search? Every word must be in its name, user, group,
     tags, project or key (case-insensitive). */
  function runMatches(run, query) {
    var words = String(query || "").toLowerCase().split(/\s+/).filter(Boolean);
    if (!words.length) return true;
    var hay = [run.name, run.user, run.group, run.project, run.key].concat(run.tags || [])
      .filter(function (v) { return v !== null && v !== undefined; }).join(" ").toLowerCase();
    return words.every(function (w) { return hay.indexOf(w) >= 0; });
  }

  var api = { unpack: unpack, sortedUnion: sortedUnion, interp: interp, ema: ema, xFor: xFor, xValues: xFor,
    effectiveMode: effectiveMode, xAxisLabel: xAxisLabel, expand: expand, sectionOf: sectionOf,
    direction: direction, systemTitle: systemTitle, systemChartKey: systemChartKey, gpuIndex: gpuIndex,
    systemSection: systemSection, metricKeysOf: metricKeysOf, systemKeysOf: systemKeysOf,
    sortKeys: sortKeys, runMatches: runMatches };
  Object.keys(api).forEach(function (k) { C[k] = api[k]; });
})(typeof window !== "undefined" ? window : this);
