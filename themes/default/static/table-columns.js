/* runpages: the runs table's column chooser and CSV export (a part of table.js).
 *
 * Columns: a checkbox per column in #rp-column-menu; the choice is remembered per project in
 * localStorage and applied through one generated <style> element (#rp-hidden-columns).
 * CSV: what the filter keeps, in table order, with the chosen columns and full values.
 *
 * Loaded after query.js and before table.js, which installs this part into its Table.
 */
(function () {
  "use strict";

  var toText = window.RunpagesQuery.toText;
  var NUMBER = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;   // query.js's number
  var CSV_INJECTION = /^[=+\-@\t\r]/;

  function csvCell(text) {
    var s = toText(text);
    // A leading = + - @ makes spreadsheets evaluate the cell; plain numbers are safe as they are.
    if (CSV_INJECTION.test(s) && !NUMBER.test(s)) s = "'" + s;
    if (/[",\r\n]/.test(s)) s = "\"" + s.replace(/"/g, "\"\"") + "\"";
    return s;
  }

  function storage() {
    try { return window.localStorage; } catch (e) { return null; }
  }

  function install(Table) {
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
      if (this.unfixWidths) this.unfixWidths();       // a large table measures its columns again
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

  }

  (window.RunpagesTableParts = window.RunpagesTableParts || []).push(install);
})();
