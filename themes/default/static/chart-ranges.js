/* runpages range keeper: the zoom and pan a reader set survive a redraw (serve --watch brings
 * new steps, the set of charts changed). RunpagesCharts.ranges.save(plots) → {plotKey: {x, y}}
 * for the ranges moved by hand; ranges.restore(plots, saved) puts them back on the new figures.
 */
(function () {
  "use strict";
  var C = window.RunpagesCharts = window.RunpagesCharts || {};

  function axes(figure) { return [["x", figure.x_range], ["y", figure.y_range]]; }

  C.ranges = {
    save: function (plots) {
      var out = {};
      Object.keys(plots).forEach(function (k) {
        var r = {};
        axes(plots[k].figure).forEach(function (p) {
          var rng = p[1];
          if (rng && rng.have_updated_interactively) r[p[0]] = [rng.start, rng.end];
        });
        if (r.x || r.y) out[k] = r;
      });
      return out;
    },
    restore: function (plots, saved) {
      Object.keys(saved).forEach(function (k) {
        var plot = plots[k];
        if (!plot) return;
        axes(plot.figure).forEach(function (p) {
          var want = saved[k][p[0]], rng = p[1];
          if (!want || !rng) return;
          rng.setv({ start: want[0], end: want[1] });
          if ("have_updated_interactively" in rng) rng.have_updated_interactively = true;
        });
      });
    }
  };
})();
