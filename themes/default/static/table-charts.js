/* runpages: the project page's overlaid charts, kept in step with the runs table (a part of
 * table.js).
 *
 * The project's low-resolution series (data/projects/<project>.js) load when the charts section
 * opens; a run is drawn while the table shows it (filter, key filters) and, once any run is
 * ticked, only while it is ticked. A legend click hides a run until it is clicked again.
 * At most `max` runs are drawn at a time (#rp-project-charts data-max-runs; overlay_rule in
 * sitegen/pages/project.py): the best of the wanted runs by the main metric, and #rp-overlay-note
 * says so ("showing 20 of 100,000 runs: the best by val/loss; filter to choose"). A large
 * project's data script holds only the runs the charts open with; a run chosen later is loaded
 * from its own data script (RunpagesData.load), and the charts are redrawn with the chosen runs.
 *
 * Loaded after query.js and before table.js, which installs this part into its Table.
 */
(function () {
  "use strict";

  var toNumber = window.RunpagesQuery.toNumber;

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
          self.chartData = {};
          runs.forEach(function (r) { self.chartVisible[r.key] = true; self.chartData[r.key] = r; });
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

    /* The note and the charts follow the table a moment after it changes (many changes in a
     * row, e.g. typing a filter, cost one choice). */
    Table.prototype.scheduleChartSync = function () {
      var self = this;
      if (this.chartTimer) return;
      this.chartTimer = setTimeout(function () { self.chartTimer = null; self.syncCharts(); }, 120);
    };

    /* The overlay rule (sitegen/pages/project.py overlay_rule): at most `max` runs, the best by
     * the main metric in its preferred direction, else the newest; ties and runs without a
     * finite value keep the table's first order (newest first). */
    Table.prototype.overlayRule = function () {
      if (this.rule) return this.rule;
      var box = document.getElementById("rp-project-charts"), metric = box && box.getAttribute("data-metric");
      var col = null;
      for (var i = 0; metric && i < this.columns.length; i++) {
        if (this.columns[i].group === "summary" && this.columns[i].label === metric) col = this.columns[i];
      }
      this.rule = { max: parseInt(box && box.getAttribute("data-max-runs"), 10) || 20, metric: col ? metric : "",
        column: col, sign: box && box.getAttribute("data-direction") === "max" ? -1 : 1 };
      return this.rule;
    };

    Table.prototype.chartChoice = function () {
      var rule = this.overlayRule(), anyTicked = Object.keys(this.selected).length > 0, wanted = 0;
      var top = [], max = rule.max, col = rule.column, sign = rule.sign;
      function better(a, b) {         // a before b
        if (a.missing !== b.missing) return !a.missing;
        if (a.v !== b.v) return a.v < b.v;
        return a.index < b.index;
      }
      for (var i = 0; i < this.rows.length; i++) {
        var row = this.rows[i];
        if (!row.visible || (anyTicked && !this.selected[row.key])) continue;
        wanted++;
        var n = col ? toNumber(row.values[col.key]) : null;
        var item = { row: row, index: row.index, missing: n === null || !isFinite(n), v: 0 };
        if (!item.missing) item.v = sign * n;
        if (!col) item.missing = false;
        if (top.length === max && !better(item, top[max - 1])) continue;
        var at = top.length;
        while (at > 0 && better(item, top[at - 1])) at--;
        top.splice(at, 0, item);
        if (top.length > max) top.pop();
      }
      return { rows: top.map(function (t) { return t.row; }), of: wanted, ticked: anyTicked,
               filtered: wanted < this.rows.length, rule: rule };
    };

    Table.prototype.showOverlayNote = function (choice) {
      var note = document.getElementById("rp-overlay-note");
      this.overlay = { shown: choice.rows.length, of: choice.of, keys: choice.rows.map(function (r) { return r.key; }) };
      if (!note) return;
      var cut = choice.of > choice.rows.length;
      note.hidden = !cut;
      if (!cut) return;
      note.textContent = "showing " + choice.rows.length + " of " + choice.of.toLocaleString("en-US") + " " +
        (choice.ticked ? "ticked " : choice.filtered ? "matching " : "") + "runs: " +
        (choice.rule.metric ? "the best by " + choice.rule.metric : "the newest") + "; " +
        (choice.ticked ? "tick fewer to choose" : "filter to choose");
    };

    Table.prototype.syncCharts = function () {
      var choice = this.chartChoice();
      this.showOverlayNote(choice);
      if (!this.charts) return;
      var self = this, want = {}, keys = choice.rows.map(function (r) { return r.key; });
      keys.forEach(function (k) { want[k] = true; });
      var missing = keys.filter(function (k) { return !self.chartData[k]; });
      if (missing.length && !this.chartLoading) {
        /* Runs outside the project's chart data: their own data scripts (the run pages'). */
        this.chartLoading = true;
        window.RunpagesData.load(missing, this.root, function (failed, runs) {
          self.chartLoading = false;
          runs.forEach(function (r) { self.chartData[r.key] = r; });
          failed.forEach(function (k) { self.chartData[k] = self.chartData[k] || null; });
          self.syncCharts();
        });
        return;
      }
      if (missing.length) return;          // syncCharts runs again when the load finishes
      var mounted = this.chartVisible, outside = keys.some(function (k) { return mounted[k] === undefined && self.chartData[k]; });
      if (outside) {
        var runs = keys.map(function (k) { return self.chartData[k]; }).filter(Boolean);
        this.chartVisible = {};
        runs.forEach(function (r) { self.chartVisible[r.key] = true; });
        this.chartsReady = false;
        Promise.resolve(this.charts.update(runs)).then(function () { self.chartsReady = true; });
        Object.keys(this.legendHidden).forEach(function (k) {
          if (self.chartVisible[k]) { self.chartVisible[k] = false; self.charts.setVisible(k, false); }
        });
        return;
      }
      Object.keys(mounted).forEach(function (k) {
        var on = !!want[k] && !self.legendHidden[k];
        if (mounted[k] !== on) {
          mounted[k] = on;
          self.charts.setVisible(k, on);
        }
      });
    };
  }

  (window.RunpagesTableParts = window.RunpagesTableParts || []).push(install);
})();
