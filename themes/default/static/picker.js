/* runpages: the compare page's run picker. Searches every run of the logbook, across projects,
 * in the run index (data/runs-index.js, written by sitegen/pages/compare.py as
 * window.RunpagesRunIndex) and adds or removes runs through the callbacks it is given.
 *
 * Pure part (runs under node --test): decode(index) -> runs, search(runs, text, opts).
 * DOM part: mount(container, opts) -> {open(focus), close(), sync(), search(text), isOpen()}.
 * Text from runs is only ever set with textContent.
 */
(function () {
  "use strict";

  var INDEX_VERSION = 1;               // sitegen/pages/compare.py INDEX_VERSION
  var SHOWN = 50;                      // results listed at once; the count says how many matched
  var FIELDS = { name: "name", user: "user", project: "project", status: "status", id: "run" };

  /* The columnar index -> [{key, run, name, user, project, projectSlug, status, color, started}]. */
  function decode(index) {
    if (!index || index.v !== INDEX_VERSION || !Array.isArray(index.runs)) return [];
    var projects = index.projects || [], users = index.users || [], statuses = index.statuses || [],
      colors = index.colors || [];
    var out = [];
    for (var i = 0; i < index.runs.length; i++) {
      var r = index.runs[i], p = projects[r[0]];
      if (!p || typeof r[1] !== "string") continue;
      var run = {
        key: p[1] + "/" + r[1], run: r[1], name: r[2] === null || r[2] === undefined ? r[1] : String(r[2]),
        user: users[r[3]] || "", project: String(p[0]), projectSlug: p[1], status: statuses[r[4]] || "",
        color: colors[r[5]] || "#888", started: typeof r[6] === "number" ? r[6] : null
      };
      run.hay = [run.name, run.user, run.project, run.run].join("\n").toLowerCase();
      out.push(run);
    }
    return out;
  }

  /* "ana resnet" -> every word in name, user, project or run id; "user:ana project:mnist" (also
   * user=ana) -> in that field only. Case does not matter. */
  function parseQuery(text) {
    var words = [], fields = [];
    String(text || "").toLowerCase().split(/\s+/).forEach(function (w) {
      if (!w) return;
      var m = /^([a-z]+)[:=](.*)$/.exec(w);
      if (m && FIELDS[m[1]]) { if (m[2]) fields.push([FIELDS[m[1]], m[2]]); }
      else words.push(w);
    });
    return { words: words, fields: fields };
  }

  /* {matches, total}: the first `limit` matching runs; runs of `prefer` projects (slugs) first,
   * then the newest. An empty text matches every run. */
  function search(runs, text, opts) {
    opts = opts || {};
    var q = parseQuery(text), limit = opts.limit || SHOWN, prefer = {};
    (opts.prefer || []).forEach(function (s) { prefer[s] = true; });
    var hits = runs.filter(function (r) {
      for (var i = 0; i < q.words.length; i++) if (r.hay.indexOf(q.words[i]) === -1) return false;
      for (var j = 0; j < q.fields.length; j++) {
        if (String(r[q.fields[j][0]]).toLowerCase().indexOf(q.fields[j][1]) === -1) return false;
      }
      return true;
    });
    hits.sort(function (a, b) {
      var pa = prefer[a.projectSlug] ? 0 : 1, pb = prefer[b.projectSlug] ? 0 : 1;
      if (pa !== pb) return pa - pb;
      var ta = a.started === null ? -Infinity : a.started, tb = b.started === null ? -Infinity : b.started;
      if (ta !== tb) return tb - ta;
      return a.key < b.key ? -1 : a.key > b.key ? 1 : 0;
    });
    return { matches: hits.slice(0, limit), total: hits.length };
  }

  /* opts: {index, picked() -> keys, add(key), remove(key), toggle (the button that opens it),
   * colorOf(key) (optional: a picked run's colour in the compare view, which may differ from the
   * index's when the view spreads its runs over the palette)}. */
  function mount(container, opts) {
    var el = window.RunpagesSite.el;
    var runs = null;                    // decoded on first opening: a page load pays nothing for it
    var keyed = null;
    function allRuns() { if (!runs) runs = decode(opts.index); return runs; }
    function byKey() {
      if (!keyed) { keyed = {}; allRuns().forEach(function (r) { keyed[r.key] = r; }); }
      return keyed;
    }
    var input = container.querySelector("input[type=search]");
    var count = container.querySelector(".rp-pick-count");
    var list = container.querySelector(".rp-pick-results");
    var toggle = opts.toggle;
    var timer = null;

    function projectsOfPicked() {
      var seen = {};
      opts.picked().forEach(function (k) { seen[k.split("/")[0]] = true; });
      return Object.keys(seen);
    }

    function colorFor(run) { return (opts.colorOf && opts.colorOf(run.key)) || run.color; }

    function item(run, picked) {
      var li = el("li", { "data-key": run.key });
      var label = el("label");
      var box = el("input", { type: "checkbox", "class": "rp-pick-box" });
      box.checked = !!picked[run.key];
      box.addEventListener("change", function () { if (box.checked) opts.add(run.key); else opts.remove(run.key); });
      var sw = el("span", { "class": "rp-swatch", "aria-hidden": "true" });
      sw.style.background = colorFor(run);
      label.appendChild(box);
      label.appendChild(sw);
      label.appendChild(el("span", { "class": "rp-pick-name" }, run.name));
      var facts = [run.project, run.user, run.status].filter(Boolean).join(" \u00b7 ");
      label.appendChild(el("span", { "class": "rp-pick-facts muted small" }, facts));
      li.appendChild(label);
      return li;
    }

    function render() {
      list.textContent = "";
      if (!opts.index) {
        count.textContent = "The run index (data/runs-index.js) did not load: rebuild the site.";
        return;
      }
      var picked = {};
      opts.picked().forEach(function (k) { picked[k] = true; });
      var found = search(allRuns(), input.value, { prefer: projectsOfPicked() });
      var frag = document.createDocumentFragment();
      found.matches.forEach(function (r) { frag.appendChild(item(r, picked)); });
      list.appendChild(frag);
      list.setAttribute("data-for", input.value);   // which search the list shows (render is deferred)
      var n = found.total;
      count.textContent = !runs.length ? "This site has no runs yet." :
        !n ? "No run matches \u201c" + input.value.trim() + "\u201d." :
        n > found.matches.length ? "Showing " + found.matches.length + " of " + n + " matching runs; type more to narrow them." :
        n + " matching run" + (n === 1 ? "" : "s") + " of " + runs.length + ".";
    }

    input.addEventListener("input", function () {
      clearTimeout(timer);
      timer = setTimeout(render, allRuns().length > 2000 ? 60 : 0);
    });
    input.addEventListener("keydown", function (ev) {
      if (ev.key === "Escape") { ev.preventDefault(); api.close(); if (toggle) toggle.focus(); }
    });
    if (toggle) toggle.addEventListener("click", function () { if (api.isOpen()) api.close(); else api.open(true); });

    var api = {
      runs: allRuns,
      isOpen: function () { return !container.hidden; },
      open: function (focus) {
        container.hidden = false;
        if (toggle) toggle.setAttribute("aria-expanded", "true");
        render();
        if (focus) input.focus();
      },
      close: function () {
        container.hidden = true;
        if (toggle) toggle.setAttribute("aria-expanded", "false");
      },
      /* Tick state from picked() in place: the list (and the focused box) stays as it is. */
      sync: function () {
        var picked = {};
        opts.picked().forEach(function (k) { picked[k] = true; });
        Array.prototype.forEach.call(list.querySelectorAll("li[data-key]"), function (li) {
          var key = li.getAttribute("data-key"), box = li.querySelector("input.rp-pick-box");
          if (box) box.checked = !!picked[key];
          var sw = li.querySelector(".rp-swatch"), run = byKey()[key];
          if (sw && run) sw.style.background = colorFor(run);
        });
      },
      search: function (text) { input.value = text; render(); return api.shown(); },
      shown: function () {
        return Array.prototype.map.call(list.querySelectorAll("li[data-key]"), function (li) { return li.getAttribute("data-key"); });
      }
    };
    return api;
  }

  window.RunpagesPicker = { decode: decode, parseQuery: parseQuery, search: search, mount: mount, SHOWN: SHOWN };
})();
