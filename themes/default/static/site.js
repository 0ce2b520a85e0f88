/* runpages shared helpers: root prefix, theme, formatting. Loaded in <head> of every page.
 * No network access, no eval; text from runs is only ever set with textContent. */
(function () {
  "use strict";
  var dark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  var themeListeners = [];
  if (dark) {
    var onChange = function () { themeListeners.forEach(function (cb) { try { cb(site.isDark()); } catch (e) { console.warn(e); } }); };
    if (dark.addEventListener) dark.addEventListener("change", onChange); else if (dark.addListener) dark.addListener(onChange);
  }
  function pad(n) { return (n < 10 ? "0" : "") + n; }
  var site = {
    /* "../../" on p/x/index.html; prefix for site-root-relative paths. */
    root: function () { return document.documentElement.getAttribute("data-root") || ""; },
    url: function (path) { return site.root() + path; },
    isDark: function () { return !!(dark && dark.matches); },
    onThemeChange: function (cb) { themeListeners.push(cb); },
    /* A new element; text (if any) goes in as textContent, never as markup. */
    el: function (tag, attrs, text) {
      var e = document.createElement(tag);
      if (attrs) Object.keys(attrs).forEach(function (k) { e.setAttribute(k, attrs[k]); });
      if (text !== undefined && text !== null) e.textContent = text;
      return e;
    },
    /* Call start() once the <details> `section` is open (now or when first opened) and the runs
     * table is ready: the table script runs first; if it has not yet (very old browsers), wait
     * for the page. start() itself must ignore repeated calls. */
    whenOpen: function (section, start) {
      function go() {
        if (!section.open) return;
        if (window.RunpagesTable && window.RunpagesTable.ready) start();
        else window.addEventListener("load", start);
      }
      section.addEventListener("toggle", go);
      go();
    },
    escapeHtml: function (s) {
      return String(s).replace(/[&<>"']/g, function (c) {
        return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
      });
    },
    fmtNum: function (v) {
      if (v === null || v === undefined || v === "") return "";
      if (typeof v !== "number") return String(v);
      if (isNaN(v)) return "NaN";
      if (!isFinite(v)) return v > 0 ? "Infinity" : "-Infinity";
      if (Number.isInteger(v) && Math.abs(v) < 1e15) return String(v);
      var a = Math.abs(v);
      if (a !== 0 && (a < 1e-3 || a >= 1e6)) return v.toExponential(3);
      return String(Number(v.toPrecision(5)));
    },
    /* Unix seconds -> "2026-11-25 19:10" in the reader's local time. */
    fmtTime: function (t) {
      if (t === null || t === undefined || !isFinite(t)) return "";
      var d = new Date(t * 1000);
      return d.getFullYear() + "-" + pad(d.getMonth() + 1) + "-" + pad(d.getDate()) + " " + pad(d.getHours()) + ":" + pad(d.getMinutes());
    },
    fmtDuration: function (s) {
      if (s === null || s === undefined || !isFinite(s) || s < 0) return "";
      s = Math.round(s);
      var d = Math.floor(s / 86400), h = Math.floor(s % 86400 / 3600), m = Math.floor(s % 3600 / 60), sec = s % 60;
      if (d) return d + "d " + h + "h";
      if (h) return h + "h " + pad(m) + "m";
      if (m) return m + "m " + pad(sec) + "s";
      return sec + "s";
    },
    fmtAgo: function (t) {
      if (t === null || t === undefined || !isFinite(t)) return "";
      var s = Date.now() / 1000 - t;
      if (s < 0) return site.fmtTime(t);
      if (s < 90) return "just now";
      if (s < 5400) return Math.round(s / 60) + " min ago";
      if (s < 129600) return Math.round(s / 3600) + " h ago";
      if (s < 86400 * 45) return Math.round(s / 86400) + " days ago";
      return site.fmtTime(t).slice(0, 10);
    }
  };
  /* Times are written in UTC at build time; show them in local time, and "ago" where asked. */
  site.formatTimes = function (root) {
    var els = root.querySelectorAll("[data-time]");
    for (var i = 0; i < els.length; i++) {
      var t = parseFloat(els[i].getAttribute("data-time"));
      if (!isFinite(t)) continue;
      els[i].title = new Date(t * 1000).toISOString().replace("T", " ").slice(0, 19) + " UTC";
      els[i].textContent = els[i].hasAttribute("data-ago") ? site.fmtAgo(t) : site.fmtTime(t);
    }
  };
  window.RunpagesSite = site;
  document.addEventListener("DOMContentLoaded", function () { site.formatTimes(document); });
})();
