/* runpages: the ticked runs, kept while moving between project pages.
 *
 * One ordered list of run keys (<project>/<run>, first ticked first: the compare page's baseline)
 * per site, in localStorage under a name holding the site root's address, so two sites opened
 * from file:// (one origin in Chromium) keep their own lists. Where localStorage is refused
 * (some private modes) the list lives in memory and lasts as long as the page. Another tab's
 * change arrives through the "storage" event. Stored text is checked: only keys of the slug
 * alphabet are kept, at most MAX of them.
 *
 * window.RunpagesSelection = {keys(), has(key), set(key, on), setMany(keys, on), clear(),
 * retain(prefix, keep), onChange(fn), persistent, storageName, parse(text) (pure)}.
 */
(function () {
  "use strict";

  var MAX = 2000;
  var KEY_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]*\/[A-Za-z0-9_-][A-Za-z0-9._-]*$/;   // charts.js loader's rule

  /* Stored text -> a clean list of unique keys (anything else in it is dropped). */
  function parse(text) {
    var list;
    try { list = JSON.parse(text || "[]"); } catch (e) { return []; }
    if (!Array.isArray(list)) return [];
    var seen = {}, out = [];
    for (var i = 0; i < list.length && out.length < MAX; i++) {
      var k = list[i];
      if (typeof k === "string" && KEY_RE.test(k) && k.indexOf("..") === -1 && !seen[k]) { seen[k] = true; out.push(k); }
    }
    return out;
  }

  function siteAddress() {
    if (typeof location === "undefined") return "";             // no page (node --test)
    var root = window.RunpagesSite ? window.RunpagesSite.root() : "";
    try { return new URL(root || "./", location.href).href.replace(/[?#].*$/, ""); } catch (e) { return location.pathname; }
  }

  var name = "runpages.selection:" + siteAddress();
  var store = null;
  try {
    store = window.localStorage;
    var probe = name + ":probe";
    store.setItem(probe, "1");
    store.removeItem(probe);
  } catch (e) { store = null; }

  var list = store ? parse(store.getItem(name)) : [];
  var listeners = [];

  function save() {
    if (!store) return;
    try {
      if (list.length) store.setItem(name, JSON.stringify(list)); else store.removeItem(name);
    } catch (e) { /* storage full: the list still holds for this page */ }
  }

  function changed() {
    listeners.forEach(function (fn) { try { fn(list.slice()); } catch (e) { console.error(e); } });
  }

  function setMany(keys, on) {
    var index = {}, touched = false;
    list.forEach(function (k, i) { index[k] = i; });
    if (on) {
      keys.forEach(function (k) {
        if (index[k] === undefined && KEY_RE.test(k) && list.length < MAX) { index[k] = list.length; list.push(k); touched = true; }
      });
    } else {
      var drop = {};
      keys.forEach(function (k) { if (index[k] !== undefined) { drop[k] = true; touched = true; } });
      if (touched) list = list.filter(function (k) { return !drop[k]; });
    }
    if (touched) { save(); changed(); }
  }

  window.RunpagesSelection = {
    persistent: !!store,
    storageName: name,
    parse: parse,
    keys: function () { return list.slice(); },
    has: function (key) { return list.indexOf(key) !== -1; },
    set: function (key, on) { setMany([key], on); },
    setMany: setMany,
    clear: function () { if (list.length) { list = []; save(); changed(); } },
    /* Drop the keys under `prefix` ("<project>/") that `keep` lacks: runs gone from the site. */
    retain: function (prefix, keep) {
      var gone = list.filter(function (k) { return k.indexOf(prefix) === 0 && !keep[k]; });
      if (gone.length) setMany(gone, false);
    },
    onChange: function (fn) { listeners.push(fn); }
  };

  if (window.addEventListener) window.addEventListener("storage", function (ev) {
    if (ev.key !== name && ev.key !== null) return;
    list = store ? parse(store.getItem(name)) : list;
    changed();
  });
})();
