/* runpages: the one display rule for numbers, axis ticks, durations and dates (Runpages.values).
 *
 * Twin of sitegen/values.py: the cases in tests/cases/values/*.json run against both (pytest and
 * `node --test tests/js/`). Read the rule there; the short of it: 4 significant digits (0.9123),
 * short scientific form below 1e-3 and from 1e6 on (1.5e-5, 1.23e7), whole integers below 1e15,
 * NaN / Infinity / -Infinity spelled out; ticks 0.25, 3e-4, 1.5k, 80M. toPrecision rounds ties
 * away from zero on the exact binary value; the Python twin does the same on purpose.
 *
 * window.Runpages.values = {formatNumber(v), formatTick(v), formatDuration(seconds), formatTime(unixSeconds)}.
 * Pure functions, no DOM: loaded first on every page (before site.js).
 */
(function (root) {
  "use strict";
  var WHOLE_LIMIT = 1e15, SCI_LOW = 1e-3, SCI_HIGH = 1e6;
  var TICK_SUFFIXES = [[1e12, "T"], [1e9, "B"], [1e6, "M"], [1e3, "k"]];

  function pad(n) { return (n < 10 ? "0" : "") + n; }
  /* a (> 0) to `digits` significant digits, in fixed notation without trailing zeros. */
  function plain(a, digits) { return String(Number(a.toPrecision(digits))); }
  function scientific(a, digits) {
    var parts = a.toExponential(digits - 1).split("e");
    var mantissa = parts[0].indexOf(".") >= 0 ? parts[0].replace(/0+$/, "").replace(/\.$/, "") : parts[0];
    return mantissa + "e" + Number(parts[1]);
  }
  function special(v) {
    if (isNaN(v)) return "NaN";
    if (!isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
    return null;
  }

  function formatNumber(v) {
    if (v === null || v === undefined) return "";
    if (typeof v !== "number") return String(v);
    var s = special(v);
    if (s) return s;
    if (Number.isInteger(v) && Math.abs(v) < WHOLE_LIMIT) return String(v);
    var sign = v < 0 ? "-" : "", a = Math.abs(v);
    if (a < SCI_LOW || a >= SCI_HIGH) return sign + scientific(a, 3);
    return sign + plain(a, 4);
  }

  /* `ticks` (the axis's other ticks, optional) keeps one notation per axis, as in values.py. */
  function formatTick(v, ticks) {
    var s = special(v);
    if (s) return s;
    if (v === 0) return "0";
    var sign = v < 0 ? "-" : "", a = Math.abs(v);
    for (var i = 0; i < TICK_SUFFIXES.length; i++) {
      if (a >= TICK_SUFFIXES[i][0]) return sign + plain(a / TICK_SUFFIXES[i][0], 3) + TICK_SUFFIXES[i][1];
    }
    var small = a;
    for (var j = 0; ticks && j < ticks.length; j++) {
      var t = Math.abs(ticks[j]);
      if (t && isFinite(t) && t < small) small = t;
    }
    if (a < SCI_LOW || (a < 1 && small < SCI_LOW)) return sign + scientific(a, 3);
    return sign + plain(a, 6);
  }

  function formatDuration(s) {
    if (s === null || s === undefined || typeof s === "boolean") return "";
    s = Number(s);
    if (!isFinite(s) || s < 0) return "";
    s = Math.round(s);
    var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
    if (d) return d + "d " + h + "h";
    if (h) return h + "h " + pad(m) + "m";
    if (m) return m + "m " + pad(sec) + "s";
    return sec + "s";
  }

  /* Unix seconds -> "2026-11-25 19:10" in the reader's local time. */
  function formatTime(t) {
    if (t === null || t === undefined || typeof t === "boolean" || !isFinite(t)) return "";
    var d = new Date(t * 1000);
    if (isNaN(d.getTime())) return "";
    return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
  }

  var ns = root.Runpages = root.Runpages || {};
  ns.values = { formatNumber: formatNumber, formatTick: formatTick, formatDuration: formatDuration, formatTime: formatTime };
})(window);
