/* Run page media: image grids, players, tables and histograms, drawn from #media-data
   (sitegen/media_page.py). User text only ever reaches the page through textContent. */
(function () {
  "use strict";
  var S = window.RunpagesSite;
  var dataEl = document.getElementById("media-data");
  if (!dataEl) return;
  var sections = JSON.parse(dataEl.textContent);
  var PAGE = 50;

  function h(tag, attrs, text) {
    var e = document.createElement(tag);
    Object.keys(attrs || {}).forEach(function (k) { e.setAttribute(k, attrs[k]); });
    if (text !== undefined && text !== null) e.textContent = String(text);
    return e;
  }

  /* A step slider (arrow keys work on it, and on the section) calling show(step). */
  function stepper(sec, root, show) {
    var steps = sec.steps, bar = h("div", { "class": "media-stepper" });
    var label = h("span", { "class": "media-step" }, "step " + steps[steps.length - 1]);
    var input = h("input", { type: "range", min: "0", max: String(steps.length - 1),
      value: String(steps.length - 1), "aria-label": sec.key + " step" });
    if (steps.length < 2) input.disabled = true;
    function go(i) {
      i = Math.max(0, Math.min(steps.length - 1, i));
      input.value = String(i);
      label.textContent = "step " + steps[i];
      show(steps[i], i);
    }
    input.addEventListener("input", function () { go(+input.value); });
    root.addEventListener("keydown", function (ev) {
      if (ev.target === input || ev.target.tagName === "INPUT") return;
      if (ev.key === "ArrowLeft" || ev.key === "ArrowRight") {
        go(+input.value + (ev.key === "ArrowRight" ? 1 : -1));
        ev.preventDefault();
      }
    });
    root.setAttribute("tabindex", "0");
    bar.appendChild(input);
    bar.appendChild(label);
    return { el: bar, go: go, last: steps.length - 1 };
  }

  function openFull(item) {
    var dlg = document.getElementById("media-full");
    dlg.querySelector("img").src = S.url(item.src);
    dlg.querySelector("img").alt = item.caption || "";
    dlg.querySelector(".media-caption").textContent = item.caption || "";
    if (dlg.showModal) dlg.showModal(); else dlg.setAttribute("open", "");
  }

  function drawFiles(sec, body) {
    var holder = h("div", { "class": sec.kind === "image" ? "media-grid" : "media-players" });
    var st = stepper(sec, body.parentNode, function (step) {
      holder.textContent = "";
      (sec.items[String(step)] || []).forEach(function (item) {
        var fig = h("figure", { "class": "media-item" }), el;
        if (sec.kind === "image") {
          el = h("button", { type: "button", "class": "media-thumb", title: "full size" });
          el.appendChild(h("img", { src: S.url(item.thumb), alt: item.caption || sec.key, loading: "lazy" }));
          el.addEventListener("click", function () { openFull(item); });
        } else if (sec.kind === "video" && /\.gif$/i.test(item.src)) {
          el = h("img", { src: S.url(item.src), alt: item.caption || sec.key });
        } else {
          el = h(sec.kind, { src: S.url(item.src), controls: "", preload: "metadata" });
          if (sec.kind === "video") { el.muted = true; el.setAttribute("playsinline", ""); }
        }
        fig.appendChild(el);
        if (item.caption) fig.appendChild(h("figcaption", {}, item.caption));
        holder.appendChild(fig);
      });
    });
    body.appendChild(st.el);
    body.appendChild(holder);
    st.go(st.last);
  }

  function cmp(a, b) {
    var na = typeof a === "number", nb = typeof b === "number";
    if (a === null || a === undefined) return 1;
    if (b === null || b === undefined) return -1;
    if (na && nb) return a - b;
    return String(a).localeCompare(String(b), undefined, { numeric: true });
  }

  function drawTable(sec, body) {
    var wrap = h("div", { "class": "media-table" });
    var state = { table: null, sort: -1, dir: 1, q: "", page: 0, rows: false };
    var filter = h("input", { type: "search", placeholder: "filter rows", "aria-label": sec.key + " filter" });
    var info = h("span", { "class": "muted small media-table-info" });
    var prev = h("button", { type: "button" }, "‹ prev"), next = h("button", { type: "button" }, "next ›");
    var tools = h("div", { "class": "media-table-tools" });
    [filter, prev, next, info].forEach(function (e) { tools.appendChild(e); });
    var tableWrap = h("div", { "class": "table-wrap" });

    var asRows = h("button", { type: "button", "class": "media-as-rows", hidden: "" }, "show as rows");
    asRows.addEventListener("click", function () { state.rows = !state.rows; render(); });
    tools.appendChild(asRows);

    /* A square numeric matrix with labels (sitegen/media_page.py confusion_matrix): a heat map
       whose cells keep their numbers; shade = value / largest value. */
    function renderMatrix(m) {
      var table = h("table", { "class": "media-confusion", "aria-label": sec.key + " (rows: " + m.row_title + ")" });
      var tr = h("tr");
      tr.appendChild(h("th", { scope: "col", "class": "muted small" }, m.row_title));
      m.labels.forEach(function (l) { tr.appendChild(h("th", { scope: "col" }, l)); });
      var thead = h("thead");
      thead.appendChild(tr);
      table.appendChild(thead);
      var tb = h("tbody"), top = m.max || 1;
      m.rows.forEach(function (r, i) {
        var row = h("tr");
        row.appendChild(h("th", { scope: "row" }, m.labels[i]));
        r.forEach(function (v, j) {
          var a = Math.max(0, v / top);
          var td = h("td", { "class": "num" + (i === j ? " media-diag" : "") + (a > 0.55 ? " media-dark" : "") }, S.fmtNum(v));
          td.style.setProperty("--a", a.toFixed(3));
          row.appendChild(td);
        });
        tb.appendChild(row);
      });
      table.appendChild(tb);
      tableWrap.appendChild(table);
    }

    function render() {
      tableWrap.textContent = "";
      var t = state.table;
      var matrix = t && t.matrix;
      asRows.hidden = !matrix;
      asRows.textContent = state.rows ? "show as heat map" : "show as rows";
      [filter, prev, next, info].forEach(function (e) { e.hidden = !!matrix && !state.rows; });
      if (matrix && !state.rows) { renderMatrix(matrix); return; }
      if (!t || !t.columns) {
        tableWrap.appendChild(h("p", { "class": "note" }, (t && t.error) || "This step's table is not shown inline."));
        if (t && t.href) tableWrap.appendChild(h("a", { href: S.url(t.href), download: "" }, "download"));
        return;
      }
      var q = state.q.toLowerCase(), rows = t.data;
      if (q) rows = rows.filter(function (r) { return r.some(function (c) { return String(c === null ? "" : c).toLowerCase().indexOf(q) >= 0; }); });
      if (state.sort >= 0) {
        var i = state.sort, d = state.dir;
        rows = rows.slice().sort(function (a, b) { return d * cmp(a[i], b[i]); });
      }
      var pages = Math.max(1, Math.ceil(rows.length / PAGE));
      state.page = Math.min(state.page, pages - 1);
      var table = h("table", { "class": "media-data" }), thead = h("thead"), tr = h("tr");
      t.columns.forEach(function (c, ci) {
        var th = h("th", { scope: "col" }), btn = h("button", { type: "button", "class": "sort" }, c + (state.sort === ci ? (state.dir > 0 ? " ▲" : " ▼") : ""));
        btn.addEventListener("click", function () {
          if (state.sort === ci) state.dir = -state.dir; else { state.sort = ci; state.dir = 1; }
          state.page = 0;                      // a new order starts at its first page
          render();
        });
        th.appendChild(btn);
        tr.appendChild(th);
      });
      thead.appendChild(tr);
      table.appendChild(thead);
      var tb = h("tbody");
      rows.slice(state.page * PAGE, (state.page + 1) * PAGE).forEach(function (r) {
        var row = h("tr");
        r.forEach(function (c) { row.appendChild(h("td", typeof c === "number" ? { "class": "num" } : {}, S.fmtNum(c))); });
        tb.appendChild(row);
      });
      table.appendChild(tb);
      tableWrap.appendChild(table);
      info.textContent = rows.length + " of " + t.data.length + " rows · page " + (state.page + 1) + " of " + pages;
      prev.disabled = state.page === 0;
      next.disabled = state.page >= pages - 1;
    }
    filter.addEventListener("input", function () { state.q = filter.value; state.page = 0; render(); });
    prev.addEventListener("click", function () { state.page--; render(); });
    next.addEventListener("click", function () { state.page++; render(); });
    var st = stepper(sec, body.parentNode, function (step) { state.table = sec.tables[String(step)]; state.page = 0; render(); });
    body.appendChild(st.el);
    wrap.appendChild(tools);
    wrap.appendChild(tableWrap);
    body.appendChild(wrap);
    st.go(st.last);
  }

  /* Heat map: x = logged step, y = value, shade = share of that step's counts. */
  function drawHistogram(sec, body) {
    var hs = sec.hists;
    if (!hs.length) { body.appendChild(h("p", { "class": "muted" }, "No readable histograms.")); return; }
    var lo = Infinity, hi = -Infinity;
    hs.forEach(function (x) { lo = Math.min(lo, x.edges[0]); hi = Math.max(hi, x.edges[x.edges.length - 1]); });
    if (!(hi > lo)) { hi = lo + 1; }
    var ROWS = 64, heat = h("canvas", { "class": "media-heat", width: "600", height: "220", "aria-label": sec.key + " over steps" });
    var bars = h("canvas", { "class": "media-bars", width: "320", height: "220", "aria-label": sec.key + " at the chosen step" });
    var dark = document.documentElement.getAttribute("data-theme") === "dark";
    var ink = dark ? "120,170,255" : "31,90,200";
    function cells(x) {
      var out = new Array(ROWS).fill(0), tot = 0;
      x.counts.forEach(function (c, i) {
        var mid = (x.edges[i] + x.edges[i + 1]) / 2, r = Math.min(ROWS - 1, Math.max(0, Math.floor((mid - lo) / (hi - lo) * ROWS)));
        out[r] += c; tot += c;
      });
      var m = Math.max.apply(null, out) || 1;
      return out.map(function (v) { return v / m; });
    }
    var grid = hs.map(cells);
    function drawHeat(sel) {
      var g = heat.getContext("2d"), W = heat.width, H = heat.height - 16, cw = W / hs.length, ch = H / ROWS;
      g.clearRect(0, 0, W, heat.height);
      grid.forEach(function (col, xi) {
        col.forEach(function (v, r) {
          if (v <= 0) return;
          g.fillStyle = "rgba(" + ink + "," + (0.08 + 0.92 * v).toFixed(3) + ")";
          g.fillRect(xi * cw, H - (r + 1) * ch, Math.ceil(cw), Math.ceil(ch));
        });
      });
      g.strokeStyle = dark ? "#fff" : "#000";
      g.strokeRect(sel * cw + 0.5, 0.5, Math.max(1, cw - 1), H - 1);
      g.fillStyle = dark ? "#ccc" : "#444";
      g.font = "11px sans-serif";
      g.fillText(S.fmtNum(lo) + " … " + S.fmtNum(hi) + " (value, bottom to top); steps " + hs[0].step + "–" + hs[hs.length - 1].step, 2, heat.height - 3);
    }
    function drawBars(x) {
      var g = bars.getContext("2d"), W = bars.width, H = bars.height - 16, n = x.counts.length;
      var m = Math.max.apply(null, x.counts) || 1;
      g.clearRect(0, 0, W, bars.height);
      g.fillStyle = "rgb(" + ink + ")";
      x.counts.forEach(function (c, i) { var bh = c / m * H; g.fillRect(i * W / n, H - bh, Math.max(1, W / n - 1), bh); });
      g.fillStyle = dark ? "#ccc" : "#444";
      g.font = "11px sans-serif";
      g.fillText(S.fmtNum(x.edges[0]), 2, bars.height - 3);
      var r = S.fmtNum(x.edges[n]);
      g.fillText(r, W - g.measureText(r).width - 2, bars.height - 3);
    }
    var st = stepper(sec, body.parentNode, function (step, i) { drawHeat(i); drawBars(hs[i]); });
    var row = h("div", { "class": "media-hist" });
    row.appendChild(heat);
    row.appendChild(bars);
    body.appendChild(st.el);
    body.appendChild(row);
    st.go(st.last);
  }

  var draw = { image: drawFiles, video: drawFiles, audio: drawFiles, table: drawTable, histogram: drawHistogram };
  document.querySelectorAll("#run-media .media-key").forEach(function (el) {
    var sec = sections[+el.getAttribute("data-index")], body = el.querySelector(".media-body");
    body.textContent = "";
    try { draw[sec.kind](sec, body); } catch (e) { body.appendChild(h("p", { "class": "note" }, "Cannot show this media: " + e.message)); }
  });
})();
