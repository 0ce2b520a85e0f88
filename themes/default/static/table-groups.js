/* runpages: grouped rows in the project page's runs table (a part of table.js).
 *
 * Grouping (a column key, e.g. "group" or "config.lr"): runs sharing the column's value are
 * listed under one expandable group row (tr.rp-group-row) with mean ± std of the numeric
 * summary columns over its visible runs; members are laid out only while their group is open.
 * A member whose value is NaN/inf is left out of the mean and counted on the cell
 * ("0.31 ± 0.02 (1 NaN)"); a group of nothing but NaN shows NaN.
 * Table.prototype.paint hands over to paintGroups while a grouping is set.
 *
 * Loaded after query.js and before table.js, which installs this part into its Table.
 */
(function () {
  "use strict";

  var toNumber = window.RunpagesQuery.toNumber;

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

  var fmt = window.Runpages.values.formatNumber;

  function install(Table) {
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
      } else if (!this.virtual) {
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
          text = members.length ? this.cellText(members[0], col) : g.value;
        } else if (col.type === "num" && col.group !== "run") {
          var nums = [], bad = 0, badKinds = {};
          for (var m = 0; m < members.length; m++) {
            var n = toNumber(members[m].values[col.key]);
            if (n !== null && isFinite(n)) nums.push(n);
            else if (n !== null) { bad++; badKinds[fmt(n)] = 1; }   // NaN/inf: left out of the mean
          }
          var st = stats(nums);
          if (st) {
            var lo = Math.min.apply(null, nums), hi = Math.max.apply(null, nums);
            if (col.group === "config" && lo === hi) text = this.cellText(members[0], col);
            else if (col.group === "config") text = fmt(lo) + "\u2013" + fmt(hi);
            else {
              text = st.n > 1 ? fmt(st.mean) + " \u00b1 " + fmt(st.std) : fmt(st.mean);
              title = "mean \u00b1 std of " + st.n + " runs; min " + fmt(lo) + ", max " + fmt(hi);
            }
          }
          if (bad && col.group !== "config") {
            var kinds = Object.keys(badKinds);
            text = st ? text + " (" + bad + " " + (kinds.length === 1 ? kinds[0] : "NaN/inf") + ")"
              : (kinds.length === 1 ? kinds[0] : "NaN/inf");
            title = (title ? title + "; " : "") + bad + (bad === 1 ? " run" : " runs") + " NaN or inf, left out of the mean";
          }
        } else {
          /* Run columns and text: the members' shown text when they all agree. */
          var self = this, shownText = function (row) { return self.cellText(row, col); };
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
      var frag = document.createDocumentFragment(), matched = 0, groupsShown = 0, items = [];
      for (i = 0; i < seen.length; i++) {
        g = seen[i];
        var members = visibleOf[g.value], open = !!this.openGroups[g.value];
        this.fillGroupRow(g, members);
        g.tr.hidden = members.length === 0;
        if (members.length) groupsShown++;
        if (this.virtual) {
          /* Only the group rows and the open groups' visible members, laid out on demand. */
          if (members.length) items.push(g);
          if (open) for (var m = 0; m < members.length; m++) items.push(members[m]);
          matched += members.length;
          continue;
        }
        frag.appendChild(g.tr);
        var rows = g.rows.slice().sort(function (a, b) { return a.pos - b.pos; });
        for (var r = 0; r < rows.length; r++) {
          var row = rows[r], shown = row.visible && open;
          if (row.visible) matched++;
          if (shown !== row.shown) { row.tr.hidden = !shown; row.shown = shown; }
          frag.appendChild(row.tr);
        }
      }
      if (this.virtual) this.renderItems(items); else this.tbody.appendChild(frag);
      this.matched = matched;
      this.showCount(matched, " in " + groupsShown + (groupsShown === 1 ? " group" : " groups"));
      if (this.more) this.more.hidden = true;
    };
  }

  (window.RunpagesTableParts = window.RunpagesTableParts || []).push(install);
})();
