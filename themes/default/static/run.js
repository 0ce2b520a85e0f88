/* Run page: draw this run's metric and system charts from its data script. */
(function () {
  "use strict";
  var box = document.getElementById("run-charts");
  if (!box) return;
  var run = window.RunpagesData && RunpagesData.runs[box.getAttribute("data-run")];
  if (!run) { box.textContent = "This run's chart data did not load."; return; }
  if (!Object.keys(run.metrics).length && !Object.keys(run.system).length) return;
  window.runpagesCharts = RunpagesCharts.mount(box, [run], { system: true });
})();
