/* runpages chart figures: a BokehJS figure with the site's look (light or dark) and ticks
 * that read like numbers people write. Adds RunpagesCharts.figure(attrs, dark?) and
 * RunpagesCharts.colors(dark) (the page's chart colours; run colours come with the data).
 */
(function () {
  "use strict";
  var C = window.RunpagesCharts = window.RunpagesCharts || {};

  function colors(darkMode) {
    return darkMode ? {
      bg: "#16181d", border: "#16181d", grid: "#2b2f38", axis: "#9aa3b2", text: "#d8dde6", title: "#e8ecf2", outline: "#2b2f38"
    } : {
      bg: "#ffffff", border: "#ffffff", grid: "#eceef2", axis: "#6b7280", text: "#374151", title: "#111827", outline: "#e5e7eb"
    };
  }

  /* A Bokeh figure with the site's look (light/dark from the system) and the standard tools. */
  function themedFigure(attrs, darkMode) {
    if (darkMode === undefined) darkMode = window.RunpagesSite ? RunpagesSite.isDark() : false;
    var c = colors(darkMode), a = {
      height: 240, sizing_mode: "stretch_width",
      tools: "xpan,box_zoom,xwheel_zoom,reset,save", active_scroll: "xwheel_zoom", active_drag: "box_zoom",
      background_fill_color: c.bg, border_fill_color: c.border, outline_line_color: c.outline,
      min_border_left: 48, min_border_right: 12, toolbar_location: "right"
    };
    Object.keys(attrs || {}).forEach(function (k) { a[k] = attrs[k]; });
    var fig = window.Bokeh.Plotting.figure(a);
    fig.title.text_color = c.title; fig.title.text_font_size = "12px"; fig.title.text_font_style = "bold";
    fig.axis.each(function (ax) {
      ax.axis_line_color = c.axis; ax.major_tick_line_color = c.axis; ax.minor_tick_line_color = c.axis;
      ax.major_label_text_color = c.text; ax.axis_label_text_color = c.text; ax.axis_label_text_font_size = "11px";
      ax.axis_label_text_font_style = "normal"; ax.major_label_text_font_size = "11px";
    });
    fig.grid.each(function (g) { g.grid_line_color = c.grid; });
    tickAxes(fig, a);
    return fig;
  }

  /* Ticks read like numbers people write (values.js: 3e-4, 0.25, 80M), never Bokeh's 3.000e−4;
   * log axes label every decade. Datetime axes keep Bokeh's date labels. */
  function tickAxes(fig, attrs) {
    var B = window.Bokeh;
    [["x_axis_type", fig.xaxis], ["y_axis_type", fig.yaxis]].forEach(function (pair) {
      var type = attrs[pair[0]] || "linear";
      if (type === "datetime") return;
      var set = function (ax) {
        ax.formatter = new B.CustomJSTickFormatter({ code: "return window.Runpages.values.formatTick(tick, ticks);" });
        // 40 decades at most; spans under a decade or so fall back to linear ticks in BokehJS.
        if (type === "log") ax.ticker = new B.LogTicker({ mantissas: [1], desired_num_ticks: 40 });
      };
      var axes = pair[1];
      if (axes && typeof axes.each === "function") axes.each(set);
      else if (Array.isArray(axes)) axes.forEach(set);
      else if (axes) set(axes);
    });
  }

  C.colors = colors;
  C.figure = themedFigure;
})();
