/* runpages: the project page's runs table.
 *
 * The table is server-rendered HTML, readable without JavaScript; this file enhances it in
 * place and never rebuilds rows: filtering toggles `hidden`, sorting re-appends the existing
 * <tr> nodes through a DocumentFragment, hidden columns are one generated <style> element.
 * A large project (the table has data-rows; sitegen/pages/project_rows.py) has no HTML rows:
 * its rows come from the columnar script window.RunpagesRows[project], and only the rows in
 * view of the scrolling .rp-table-wrap are laid out, between two spacer rows ("virtual" mode;
 * the same row objects, filter, sort, groups, ticks and CSV as the HTML rows).
 *
 * Files (project.html loads them in this order): query.js (the filter language, RunpagesQuery),
 * then the parts of the table, each pushing an install(Table) function onto
 * window.RunpagesTableParts: table-virtual.js (rows from the rows script, laid out on demand),
 * table-columns.js (column chooser, CSV), table-groups.js (grouped rows), table-charts.js (the overlaid charts following the table); then this file, the core
 * (rows, filter, sort, ticks, URL hash state), which installs the parts and enhances the table.
 * Ticks are kept across project pages by selection.js (RunpagesSelection, loaded before the
 * parts): this table's ticks are the selection's keys of this project; the toolbar counts the
 * whole selection and links to the compare page with all of it ("Compare N runs", "Clear").
 *
 * Hooks for tests and other scripts: window.RunpagesTable = {ready, query(text), sortBy(key, desc),
 * csv(), lastCsv, lastFilterMs, lastSortMs, readyMs, readyAt, visibleKeys(), selectedKeys() (this
 * table's ticks, in table order), allSelectedKeys() (every project's, first ticked first),
 * compareUrl(keys), clearTicks(), charts (the RunpagesCharts controller once drawn), chartsReady,
 * overlay ({shown, of, keys}: the runs the charts draw, table-charts.js),
 * rows() ([{key, values, url, visible, queryOk}]), columns() ([{key, label, group, type}]),
 * setKeyFilter(name, keys | null) (another view's filter, e.g. parallel-coordinate brushing: a
 * row stays visible only when every key filter holds its key), setGrouping(columnKey | ""),
 * grouping(), toggleGroup(value), virtual (bool), renderedKeys() (the run rows laid out now, in
 * DOM order), rowHeight}. After every change of the visible rows the table fires
 * "rp-table-change" on document.
 */
(function () {
  "use strict";

  var Q = window.RunpagesQuery;
  var parse = Q.parse, QueryError = Q.QueryError, toNumber = Q.toNumber, lookup = Q.lookup, MISSING = Q.MISSING;

  function readHash() {
    var raw = location.hash.replace(/^#/, "");
    var out = {};
    raw.split("&").forEach(function (part) {
      if (!part) return;
      var eq = part.indexOf("=");
      var k = decodeURIComponent(eq === -1 ? part : part.slice(0, eq));
      var v = eq === -1 ? "" : decodeURIComponent(part.slice(eq + 1).replace(/\+/g, " "));
      out[k] = v;
    });
    return out;
  }

  function writeHash(state) {
    var parts = [];
    Object.keys(state).forEach(function (k) {
      if (state[k]) parts.push(encodeURIComponent(k) + "=" + encodeURIComponent(state[k]).replace(/%2F/g, "/"));
    });
    var url = location.pathname + location.search + (parts.length ? "#" + parts.join("&") : "");
    try {
      history.replaceState(history.state, "", parts.length ? url : location.pathname + location.search);
    } catch (e) {
      location.replace("#" + parts.join("&"));
    }
  }

  function Table(table) {
    var t0 = performance.now();
    var self = this;
    this.table = table;
    this.tbody = table.tBodies[0];
    this.project = table.getAttribute("data-project") || "";
    this.root = RunpagesSite.root();
    this.columns = [];
    var ths = table.tHead.rows[0].cells;
    for (var c = 0; c < ths.length; c++) {
      var key = ths[c].getAttribute("data-key");
      if (!key) continue;
      this.columns.push({
        key: key, index: c, th: ths[c],
        type: ths[c].getAttribute("data-type") || "text",
        label: ths[c].getAttribute("data-label") || ths[c].textContent.trim(),
        group: ths[c].getAttribute("data-group") || "",
        defaultHidden: ths[c].hasAttribute("data-hidden"),
        sortKeys: null
      });
    }
    this.rows = [];
    this.virtual = table.hasAttribute("data-rows");
    this.wrap = table.parentNode;
    if (this.virtual) this.rowsFromScript(table.getAttribute("data-rows"));
    var trs = this.virtual ? [] : this.tbody.rows;
    for (var r = 0; r < trs.length; r++) {
      var tr = trs[r], values = {}, cells = tr.cells;
      for (var j = 0; j < this.columns.length; j++) {
        var col = this.columns[j], td = cells[col.index];
        if (!td) continue;
        var v = td.getAttribute("data-v");
        if (v === null) v = td.textContent;
        if (col.type === "list") {
          try { v = JSON.parse(v); } catch (e) { v = v ? [v] : []; }
        }
        values[col.key] = v;
      }
      // visible: passes the filter; shown: laid out (the first `pageRows` visible rows, or all).
      var link = tr.querySelector("a[href]");
      this.rows.push({ tr: tr, key: tr.getAttribute("data-key"), values: values, index: r, visible: true,
        queryOk: true, shown: !tr.hidden, url: link ? link.getAttribute("href") : "",
        name: link ? link.textContent : tr.getAttribute("data-key") });
    }
    this.order = this.rows.slice();
    this.pageRows = parseInt(table.getAttribute("data-page-rows"), 10) || 0;
    this.showAll = false;
    this.more = document.getElementById("rp-more");
    this.selected = {};
    this.sort = null;
    this.query = "";
    this.filter = document.getElementById("rp-filter");
    this.message = document.getElementById("rp-filter-msg");
    this.count = document.getElementById("rp-count");
    this.compareButton = document.getElementById("rp-compare");        // a link: "Compare N runs"
    this.tickedNote = document.getElementById("rp-ticked");
    this.clearButton = document.getElementById("rp-clear-ticks");
    this.selection = window.RunpagesSelection || null;
    this.csvButton = document.getElementById("rp-csv");
    this.tickAll = document.getElementById("rp-tick-all");
    this.columnMenu = document.getElementById("rp-column-menu");
    this.hiddenStyle = document.getElementById("rp-hidden-columns");
    this.lastFilterMs = null;
    this.lastSortMs = null;
    this.charts = null;
    this.keyFilters = {};
    this.groupBy = "";
    this.groups = null;
    this.openGroups = {};
    this.groupSelect = document.getElementById("rp-group-by");

    this.buildColumnMenu();
    function sortFrom(ev) {
      var th = ev.target.closest("th[data-key]");
      if (!th || ev.target.closest("input")) return false;
      var key = th.getAttribute("data-key");
      var desc = self.sort && self.sort.key === key ? !self.sort.desc : false;
      self.sortBy(key, desc);
      self.saveHash();
      return true;
    }
    this.columns.forEach(function (c) { c.th.tabIndex = 0; });   // sortable from the keyboard too
    table.tHead.addEventListener("click", sortFrom);
    table.tHead.addEventListener("keydown", function (ev) {
      if ((ev.key === "Enter" || ev.key === " ") && sortFrom(ev)) ev.preventDefault();
    });
    this.tbody.addEventListener("change", function (ev) {
      var box = ev.target;
      if (!box.matches || !box.matches("input.rp-tick")) return;
      var tr = box.closest("tr");
      self.setTicked(tr.getAttribute("data-key"), box.checked);
    });
    if (this.tickAll) {
      this.tickAll.addEventListener("change", function () {
        var on = self.tickAll.checked, keys = [];
        self.rows.forEach(function (row) {
          if (self.virtual ? row.visible : row.shown) {
            var box = row.tr && row.tr.querySelector("input.rp-tick");
            if (box) box.checked = on;
            self.setTicked(row.key, on, true);
            keys.push(row.key);
          }
        });
        if (self.selection) self.selection.setMany(keys, on);   // one write for all of them
        self.updateSelection();
      });
    }
    if (this.clearButton) this.clearButton.addEventListener("click", function () { self.clearTicks(); });
    if (this.selection) {
      var mine = {};
      this.rows.forEach(function (row) { mine[row.key] = true; });
      if (this.project) this.selection.retain(this.project + "/", mine);   // runs gone from the site
      this.syncTicks();
      this.selection.onChange(function () { self.syncTicks(); self.updateSelection(); });   // another tab
    }
    if (this.filter) {
      this.filter.addEventListener("input", function () { self.applyFilter(self.filter.value); self.saveHash(); });
      this.filter.addEventListener("keydown", function (ev) {
        if (ev.key === "Escape") { self.filter.value = ""; self.applyFilter(""); self.saveHash(); }
      });
    }
    if (this.compareButton && !this.selection) {
      this.compareButton.addEventListener("click", function (ev) {
        var keys = self.selectedKeys();
        if (keys.length) { ev.preventDefault(); location.href = self.compareUrl(keys); }
      });
    }
    if (this.csvButton) this.csvButton.addEventListener("click", function () { self.download(); });
    if (this.more) this.more.addEventListener("click", function () { self.showAll = true; self.paint(); });
    if (this.groupSelect) {
      this.groupSelect.addEventListener("change", function () { self.setGrouping(self.groupSelect.value); self.saveHash(); });
    }
    this.tbody.addEventListener("click", function (ev) {
      var button = ev.target.closest && ev.target.closest("button.rp-group-toggle");
      if (button) self.toggleGroup(button.getAttribute("data-group"));
    });
    window.addEventListener("hashchange", function () { self.restoreHash(); });
    if (this.virtual) {
      var queued = false;
      var later = function () {
        if (queued) return;
        queued = true;
        requestAnimationFrame(function () { queued = false; self.renderWindow(); });
      };
      this.wrap.addEventListener("scroll", later, { passive: true });
      window.addEventListener("resize", later);
      this.paint();
    }

    this.restoreHash();
    this.updateSelection();
    table.classList.add("rp-enhanced");
    this.readyMs = performance.now() - t0;
    if (this.virtual) this.warmWords();
  }

  Table.prototype.compareUrl = function (keys) {
    return this.root + "compare.html?runs=" + keys.map(function (k) {
      return encodeURIComponent(k).replace(/%2F/g, "/");
    }).join(",");
  };

  Table.prototype.restoreHash = function () {
    var state = readHash();
    var q = state.q || "";
    if (this.filter && this.filter.value !== q) this.filter.value = q;
    if (state.sort) {
      var desc = state.sort.charAt(0) === "-";
      var key = desc ? state.sort.slice(1) : state.sort;
      if (!this.sort || this.sort.key !== key || this.sort.desc !== desc) this.sortBy(key, desc);
    }
    if (q !== this.query || (this.filter && this.filter.value !== this.query)) this.applyFilter(q);
    var g = state.group || "";
    if (g !== this.groupBy) this.setGrouping(g);
  };

  Table.prototype.saveHash = function () {
    writeHash({ q: this.query, sort: this.sort ? (this.sort.desc ? "-" : "") + this.sort.key : "", group: this.groupBy });
  };

  Table.prototype.columnKeys = function () {
    return this.columns.map(function (c) { return c.key; });
  };

  Table.prototype.knownKey = function (key) {
    var probe = {};
    this.columns.forEach(function (c) { probe[c.key] = 1; });
    return lookup(probe, key) !== MISSING;
  };

  Table.prototype.applyFilter = function (text) {
    var t0 = performance.now();
    var q;
    try {
      q = parse(text);
    } catch (e) {
      if (!(e instanceof QueryError)) throw e;
      this.showMessage("error", e.message + " (at character " + (e.position + 1) + ")");
      if (this.filter) this.filter.setAttribute("aria-invalid", "true");
      return false;
    }
    if (this.filter) this.filter.removeAttribute("aria-invalid");
    var self = this;
    var unknown = q.keys().filter(function (k) { return !self.knownKey(k); });
    this.showMessage(unknown.length ? "warning" : "", unknown.length ?
      "no column named " + unknown.map(function (k) { return "\u201c" + k + "\u201d"; }).join(", ") : "");
    this.query = text;
    // Virtual rows hold every column, so the query binds its keys once (query.js bind).
    var match = this.virtual ? q.bind(this.columnKeys()) : q.matches;
    for (var i = 0; i < this.rows.length; i++) {
      var row = this.rows[i];
      row.queryOk = match(row.values);
    }
    this.refilter();
    this.lastFilterMs = performance.now() - t0;
    return true;
  };

  /* visible = passes the filter text and every other view's key filter. */
  Table.prototype.refilter = function () {
    var names = Object.keys(this.keyFilters), filters = this.keyFilters;
    for (var i = 0; i < this.rows.length; i++) {
      var row = this.rows[i], ok = row.queryOk;
      for (var j = 0; ok && j < names.length; j++) ok = !!filters[names[j]][row.key];
      row.visible = ok;
    }
    this.paint();
    this.scheduleChartSync();
    try { document.dispatchEvent(new CustomEvent("rp-table-change")); } catch (e) { /* very old browser */ }
  };

  Table.prototype.setKeyFilter = function (name, keys) {
    if (keys === null || keys === undefined) {
      delete this.keyFilters[name];
    } else {
      var set = {};
      for (var i = 0; i < keys.length; i++) set[keys[i]] = true;
      this.keyFilters[name] = set;
    }
    this.refilter();
  };

  /* Lay out at most `pageRows` matching rows (in table order) unless "show all" was pressed:
   * the browser's layout of a thousand rows costs far more than the filter itself. */
  Table.prototype.paint = function () {
    if (this.groupBy) return this.paintGroups();
    if (this.virtual) return this.paintVirtual();
    var matched = 0, limit = this.showAll || !this.pageRows ? Infinity : this.pageRows;
    for (var i = 0; i < this.order.length; i++) {
      var row = this.order[i];
      var shown = row.visible && matched < limit;
      if (row.visible) matched++;
      if (shown !== row.shown) {
        row.tr.hidden = !shown;
        row.shown = shown;
      }
    }
    this.matched = matched;
    this.showCount(matched, "");
    if (this.more) {
      var rest = matched - Math.min(matched, limit);
      this.more.hidden = rest <= 0;
      this.more.textContent = "Show all " + matched + " runs (" + rest + " more)";
    }
  };

  Table.prototype.showCount = function (matched, suffix) {
    if (!this.count) return;
    this.count.textContent = (matched === this.rows.length ? this.rows.length + " runs" :
      matched + " of " + this.rows.length + " runs") + suffix;
  };

  Table.prototype.showMessage = function (kind, text) {
    if (!this.message) return;
    this.message.textContent = text;
    this.message.className = kind ? "rp-filter-" + kind : "";
  };

  Table.prototype.column = function (key) {
    for (var i = 0; i < this.columns.length; i++) if (this.columns[i].key === key) return this.columns[i];
    return null;
  };

  Table.prototype.sortKeysFor = function (col) {
    if (col.sortKeys) return col.sortKeys;
    var keys = new Array(this.rows.length);
    for (var i = 0; i < this.rows.length; i++) {
      var row = this.rows[i], v = row.values[col.key];
      if (Array.isArray(v)) v = v.join(", ");
      if (col.type === "num") {
        var n = toNumber(v);
        keys[row.index] = n === null || isNaN(n) ? null : n;
      } else {
        keys[row.index] = v === null || v === undefined || v === "" ? null : String(v).toLowerCase();
      }
    }
    col.sortKeys = keys;
    return keys;
  };

  /* Row indices by a column's sort keys, ascending, ties in the table's first order, empty
   * cells last; made once per column (a typed index array and a plain comparator: 100,000
   * rows sort in a few tens of ms), so a second sort by it, either way, is one pass. */
  Table.prototype.sortedIndex = function (col) {
    if (col.sortedIndex) return col.sortedIndex;
    var keys = this.sortKeysFor(col), n = keys.length, full = [], m = 0, i;
    var idx = new Uint32Array(n), empty = [];
    for (i = 0; i < n; i++) { if (keys[i] === null) empty.push(i); else full.push(i); }
    var cmp = col.type === "num" ?
      function (a, b) { return (keys[a] - keys[b]) || (a - b); } :
      function (a, b) { var x = keys[a], y = keys[b]; return x < y ? -1 : x > y ? 1 : a - b; };
    full.sort(cmp);
    for (i = 0; i < full.length; i++) idx[m++] = full[i];
    for (i = 0; i < empty.length; i++) idx[m++] = empty[i];
    col.sortedIndex = { index: idx, full: full.length };
    return col.sortedIndex;
  };

  Table.prototype.sortBy = function (key, desc) {
    var col = this.column(key);
    if (!col) return false;
    var t0 = performance.now();
    var keys = this.sortKeysFor(col), sorted = this.sortedRows(col, keys, !!desc);
    if (!this.virtual) {
      var frag = document.createDocumentFragment();
      for (var i = 0; i < sorted.length; i++) frag.appendChild(sorted[i].tr);
      this.tbody.appendChild(frag);
    }
    this.order = sorted;
    this.paint();
    this.columns.forEach(function (c) { c.th.removeAttribute("aria-sort"); });
    col.th.setAttribute("aria-sort", desc ? "descending" : "ascending");
    this.sort = { key: key, desc: !!desc };
    this.lastSortMs = performance.now() - t0;
    return true;
  };

  /* Descending keeps ties in the table's first order and empty cells last: the ascending
   * index read from its end, a run of equal keys at a time, each run in its own order. */
  Table.prototype.sortedRows = function (col, keys, desc) {
    var si = this.sortedIndex(col), idx = si.index, rows = this.rows, n = idx.length;
    var out = new Array(n), o = 0, i;
    if (!desc) {
      for (i = 0; i < n; i++) out[i] = rows[idx[i]];
      return out;
    }
    var end = si.full;
    while (end > 0) {
      var start = end - 1, k = keys[idx[start]];
      while (start > 0 && keys[idx[start - 1]] === k) start--;
      for (i = start; i < end; i++) out[o++] = rows[idx[i]];
      end = start;
    }
    for (i = si.full; i < n; i++) out[o++] = rows[idx[i]];
    return out;
  };

  /* quiet: a caller ticking many rows writes the selection once itself, then updates. */
  Table.prototype.setTicked = function (key, on, quiet) {
    if (on) this.selected[key] = true; else delete this.selected[key];
    if (!quiet) {
      if (this.selection) this.selection.set(key, on);
      this.updateSelection();
    }
  };

  /* This table's ticks and boxes from the kept selection. */
  Table.prototype.syncTicks = function () {
    var sel = this.selection;
    this.selected = {};
    for (var i = 0; i < this.rows.length; i++) {
      var row = this.rows[i], on = sel.has(row.key);
      if (on) this.selected[row.key] = true;
      var box = row.tr && row.tr.querySelector("input.rp-tick");
      if (box && box.checked !== on) box.checked = on;
    }
    if (this.tickAll && !sel.keys().length) this.tickAll.checked = false;
  };

  Table.prototype.clearTicks = function () {
    if (this.selection) {
      this.selection.clear();
      this.syncTicks();
    } else {
      this.selected = {};
      this.rows.forEach(function (row) { var b = row.tr && row.tr.querySelector("input.rp-tick"); if (b) b.checked = false; });
    }
    if (this.tickAll) this.tickAll.checked = false;
    this.updateSelection();
  };

  /* Every ticked run of the site, first ticked first (without selection.js: this table's). */
  Table.prototype.allSelectedKeys = function () {
    return this.selection ? this.selection.keys() : this.selectedKeys();
  };

  Table.prototype.selectedKeys = function () {
    var out = [];
    if (this.virtual) {
      for (var j = 0; j < this.order.length; j++) if (this.selected[this.order[j].key]) out.push(this.order[j].key);
      return out;
    }
    // In table order, so the compare page's first run (the delta baseline) is the one on top.
    for (var i = 0; i < this.tbody.rows.length; i++) {
      var k = this.tbody.rows[i].getAttribute("data-key");
      if (this.selected[k]) out.push(k);
    }
    return out;
  };

  /* Keys of the rows that pass the filter, in table order (shown or beyond "show all"). */
  Table.prototype.visibleKeys = function () {
    return this.order.filter(function (r) { return r.visible; }).map(function (r) { return r.key; });
  };

  Table.prototype.updateSelection = function () {
    var all = this.allSelectedKeys(), n = all.length, here = Object.keys(this.selected).length;
    if (this.compareButton) {
      // No runs ticked: the link opens the compare page's picker instead.
      this.compareButton.textContent = n ? "Compare " + n + " run" + (n === 1 ? "" : "s") : "Compare\u2026";
      this.compareButton.setAttribute("href", n ? this.compareUrl(all) : this.root + "compare.html?pick=1");
      this.compareButton.title = n ? "The first run ticked is the baseline of the comparison" : "Find runs of any project to compare";
    }
    if (this.tickedNote) {
      var other = n - here;
      this.tickedNote.textContent = !n ? "" : n + " ticked" + (other ? " (" + other + " in other projects)" : "");
    }
    if (this.clearButton) this.clearButton.hidden = n === 0;
    this.scheduleChartSync();
  };

  /* The parts loaded before this file add their methods: columns and CSV, grouping, charts. */
  (window.RunpagesTableParts || []).forEach(function (install) { install(Table); });

  function init() {
    var table = document.getElementById("rp-runs");
    var api = window.RunpagesTable = window.RunpagesTable || {};
    if (!table) return;
    var t = new Table(table);
    api.table = t;
    api.query = function (text) {
      if (t.filter) t.filter.value = text;
      var ok = t.applyFilter(text);
      t.saveHash();
      return ok;
    };
    api.sortBy = function (key, desc) { var ok = t.sortBy(key, desc); t.saveHash(); return ok; };
    api.csv = function () { return t.csv(); };
    api.visibleKeys = function () { return t.visibleKeys(); };
    api.selectedKeys = function () { return t.selectedKeys(); };
    api.allSelectedKeys = function () { return t.allSelectedKeys(); };
    api.clearTicks = function () { t.clearTicks(); };
    api.compareUrl = function (keys) { return t.compareUrl(keys); };
    api.rows = function () {
      return t.rows.map(function (r) {
        return { key: r.key, values: r.values, url: r.url, visible: r.visible, queryOk: r.queryOk, name: r.name };
      });
    };
    api.columns = function () {
      return t.columns.map(function (c) { return { key: c.key, label: c.label, group: c.group, type: c.type }; });
    };
    api.setKeyFilter = function (name, keys) { t.setKeyFilter(name, keys); };
    api.setGrouping = function (key) { var ok = t.setGrouping(key); t.saveHash(); return ok; };
    api.grouping = function () { return t.groupBy; };
    api.toggleGroup = function (value, open) { return t.toggleGroup(value, open); };
    api.virtual = t.virtual;
    api.renderedKeys = function () {
      return Array.prototype.map.call(t.tbody.querySelectorAll("tr[data-key]"), function (tr) { return tr.getAttribute("data-key"); });
    };
    Object.defineProperty(api, "rowHeight", { get: function () { return t.rowHeight; }, configurable: true });
    Object.defineProperty(api, "overlay", { get: function () { return t.overlay; }, configurable: true });
    Object.defineProperty(api, "lastCsv", { get: function () { return t.lastCsv; }, configurable: true });
    Object.defineProperty(api, "lastFilterMs", { get: function () { return t.lastFilterMs; }, configurable: true });
    Object.defineProperty(api, "lastSortMs", { get: function () { return t.lastSortMs; }, configurable: true });
    Object.defineProperty(api, "charts", { get: function () { return t.charts; }, configurable: true });
    Object.defineProperty(api, "chartsReady", { get: function () { return !!t.chartsReady; }, configurable: true });
    api.readyMs = t.readyMs;
    api.readyAt = performance.now();    // ms since navigation start: time to a usable table
    api.ready = true;
    if (document.readyState === "loading") {
      document.addEventListener("DOMContentLoaded", function () { t.initCharts(); });
    } else {
      t.initCharts();
    }
  }

  // table.js sits right after the table: enhance it now, before BokehJS is even parsed; the
  // charts (which need charts.js, loaded later) start once the document is complete.
  if (document.getElementById("rp-runs") || document.readyState !== "loading") init();
  else document.addEventListener("DOMContentLoaded", init);
})();
