/* runpages: the project page's runs table, and the filter language (RunpagesQuery).
 *
 * The table is server-rendered HTML, readable without JavaScript; this file enhances it in
 * place and never rebuilds rows: filtering toggles `hidden`, sorting re-appends the existing
 * <tr> nodes through a DocumentFragment, hidden columns are one generated <style> element.
 *
 * RunpagesQuery mirrors sitegen/query.py (same language, messages and positions); the cases in
 * tests/cases/query/*.txt run against both.
 *
 * Hooks for tests and other scripts: window.RunpagesTable = {ready, query(text), sortBy(key, desc),
 * csv(), lastCsv, lastFilterMs, lastSortMs, readyMs, readyAt, visibleKeys(), selectedKeys(),
 * compareUrl(keys), charts (the RunpagesCharts controller once drawn), chartsReady,
 * rows() ([{key, values, url, visible, queryOk}]), columns() ([{key, label, group, type}]),
 * setKeyFilter(name, keys | null) (another view's filter, e.g. parallel-coordinate brushing: a
 * row stays visible only when every key filter holds its key), setGrouping(columnKey | ""),
 * grouping(), toggleGroup(value)}. After every change of the visible rows the table fires
 * "rp-table-change" on document.
 *
 * Grouping (a column key, e.g. "group" or "config.lr"): runs sharing the column's value are
 * listed under one expandable group row (tr.rp-group-row) with mean ± std of the numeric
 * summary columns over its visible runs; members are laid out only while their group is open.
 */
(function () {
  "use strict";

  /* ---------------- the filter language ---------------- */

  var OPERATORS = ["!=", "<=", ">=", "==", "=", "<", ">", "~"];
  var OP_CHARS = "!<>=~";
  var QUOTES = "\"'";
  var NUMBER = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
  var SPECIAL_NUMBERS = { nan: NaN, inf: Infinity, infinity: Infinity };
  var ALIASES = { tag: "tags", commit: "git", started: "start" };
  var PREFIXES = ["config.", "summary."];
  var MISSING = {};

  function QueryError(message, position) {
    this.name = "QueryError";
    this.message = message;
    this.position = position;
  }
  QueryError.prototype = Object.create(Error.prototype);
  QueryError.prototype.constructor = QueryError;

  function isSpace(ch) { return /\s/.test(ch); }

  function toNumber(value) {
    if (value === null || value === undefined || typeof value === "boolean") return null;
    if (typeof value === "number") return value;
    if (typeof value === "string") {
      if (NUMBER.test(value)) return Number(value);
      var s = value.trim().toLowerCase();
      var sign = s.charAt(0) === "-" ? -1 : 1;
      var key = s.replace(/^[+-]+/, "");
      if (Object.prototype.hasOwnProperty.call(SPECIAL_NUMBERS, key)) return sign * SPECIAL_NUMBERS[key];
    }
    return null;
  }

  function toText(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "boolean") return value ? "true" : "false";
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  function lookup(row, key) {
    var candidates = [key];
    var alias = ALIASES[key.toLowerCase()];
    if (alias) candidates.push(alias);
    candidates.push("config." + key);
    for (var p = 0; p < PREFIXES.length; p++) {
      if (key.indexOf(PREFIXES[p]) === 0) candidates.push(key.slice(PREFIXES[p].length));
    }
    var i;
    for (i = 0; i < candidates.length; i++) {
      if (Object.prototype.hasOwnProperty.call(row, candidates[i])) return row[candidates[i]];
    }
    var lowered = {};
    for (var k in row) {
      if (Object.prototype.hasOwnProperty.call(row, k) && !(k.toLowerCase() in lowered)) lowered[k.toLowerCase()] = k;
    }
    for (i = 0; i < candidates.length; i++) {
      var name = candidates[i].toLowerCase();
      if (Object.prototype.hasOwnProperty.call(lowered, name)) return row[lowered[name]];
    }
    return MISSING;
  }

  function isEmpty(value) {
    return value === null || value === undefined || value === MISSING ||
      (typeof value === "string" && value.trim() === "");
  }

  function order(op, a, b) {
    switch (op) {
      case "=": return a === b;
      case "<": return a < b;
      case "<=": return a <= b;
      case ">": return a > b;
      case ">=": return a >= b;
    }
    return false;
  }

  function compare(cell, op, value, quoted) {
    if (op === "~") return toText(cell).toLowerCase().indexOf(value.toLowerCase()) !== -1;
    if (isEmpty(cell)) return op === "=" && value === "";
    var want = quoted ? null : toNumber(value);
    var have = toNumber(cell);
    if (want !== null && have !== null) return order(op, have, want);
    return order(op, toText(cell).toLowerCase(), value.toLowerCase());
  }

  function cellsOf(value) { return Array.isArray(value) ? value : [value]; }

  function termMatches(term, row) {
    var i, cells;
    if (term.key === null) {
      var needle = term.value.toLowerCase();
      for (var k in row) {
        if (!Object.prototype.hasOwnProperty.call(row, k)) continue;
        cells = cellsOf(row[k]);
        for (i = 0; i < cells.length; i++) {
          if (toText(cells[i]).toLowerCase().indexOf(needle) !== -1) return true;
        }
      }
      return false;
    }
    var cell = lookup(row, term.key);
    if (cell === MISSING) return term.op === "!=";
    cells = cellsOf(cell);
    if (term.op === "!=") {
      for (i = 0; i < cells.length; i++) if (compare(cells[i], "=", term.value, term.quoted)) return false;
      return true;
    }
    for (i = 0; i < cells.length; i++) if (compare(cells[i], term.op, term.value, term.quoted)) return true;
    return false;
  }

  function tokenize(text) {
    var tokens = [], i = 0, n = text.length, ch, start;
    while (i < n) {
      ch = text.charAt(i);
      if (isSpace(ch)) {
        i++;
      } else if (QUOTES.indexOf(ch) !== -1) {
        start = i; i++;
        var out = "";
        while (i < n && text.charAt(i) !== ch) {
          if (text.charAt(i) === "\\" && i + 1 < n) i++;
          out += text.charAt(i);
          i++;
        }
        if (i >= n) throw new QueryError("unterminated quote " + ch, start);
        tokens.push({ kind: "word", text: out, position: start, quoted: true });
        i++;
      } else if (OP_CHARS.indexOf(ch) !== -1) {
        var two = text.substr(i, 2);
        var op = OPERATORS.indexOf(two) !== -1 ? two : ch;
        if (OPERATORS.indexOf(op) === -1) throw new QueryError("unknown operator '" + op + "'; did you mean '!='?", i);
        tokens.push({ kind: "op", text: op === "==" ? "=" : op, position: i, quoted: false });
        i += op.length;
      } else {
        start = i;
        while (i < n && !isSpace(text.charAt(i)) && OP_CHARS.indexOf(text.charAt(i)) === -1 &&
               QUOTES.indexOf(text.charAt(i)) === -1) i++;
        tokens.push({ kind: "word", text: text.slice(start, i), position: start, quoted: false });
      }
    }
    return tokens;
  }

  function parse(text) {
    var tokens = tokenize(text), terms = [], i = 0;
    while (i < tokens.length) {
      var tok = tokens[i];
      if (tok.kind === "op") throw new QueryError("expected a column name before '" + tok.text + "'", tok.position);
      var next = tokens[i + 1];
      if (!next || next.kind !== "op") {
        terms.push({ key: null, op: null, value: tok.text, quoted: tok.quoted, position: tok.position });
        i++;
        continue;
      }
      var value = tokens[i + 2];
      if (!value) throw new QueryError("expected a value after '" + next.text + "'", text.length);
      if (value.kind === "op") {
        throw new QueryError("expected a value after '" + next.text + "', got '" + value.text + "'", value.position);
      }
      terms.push({ key: tok.text, op: next.text, value: value.text, quoted: value.quoted, position: tok.position });
      i += 3;
    }
    return {
      text: text,
      terms: terms,
      keys: function () { return terms.filter(function (t) { return t.key !== null; }).map(function (t) { return t.key; }); },
      matches: function (row) {
        for (var j = 0; j < terms.length; j++) if (!termMatches(terms[j], row)) return false;
        return true;
      }
    };
  }

  window.RunpagesQuery = { parse: parse, QueryError: QueryError, toNumber: toNumber, toText: toText, lookup: lookup, MISSING: MISSING };

  /* ---------------- the runs table ---------------- */

  var CSV_INJECTION = /^[=+\-@\t\r]/;

  function csvCell(text) {
    var s = toText(text);
    // A leading = + - @ makes spreadsheets evaluate the cell; plain numbers are safe as they are.
    if (CSV_INJECTION.test(s) && !NUMBER.test(s)) s = "'" + s;
    if (/[",\r\n]/.test(s)) s = "\"" + s.replace(/"/g, "\"\"") + "\"";
    return s;
  }

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

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function Table(table) {
    var t0 = performance.now();
    var self = this;
    this.table = table;
    this.tbody = table.tBodies[0];
    this.project = table.getAttribute("data-project") || "";
    this.root = document.documentElement.getAttribute("data-root") || "";
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
    var trs = this.tbody.rows;
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
      this.rows.push({ tr: tr, key: tr.getAttribute("data-key"), values: values, index: r, visible: true,
        queryOk: true, shown: !tr.hidden });
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
    this.compareButton = document.getElementById("rp-compare");
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
        var on = self.tickAll.checked;
        self.rows.forEach(function (row) {
          if (row.shown) {
            var box = row.tr.querySelector("input.rp-tick");
            if (box) box.checked = on;
            self.setTicked(row.key, on, true);
          }
        });
        self.updateSelection();
      });
    }
    if (this.filter) {
      this.filter.addEventListener("input", function () { self.applyFilter(self.filter.value); self.saveHash(); });
      this.filter.addEventListener("keydown", function (ev) {
        if (ev.key === "Escape") { self.filter.value = ""; self.applyFilter(""); self.saveHash(); }
      });
    }
    if (this.compareButton) {
      this.compareButton.addEventListener("click", function () {
        var keys = self.selectedKeys();
        if (keys.length) location.href = self.compareUrl(keys);
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

    this.restoreHash();
    this.updateSelection();
    table.classList.add("rp-enhanced");
    this.readyMs = performance.now() - t0;
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
    for (var i = 0; i < this.rows.length; i++) {
      var row = this.rows[i];
      row.queryOk = q.matches(row.values);
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
    if (this.count) {
      this.count.textContent = matched === this.rows.length ? this.rows.length + " runs" :
        matched + " of " + this.rows.length + " runs";
    }
    if (this.more) {
      var rest = matched - Math.min(matched, limit);
      this.more.hidden = rest <= 0;
      this.more.textContent = "Show all " + matched + " runs (" + rest + " more)";
    }
  };

  /* ---- grouping ---- */

  function groupValue(v) {
    if (Array.isArray(v)) return v.join(", ");
    return v === null || v === undefined ? "" : String(v);
  }

  function stats(values) {
    var n = values.length;
    if (!n) return null;
    var sum = 0, i;
    for (i = 0; i < n; i++) sum += values[i];
    var mean = sum / n, sq = 0;
    for (i = 0; i < n; i++) sq += (values[i] - mean) * (values[i] - mean);
    return { n: n, mean: mean, std: n > 1 ? Math.sqrt(sq / (n - 1)) : 0 };
  }

  function fmt(x) {
    if (!isFinite(x)) return String(x);
    if (x === 0) return "0";
    var a = Math.abs(x);
    return a < 1e-3 || a >= 1e6 ? x.toExponential(2) : String(Number(x.toPrecision(4)));
  }

  Table.prototype.setGrouping = function (key) {
    key = key || "";
    if (key && !this.column(key)) key = "";
    if (this.groupSelect && this.groupSelect.value !== key) this.groupSelect.value = key;
    var old = this.tbody.querySelectorAll("tr.rp-group-row");
    for (var i = 0; i < old.length; i++) old[i].remove();
    this.groupBy = key;
    this.table.classList.toggle("rp-grouped", !!key);
    this.groups = null;
    this.openGroups = {};
    if (key) {
      var byValue = {}, list = [];
      for (var r = 0; r < this.rows.length; r++) {
        var row = this.rows[r], v = groupValue(row.values[key]);
        if (!byValue[v]) { byValue[v] = { value: v, rows: [], tr: null }; list.push(byValue[v]); }
        byValue[v].rows.push(row);
        row.group = byValue[v];
      }
      this.groups = list;
      this.groupsByValue = byValue;
    } else {
      var frag = document.createDocumentFragment();
      for (var k = 0; k < this.order.length; k++) frag.appendChild(this.order[k].tr);
      this.tbody.appendChild(frag);
    }
    this.paint();
    try { document.dispatchEvent(new CustomEvent("rp-table-change")); } catch (e) { /* ignore */ }
    return true;
  };

  Table.prototype.toggleGroup = function (value, open) {
    if (!this.groupsByValue || !this.groupsByValue[value]) return false;
    var now = open === undefined ? !this.openGroups[value] : !!open;
    if (now) this.openGroups[value] = true; else delete this.openGroups[value];
    this.paint();
    return now;
  };

  Table.prototype.groupRow = function (g) {
    if (g.tr) return g.tr;
    var tr = document.createElement("tr");
    tr.className = "rp-group-row";
    tr.setAttribute("data-group", g.value);
    var tick = document.createElement("td");
    tick.className = "rp-tick-col";
    tr.appendChild(tick);
    for (var c = 0; c < this.columns.length; c++) {
      var td = document.createElement("td");
      if (this.columns[c].type === "num") td.className = "num";
      tr.appendChild(td);
    }
    g.tr = tr;
    return tr;
  };

  /* One group row's cells from its visible members: the run-name cell holds the toggle. */
  Table.prototype.fillGroupRow = function (g, members) {
    var tr = this.groupRow(g), open = !!this.openGroups[g.value];
    for (var c = 0; c < this.columns.length; c++) {
      var col = this.columns[c], td = tr.cells[c + 1], text = "", title = "";
      if (col.key === "name") {
        td.textContent = "";
        var b = document.createElement("button");
        b.type = "button";
        b.className = "rp-group-toggle";
        b.setAttribute("data-group", g.value);
        b.setAttribute("aria-expanded", open ? "true" : "false");
        b.textContent = (open ? "\u25BE " : "\u25B8 ") + (g.value || "(none)") + " \u00b7 " + members.length +
          (members.length === 1 ? " run" : " runs");
        td.appendChild(b);
        continue;
      }
      if (col.key === this.groupBy) {
        text = members.length ? members[0].tr.cells[col.index].textContent : g.value;
      } else if (col.type === "num" && col.group !== "run") {
        var nums = [];
        for (var m = 0; m < members.length; m++) {
          var n = toNumber(members[m].values[col.key]);
          if (n !== null && isFinite(n)) nums.push(n);
        }
        var st = stats(nums);
        if (st) {
          var lo = Math.min.apply(null, nums), hi = Math.max.apply(null, nums);
          if (col.group === "config" && lo === hi) text = members[0].tr.cells[col.index].textContent;
          else if (col.group === "config") text = fmt(lo) + "\u2013" + fmt(hi);
          else {
            text = st.n > 1 ? fmt(st.mean) + " \u00b1 " + fmt(st.std) : fmt(st.mean);
            title = "mean \u00b1 std of " + st.n + " runs; min " + fmt(lo) + ", max " + fmt(hi);
          }
        }
      } else {
        /* Run columns and text: the members' shown text when they all agree. */
        var shownText = function (row) { return row.tr.cells[col.index].textContent; };
        var first = members.length ? shownText(members[0]) : "", same = true;
        for (var k = 1; k < members.length && same; k++) same = shownText(members[k]) === first;
        text = same && col.type !== "list" ? first : "";
      }
      td.textContent = text;
      if (title) td.title = title; else td.removeAttribute("title");
    }
  };

  Table.prototype.paintGroups = function () {
    var seen = [], visibleOf = {}, i, g;
    for (i = 0; i < this.order.length; i++) {
      this.order[i].pos = i;
      g = this.order[i].group;
      if (!visibleOf[g.value]) { visibleOf[g.value] = []; seen.push(g); }
      if (this.order[i].visible) visibleOf[g.value].push(this.order[i]);
    }
    var frag = document.createDocumentFragment(), matched = 0, groupsShown = 0;
    for (i = 0; i < seen.length; i++) {
      g = seen[i];
      var members = visibleOf[g.value], open = !!this.openGroups[g.value];
      this.fillGroupRow(g, members);
      g.tr.hidden = members.length === 0;
      if (members.length) groupsShown++;
      frag.appendChild(g.tr);
      var rows = g.rows.slice().sort(function (a, b) { return a.pos - b.pos; });
      for (var r = 0; r < rows.length; r++) {
        var row = rows[r], shown = row.visible && open;
        if (row.visible) matched++;
        if (shown !== row.shown) { row.tr.hidden = !shown; row.shown = shown; }
        frag.appendChild(row.tr);
      }
    }
    this.tbody.appendChild(frag);
    this.matched = matched;
    if (this.count) {
      this.count.textContent = (matched === this.rows.length ? this.rows.length + " runs" :
        matched + " of " + this.rows.length + " runs") + " in " + groupsShown + (groupsShown === 1 ? " group" : " groups");
    }
    if (this.more) this.more.hidden = true;
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

  Table.prototype.sortBy = function (key, desc) {
    var col = this.column(key);
    if (!col) return false;
    var t0 = performance.now();
    var keys = this.sortKeysFor(col);
    var dir = desc ? -1 : 1;
    var sorted = this.rows.slice().sort(function (a, b) {
      var x = keys[a.index], y = keys[b.index];
      if (x === y) return a.index - b.index;
      if (x === null) return 1;           // empty cells last, whichever the direction
      if (y === null) return -1;
      if (x < y) return -dir;
      if (x > y) return dir;
      return a.index - b.index;
    });
    var frag = document.createDocumentFragment();
    for (var i = 0; i < sorted.length; i++) frag.appendChild(sorted[i].tr);
    this.tbody.appendChild(frag);
    this.order = sorted;
    this.paint();
    this.columns.forEach(function (c) { c.th.removeAttribute("aria-sort"); });
    col.th.setAttribute("aria-sort", desc ? "descending" : "ascending");
    this.sort = { key: key, desc: !!desc };
    this.lastSortMs = performance.now() - t0;
    return true;
  };

  Table.prototype.setTicked = function (key, on, quiet) {
    if (on) this.selected[key] = true; else delete this.selected[key];
    if (!quiet) this.updateSelection();
  };

  Table.prototype.selectedKeys = function () {
    var out = [];
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
    var n = Object.keys(this.selected).length;
    if (this.compareButton) {
      this.compareButton.textContent = "Compare (" + n + ")";
      this.compareButton.disabled = n === 0;
    }
    this.scheduleChartSync();
  };

  /* Columns: a checkbox per column; the choice is remembered per project. */

  Table.prototype.columnStateKey = function () { return "runpages:columns:" + this.project; };

  Table.prototype.loadColumnState = function () {
    var store = storage();
    if (!store) return {};
    try { return JSON.parse(store.getItem(this.columnStateKey()) || "{}") || {}; } catch (e) { return {}; }
  };

  Table.prototype.saveColumnState = function () {
    var store = storage(), state = {};
    if (!store) return;
    this.columns.forEach(function (c) { if (c.hidden !== c.defaultHidden) state[c.key] = !c.hidden; });
    try { store.setItem(this.columnStateKey(), JSON.stringify(state)); } catch (e) { /* full or disabled */ }
  };

  Table.prototype.applyColumns = function () {
    var rules = [];
    this.columns.forEach(function (c) {
      if (c.hidden) {
        var n = c.index + 1;
        rules.push("#rp-runs > thead > tr > :nth-child(" + n + "), #rp-runs > tbody > tr > :nth-child(" + n + ")");
      }
    });
    if (this.hiddenStyle) this.hiddenStyle.textContent = rules.length ? rules.join(",\n") + " { display: none; }" : "";
  };

  Table.prototype.buildColumnMenu = function () {
    var self = this, state = this.loadColumnState();
    this.columns.forEach(function (c) {
      c.hidden = Object.prototype.hasOwnProperty.call(state, c.key) ? !state[c.key] : c.defaultHidden;
    });
    this.applyColumns();
    if (!this.columnMenu) return;
    var frag = document.createDocumentFragment(), group = null;
    this.columns.forEach(function (c) {
      if (c.group !== group) {
        group = c.group;
        if (group) {
          var h = document.createElement("div");
          h.className = "rp-menu-group";
          h.textContent = group;
          frag.appendChild(h);
        }
      }
      var label = document.createElement("label");
      var box = document.createElement("input");
      box.type = "checkbox";
      box.checked = !c.hidden;
      box.setAttribute("data-key", c.key);
      box.addEventListener("change", function () {
        c.hidden = !box.checked;
        self.applyColumns();
        self.saveColumnState();
      });
      label.appendChild(box);
      label.appendChild(document.createTextNode(" " + c.label));
      frag.appendChild(label);
    });
    var reset = document.createElement("button");
    reset.type = "button";
    reset.textContent = "Reset columns";
    reset.addEventListener("click", function () {
      self.columns.forEach(function (c) { c.hidden = c.defaultHidden; });
      var boxes = self.columnMenu.querySelectorAll("input[data-key]");
      for (var i = 0; i < boxes.length; i++) boxes[i].checked = !self.column(boxes[i].getAttribute("data-key")).hidden;
      self.applyColumns();
      var store = storage();
      if (store) try { store.removeItem(self.columnStateKey()); } catch (e) { /* ignore */ }
    });
    frag.appendChild(reset);
    this.columnMenu.appendChild(frag);
  };

  /* CSV of what the filter keeps: its rows in table order (all of them, not only the first
   * page), the chosen columns, full values. */

  Table.prototype.csv = function () {
    var cols = this.columns.filter(function (c) { return !c.hidden; });
    var lines = [cols.map(function (c) { return csvCell(c.key); }).join(",")];
    for (var i = 0; i < this.order.length; i++) {
      var row = this.order[i];
      if (!row.visible) continue;
      lines.push(cols.map(function (c) {
        var v = row.values[c.key];
        return csvCell(Array.isArray(v) ? v.join(" ") : v);
      }).join(","));
    }
    this.lastCsv = lines.join("\r\n") + "\r\n";
    return this.lastCsv;
  };

  Table.prototype.download = function () {
    var text = this.csv();
    var blob = new Blob([text], { type: "text/csv;charset=utf-8" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = (this.project || "runs") + ".csv";
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 1000);
  };

  /* Charts: the project's low-resolution series, loaded when the charts section opens. */

  Table.prototype.initCharts = function () {
    var self = this;
    var box = document.getElementById("rp-charts");
    var container = document.getElementById("rp-project-charts");
    if (!box || !container || !window.RunpagesData || !window.RunpagesCharts) return;
    var started = false;
    function start() {
      if (started || !box.open) return;
      started = true;
      container.textContent = "Loading charts\u2026";
      var src = container.getAttribute("data-src");
      var done = function () {
        var project = window.RunpagesData.projects[self.project];
        container.textContent = "";
        if (!project) {
          container.textContent = "The chart data (" + src + ") did not load; rebuild the site.";
          container.className += " rp-error";
          return;
        }
        var runs = project.runs || [];
        if (!Array.isArray(runs)) runs = Object.keys(runs).map(function (k) { return runs[k]; });
        self.chartVisible = {};
        self.legendHidden = {};
        runs.forEach(function (r) { self.chartVisible[r.key] = true; });
        self.charts = window.RunpagesCharts.mount(container, runs, {
          // A legend click hides a run in every chart; remember it so a filter change keeps it.
          onVisible: function (key, on) {
            self.chartVisible[key] = on;
            if (on) delete self.legendHidden[key]; else self.legendHidden[key] = true;
          }
        });
        self.syncCharts();
        Promise.resolve(self.charts.ready).then(function () { self.chartsReady = true; });
      };
      if (window.RunpagesData.projects[self.project]) { done(); return; }
      var s = document.createElement("script");
      s.src = src;
      s.onload = done;
      s.onerror = done;
      document.body.appendChild(s);
    }
    box.addEventListener("toggle", start);
    start();
  };

  Table.prototype.scheduleChartSync = function () {
    var self = this;
    if (!this.charts || this.chartTimer) return;
    this.chartTimer = setTimeout(function () { self.chartTimer = null; self.syncCharts(); }, 120);
  };

  Table.prototype.syncCharts = function () {
    if (!this.charts) return;
    var anyTicked = Object.keys(this.selected).length > 0;
    for (var i = 0; i < this.rows.length; i++) {
      var row = this.rows[i];
      var want = row.visible && (!anyTicked || !!this.selected[row.key]) && !this.legendHidden[row.key];
      if (this.chartVisible[row.key] !== undefined && this.chartVisible[row.key] !== want) {
        this.chartVisible[row.key] = want;
        this.charts.setVisible(row.key, want);
      }
    }
  };

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
    api.compareUrl = function (keys) { return t.compareUrl(keys); };
    api.rows = function () {
      return t.rows.map(function (r) {
        var a = r.tr.querySelector("a[href]");
        return { key: r.key, values: r.values, url: a ? a.getAttribute("href") : "", visible: r.visible,
                 queryOk: r.queryOk, name: a ? a.textContent : r.key };
      });
    };
    api.columns = function () {
      return t.columns.map(function (c) { return { key: c.key, label: c.label, group: c.group, type: c.type }; });
    };
    api.setKeyFilter = function (name, keys) { t.setKeyFilter(name, keys); };
    api.setGrouping = function (key) { var ok = t.setGrouping(key); t.saveHash(); return ok; };
    api.grouping = function () { return t.groupBy; };
    api.toggleGroup = function (value, open) { return t.toggleGroup(value, open); };
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
