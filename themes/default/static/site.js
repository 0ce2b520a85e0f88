/* runpages shared helpers: root prefix, theme, formatting (through values.js). Loaded in <head> of every page.
 * No network access, no eval; text from runs is only ever set with textContent. */
(function () {
  "use strict";
  var dark = window.matchMedia ? window.matchMedia("(prefers-color-scheme: dark)") : null;
  var themeListeners = [];
  if (dark) {
    var onChange = function () { themeListeners.forEach(function (cb) { try { cb(site.isDark()); } catch (e) { console.warn(e); } }); };
    if (dark.addEventListener) dark.addEventListener("change", onChange); else if (dark.addListener) dark.addListener(onChange);
  }
  var values = window.Runpages.values;   // values.js is loaded first on every page
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
    /* Numbers, dates and durations: the one rule of values.js (twin of sitegen/values.py). */
    fmtNum: values.formatNumber,
    fmtTick: values.formatTick,
    fmtTime: values.formatTime,
    fmtDuration: values.formatDuration,
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
