/* runpages: sortable tables on the utilisation pages. A header click sorts its table by the
 * cells' data-v (numbers) or text; empty cells stay last whichever the direction.
 * Hooks for tests: window.RunpagesUsage = {ready, sortBy(tableId, columnIndex, desc)}. */
(function () {
  "use strict";

  function keyOf(td, numeric) {
    if (!td) return null;
    var v = td.getAttribute("data-v");
    if (numeric) {
      var n = v === null || v === "" ? NaN : Number(v);
      return isNaN(n) ? null : n;
    }
    var s = (v === null ? td.textContent : v).trim().toLowerCase();
    return s === "" ? null : s;
  }

  function sortBy(table, index, desc) {
    var th = table.tHead.rows[0].cells[index];
    if (!th) return false;
    var numeric = th.getAttribute("data-type") === "num";
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows).map(function (tr, i) {
      return { tr: tr, i: i, k: keyOf(tr.cells[index], numeric) };
    });
    var dir = desc ? -1 : 1;
    rows.sort(function (a, b) {
      if (a.k === b.k) return a.i - b.i;
      if (a.k === null) return 1;
      if (b.k === null) return -1;
      return (a.k < b.k ? -1 : 1) * dir;
    });
    var frag = document.createDocumentFragment();
    rows.forEach(function (r) { frag.appendChild(r.tr); });
    body.appendChild(frag);
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (c) { c.removeAttribute("aria-sort"); });
    th.setAttribute("aria-sort", desc ? "descending" : "ascending");
    return true;
  }

  function init() {
    var tables = document.querySelectorAll("table.rp-sortable");
    Array.prototype.forEach.call(tables, function (table) {
      var cells = table.tHead.rows[0].cells;
      Array.prototype.forEach.call(cells, function (th, i) {
        th.tabIndex = 0;
        function go() {
          var desc = th.getAttribute("aria-sort") === "ascending" ||
            (!th.getAttribute("aria-sort") && th.getAttribute("data-type") === "num");
          sortBy(table, i, desc);
        }
        th.addEventListener("click", go);
        th.addEventListener("keydown", function (ev) {
          if (ev.key === "Enter" || ev.key === " ") { ev.preventDefault(); go(); }
        });
      });
    });
    window.RunpagesUsage = {
      ready: true,
      sortBy: function (id, index, desc) { var t = document.getElementById(id); return t ? sortBy(t, index, desc) : false; }
    };
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", init);
  else init();
})();
