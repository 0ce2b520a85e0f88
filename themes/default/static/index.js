/* Home page: the team pulse (runs per day per user, best-so-far per project) with BokehJS. */
(function () {
  "use strict";
  var dataEl = document.getElementById("pulse-data");
  if (!dataEl || !window.Bokeh || !window.RunpagesCharts) return;
  var pulse = JSON.parse(dataEl.textContent);
  var B = window.Bokeh, P = B.Plotting, C = window.RunpagesCharts;
  var DAY = 86400000;
  window.runpagesPulse = { plots: {} };

  function draw() {
    var dark = window.RunpagesSite ? RunpagesSite.isDark() : false, c = C.colors(dark);
    var cells = document.querySelectorAll(".pulse [data-chart]");
    for (var i = 0; i < cells.length; i++) cells[i].textContent = "";
    var per = pulse.per_day;
    var runsCell = document.getElementById("pulse-runs");
    if (runsCell && per.days.length) {
      var fig = C.figure({ height: 220, x_axis_type: "datetime", title: "Runs started per day, by user",
        tools: "xpan,xwheel_zoom,reset,save" }, dark);
      var xs = per.days.map(function (d) { return Date.parse(d + "T12:00:00Z"); });
      /* At least two weeks wide, so one busy day is a bar and not the whole chart. */
      var x1 = xs[xs.length - 1] + DAY * 0.6, x0 = Math.min(xs[0] - DAY * 0.6, x1 - 14 * DAY);
      fig.x_range = new B.Range1d({ start: x0, end: x1 });
      var bottom = xs.map(function () { return 0; });
      var users = Object.keys(per.users);
      var hoverables = [];
      users.forEach(function (u, k) {
        var counts = per.users[u];
        var top = bottom.map(function (b, j) { return b + counts[j]; });
        var src = new B.ColumnDataSource({ data: { x: xs, top: top, bottom: bottom.slice(), n: counts,
          user: xs.map(function () { return u; }), day: per.days } });
        var opts = { x: { field: "x" }, top: { field: "top" }, bottom: { field: "bottom" }, width: DAY * 0.8, source: src,
          fill_color: (per.colors || {})[u] || C.palette[k % C.palette.length], line_color: null };
        if (users.length <= 10) opts.legend_label = u;
        hoverables.push(fig.vbar(opts));
        bottom = top;
      });
      fig.add_tools(new B.HoverTool({ renderers: hoverables, tooltips: [["user", "@user"], ["day", "@day"], ["runs", "@n"]] }));
      if (users.length <= 10 && fig.legend) {
        fig.legend.location = "top_left"; fig.legend.label_text_font_size = "11px"; fig.legend.click_policy = "hide";
        fig.legend.background_fill_color = c.bg; fig.legend.label_text_color = c.text; fig.legend.border_line_color = c.outline;
      }
      window.runpagesPulse.plots["runs-per-day"] = fig;
      P.show(fig, runsCell);
    }
    var bestCells = document.querySelectorAll(".pulse-best");
    for (var b = 0; b < bestCells.length; b++) {
      var item = pulse.best[+bestCells[b].getAttribute("data-index")];
      if (!item) continue;
      var f = C.figure({ height: 220, x_axis_type: "datetime", tools: "xpan,xwheel_zoom,reset,save",
        title: item.project + " · best " + item.metric + (item.direction === "min" ? " (lower is better)" : " (higher is better)") }, dark);
      var tx = item.time.map(function (t) { return t * 1000; });
      var tmin = Math.min.apply(null, tx), tmax = Math.max.apply(null, tx);
      /* The axis ends at the last activity (a little margin for the last dot), never in the future. */
      var span = Math.max(tmax - tmin, 2 * DAY), margin = Math.max(span * 0.02, 3600000);
      f.x_range = new B.Range1d({ start: tmax - span - margin, end: tmax + margin });
      var vmin = Math.min.apply(null, item.value), vmax = Math.max.apply(null, item.value);
      if (vmax === vmin) { var pad = Math.abs(vmin) * 0.05 || 1; f.y_range = new B.Range1d({ start: vmin - pad, end: vmax + pad }); }
      var src2 = new B.ColumnDataSource({ data: { x: item.time.map(function (t) { return t * 1000; }), y: item.value, run: item.run } });
      f.step({ x: { field: "x" }, y: { field: "y" }, source: src2, mode: "after", line_color: C.palette[b % C.palette.length], line_width: 2 });
      var dots = f.scatter({ x: { field: "x" }, y: { field: "y" }, source: src2, size: 6, fill_color: C.palette[b % C.palette.length], line_color: null });
      f.add_tools(new B.HoverTool({ renderers: [dots], tooltips: [["run", "@run"], ["best", "@y{0.[0000]}"], ["at", "@x{%F %H:%M}"]],
        formatters: { "@x": "datetime" } }));
      window.runpagesPulse.plots["best:" + item.project] = f;
      P.show(f, bestCells[b]);
    }
  }
  draw();
  if (window.RunpagesSite) RunpagesSite.onThemeChange(draw);
})();
