/* runpages: a large project's runs table, rows laid out on demand (a part of table.js).
 *
 * Above SERVER_ROWS_MAX runs (sitegen/pages/project.py) the page has no <tr> per run: the rows
 * are in window.RunpagesRows[project], a columnar script (sitegen/pages/project_rows.py) loaded
 * before the table's scripts. The table builds the same row objects as from HTML rows (key,
 * values for the filter language, url, name) and lays out only the rows in view of the
 * scrolling .rp-table-wrap, plus OVERSCAN rows either side, between two spacer rows whose
 * heights stand for the rest; a row's <tr> is made when it first comes into view and kept.
 * Rows are one line high (white-space: nowrap), so one measured height places every row.
 *
 * cellText(row, col) is the shown text of a cell in either mode (table-groups.js uses it).
 * Loaded after query.js and before table.js, which installs this part into its Table.
 */
(function () {
  "use strict";

  var OVERSCAN = 20;
  var GUESS_ROW_PX = 29;    // until a laid-out row is measured

  function unpack(a) {
    if (!a || Array.isArray(a)) return a || null;
    var out = new Array(a.i.length), d = a.d, idx = a.i;
    for (var i = 0; i < idx.length; i++) out[i] = d[idx[i]];
    return out;
  }

  function install(Table) {
    /* The row objects from the rows script; a missing script is said on the page. */
    Table.prototype.rowsFromScript = function (src) {
      var data = window.RunpagesRows && window.RunpagesRows[this.project];
      this.rowHeight = GUESS_ROW_PX;
      this.vItems = [];
      if (!data) {
        this.rowsMissing = src;
        return;
      }
      var cols = this.columns, n = data.n, ids = data.ids, values = [], texts = [], titles = [], nums = [];
      for (var c = 0; c < cols.length; c++) {
        var d = data.columns[c] || {};
        values.push(unpack(d.v) || new Array(n));
        texts.push(unpack(d.t));
        titles.push(unpack(d.h));
        nums.push(typeof d.n === "number" || d.n === undefined ? !!d.n : unpack(d.n));
      }
      this.cellData = { values: values, texts: texts, titles: titles, nums: nums };
      var urls = unpack(data.urls), pre = data.url[0], post = data.url[1];
      var nameCol = -1;
      for (c = 0; c < cols.length; c++) if (cols[c].key === "name" && cols[c].group === "run") nameCol = c;
      for (var i = 0; i < n; i++) {
        var row = {}, text;
        for (c = 0; c < cols.length; c++) row[cols[c].key] = values[c][i];
        text = nameCol < 0 ? ids[i] : this.textAt(nameCol, i);
        this.rows.push({ tr: null, key: this.project + "/" + ids[i], values: row, index: i, visible: true,
          queryOk: true, shown: true, name: text, url: this.root + (urls ? urls[i] : pre + ids[i] + post) });
      }
    };

    /* Read every row's words for free-text filters in slices while the page is idle, so the
     * first word typed filters as fast as the next (query.js keeps them per row). */
    Table.prototype.warmWords = function () {
      var rows = this.rows, match = window.RunpagesQuery.parse("\u0002").bind(this.columnKeys()), at = 0;
      function slice() {
        var end = Math.min(rows.length, at + 4000);
        for (; at < end; at++) match(rows[at].values);
        if (at < rows.length) setTimeout(slice, 0);
      }
      setTimeout(slice, 200);
    };

    Table.prototype.textAt = function (c, i) {
      var t = this.cellData.texts[c], v;
      if (t && t[i] !== null && t[i] !== undefined) return t[i];
      v = this.cellData.values[c][i];
      if (Array.isArray(v)) return v.join("");
      return v === null || v === undefined ? "" : String(v);
    };

    /* The text a reader sees in a cell. */
    Table.prototype.cellText = function (row, col) {
      if (!this.virtual) return row.tr.cells[col.index].textContent;
      return this.textAt(this.columns.indexOf(col), row.index);
    };

    Table.prototype.makeRow = function (row) {
      var tr = document.createElement("tr"), i = row.index, cols = this.columns;
      tr.setAttribute("data-key", row.key);
      var tick = document.createElement("td");
      tick.className = "rp-tick-col";
      var box = document.createElement("input");
      box.type = "checkbox";
      box.className = "rp-tick";
      box.setAttribute("aria-label", "Tick " + row.name);
      box.checked = !!this.selected[row.key];
      tick.appendChild(box);
      tr.appendChild(tick);
      for (var c = 0; c < cols.length; c++) {
        var col = cols[c], td = document.createElement("td"), text = this.textAt(c, i), inner;
        var titles = this.cellData.titles[c], title = titles && titles[i];
        if (title === 1) title = String(this.cellData.values[c][i]);     // the full value (rows script)
        if (title) td.title = title;
        var num = this.cellData.nums[c];
        if (num === true || (num && num[i])) td.className = "num";
        var kind = col.group === "run" ? col.key : "";
        if (kind === "name") {
          inner = document.createElement("a");
          inner.href = row.url;
          inner.textContent = text;
          td.appendChild(inner);
        } else if (kind === "status") {
          inner = document.createElement("span");
          inner.className = "badge status-" + text;
          inner.textContent = text;
          td.appendChild(inner);
        } else if (kind === "tags") {
          var tags = this.cellData.values[c][i] || [];
          for (var k = 0; k < tags.length; k++) {
            inner = document.createElement("span");
            inner.className = "tag";
            inner.textContent = tags[k];
            td.appendChild(inner);
          }
        } else if (kind === "git") {
          inner = document.createElement("code");
          inner.textContent = text;
          td.appendChild(inner);
        } else {
          td.textContent = text;
        }
        tr.appendChild(td);
      }
      row.tr = tr;
      return tr;
    };

    Table.prototype.paintVirtual = function () {
      var items = [];
      for (var i = 0; i < this.order.length; i++) {
        var row = this.order[i];
        row.shown = row.visible;
        if (row.visible) items.push(row);
      }
      this.matched = items.length;
      this.showCount(items.length, "");
      if (this.rowsMissing) {
        this.showMessage("error", "The table's rows (" + this.rowsMissing + ") did not load; rebuild the site.");
      }
      this.renderItems(items);
    };

    /* items: rows and group objects (table-groups.js), each with .tr once made. */
    Table.prototype.renderItems = function (items) {
      this.vItems = items;
      this.renderWindow();
    };

    /* Column widths from the first rows laid out, then a fixed table layout: a scroll or a
     * sort lays out its rows without measuring every cell again, and columns keep their width
     * while the rows under them change. The column chooser measures afresh (unfixWidths). */
    Table.prototype.fixWidths = function () {
      var ths = this.table.tHead.rows[0].cells, widths = [], total = 0, i;
      for (i = 0; i < ths.length; i++) {
        var w = ths[i].getBoundingClientRect().width;
        widths.push(w);
        total += w;
      }
      for (i = 0; i < ths.length; i++) {
        ths[i].style.boxSizing = "border-box";
        ths[i].style.width = widths[i] + "px";
      }
      this.table.style.width = Math.ceil(total) + "px";
      this.table.style.tableLayout = "fixed";
      this.widthsFixed = true;
    };

    Table.prototype.unfixWidths = function () {
      if (!this.virtual || !this.widthsFixed) return;
      var ths = this.table.tHead.rows[0].cells;
      for (var i = 0; i < ths.length; i++) { ths[i].style.width = ""; ths[i].style.boxSizing = ""; }
      this.table.style.width = "";
      this.table.style.tableLayout = "";
      this.widthsFixed = false;
      this.renderWindow();
    };

    Table.prototype.spacer = function (px) {
      var tr = document.createElement("tr"), td = document.createElement("td");
      tr.className = "rp-spacer";
      tr.setAttribute("aria-hidden", "true");
      td.colSpan = this.columns.length + 1;
      td.style.height = px + "px";
      tr.appendChild(td);
      return tr;
    };

    Table.prototype.renderWindow = function (again) {
      var items = this.vItems || [], h = this.rowHeight, wrap = this.wrap;
      var head = this.table.tHead ? this.table.tHead.offsetHeight : 0;
      var view = wrap.clientHeight || window.innerHeight || 800;
      var first = Math.max(0, Math.floor((wrap.scrollTop - head) / h) - OVERSCAN);
      first = Math.min(first, Math.max(0, items.length - 1));
      var last = Math.min(items.length, first + Math.ceil(view / h) + 2 * OVERSCAN);
      var frag = document.createDocumentFragment(), laid = [];
      if (first > 0) frag.appendChild(this.spacer(first * h));
      for (var i = first; i < last; i++) {
        var item = items[i], tr = item.tr || this.makeRow(item);
        if (tr.hidden) tr.hidden = false;
        frag.appendChild(tr);
        laid.push(tr);
      }
      if (last < items.length) frag.appendChild(this.spacer((items.length - last) * h));
      this.tbody.textContent = "";
      this.tbody.appendChild(frag);
      this.window = { first: first, last: last };
      /* The box is a fixed height (contain: strict); a short list shrinks it to fit. */
      var fit = head + items.length * h + (wrap.offsetHeight - wrap.clientHeight) + 2;
      var height = fit < window.innerHeight * 0.75 ? Math.ceil(fit) + "px" : "";
      if (wrap.style.height !== height) wrap.style.height = height;
      if (!this.widthsFixed && laid.length) this.fixWidths();
      /* Place rows by their real height once one is laid out (fonts, zoom, phone width). */
      if (!again && laid.length) {
        var real = (laid[laid.length - 1].getBoundingClientRect().bottom - laid[0].getBoundingClientRect().top) / laid.length;
        if (real > 0 && Math.abs(real - h) > 0.5) {
          this.rowHeight = real;
          this.renderWindow(true);
        }
      }
    };
  }

  (window.RunpagesTableParts = window.RunpagesTableParts || []).push(install);
})();
