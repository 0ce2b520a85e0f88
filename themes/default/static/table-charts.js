/* runpages: the project page's overlaid charts, kept in step with the runs table (a part of
 * table.js).
 *
 * The project's low-resolution series (data/projects/<project>.js) load when the charts section
 * opens; a run is drawn while the table shows it (filter, key filters) and, once any run is
 * ticked, only while it is ticked. A legend click hides a run until it is clicked again.
 *
 * Loaded after query.js and before table.js, which installs this part into its Table.
 */
(function () {
  "use strict";

  function install(Table) {
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
  }

  (window.RunpagesTableParts = window.RunpagesTableParts || []).push(install);
})();
