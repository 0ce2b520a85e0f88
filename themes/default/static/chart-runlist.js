/* runpages run list: the legend of a set of charts, beside them (below on a phone), never over
 * the data and never cut short: every run is listed (the list scrolls), each with its colour, a
 * show/hide box and its name; a search narrows the list (every word must match the name, user,
 * group, tags or project); "show all" / "hide all" act on the runs the search leaves. Hovering
 * an entry highlights that run in every chart of the page.
 *
 * RunpagesCharts.runList(ctl) → {el, update(), setHot(runKey | null)}; it calls
 * ctl.setVisible(key, on, true) and ctl.highlight(key | null). Text goes in as textContent.
 */
(function () {
  "use strict";
  var C = window.RunpagesCharts = window.RunpagesCharts || {};

  function runList(ctl) {
    var el = RunpagesSite.el;
    var box = el("aside", { "class": "rp-runlist", "aria-label": "runs in these charts" });
    var head = el("div", { "class": "rp-runlist-head" });
    var search = el("input", { type: "search", "class": "rp-run-search", placeholder: "search runs…", "aria-label": "search runs" });
    var count = el("span", { "class": "rp-run-count small muted" });
    var showAll = el("button", { type: "button", "class": "rp-run-all" }, "show all");
    var hideAll = el("button", { type: "button", "class": "rp-run-none" }, "hide all");
    head.appendChild(search);
    var row = el("div", { "class": "rp-runlist-row" });
    [count, showAll, hideAll].forEach(function (e) { row.appendChild(e); });
    head.appendChild(row);
    var list = el("ul", { "class": "rp-runlist-items" });
    box.appendChild(head);
    box.appendChild(list);
    var items = {};

    function matching() {
      return ctl.runs.filter(function (r) { return C.runMatches(r, search.value); });
    }

    function filter() {
      var shown = 0;
      ctl.runs.forEach(function (r) {
        var li = items[r.key], ok = C.runMatches(r, search.value);
        if (li) li.hidden = !ok;
        if (ok) shown++;
      });
      count.textContent = shown === ctl.runs.length ? ctl.runs.length + " runs" : shown + " of " + ctl.runs.length + " runs";
    }

    function update() {
      list.textContent = "";
      items = {};
      ctl.runs.forEach(function (r) {
        var li = el("li", { "class": "rp-run-item", "data-key": r.key });
        var label = el("label", { title: r.name + (r.user ? " · " + r.user : "") });
        var box = el("input", { type: "checkbox", "class": "rp-run-toggle", "aria-label": "show " + r.name });
        box.checked = !ctl.state.hidden[r.key];
        var swatch = el("span", { "class": "rp-swatch", "aria-hidden": "true" });
        swatch.style.background = r.color || C.rules.palette[0];
        label.appendChild(box);
        label.appendChild(swatch);
        label.appendChild(el("span", { "class": "rp-run-name" }, r.name));
        li.appendChild(label);
        box.addEventListener("change", function () { ctl.setVisible(r.key, box.checked, true); });
        li.addEventListener("mouseenter", function () { ctl.highlight(r.key); });
        li.addEventListener("mouseleave", function () { ctl.highlight(null); });
        list.appendChild(li);
        items[r.key] = li;
      });
      filter();
    }

    search.addEventListener("input", filter);
    showAll.addEventListener("click", function () { matching().forEach(function (r) { ctl.setVisible(r.key, true, true); }); });
    hideAll.addEventListener("click", function () { matching().forEach(function (r) { ctl.setVisible(r.key, false, true); }); });
    box.addEventListener("mouseleave", function () { ctl.highlight(null); });

    return {
      el: box,
      update: update,
      /* Reflect the controller's state: ticks of shown runs, the highlighted entry. */
      sync: function () {
        Object.keys(items).forEach(function (k) {
          var t = items[k].querySelector(".rp-run-toggle");
          if (t && t.checked !== !ctl.state.hidden[k]) t.checked = !ctl.state.hidden[k];
        });
      },
      setHot: function (key) {
        Object.keys(items).forEach(function (k) { items[k].classList.toggle("rp-hot", k === key); });
      }
    };
  }

  C.runList = runList;
})();
