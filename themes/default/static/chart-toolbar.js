/* runpages chart toolbar: x axis, log y, log x, smoothing and the chart filter above a set of
 * charts. RunpagesCharts.toolbar(state, onChange) → {el, fillX(metricKeys), sync()};
 * onChange("render") after a control that redraws, onChange("search") after the filter.
 * The toolbar writes the reader's choices into `state` and draws nothing itself.
 */
(function () {
  "use strict";
  var C = window.RunpagesCharts = window.RunpagesCharts || {};

  function labelled(el, cls, box, text) {
    var label = el("label", { "class": "rp-control" });
    label.appendChild(box);
    label.appendChild(document.createTextNode(text));
    return label;
  }

  function toolbar(state, onChange) {
    var el = RunpagesSite.el;
    var bar = el("div", { "class": "rp-controls", role: "toolbar", "aria-label": "chart controls" });
    var xLabel = el("label", { "class": "rp-control" }, "x axis ");
    var xSel = el("select", { "class": "rp-x", "aria-label": "x axis" });
    xLabel.appendChild(xSel);
    var logYBox = el("input", { type: "checkbox", "class": "rp-logy" });
    var logXBox = el("input", { type: "checkbox", "class": "rp-logx" });
    var smoothLabel = el("label", { "class": "rp-control" }, "smoothing ");
    var smoothIn = el("input", { type: "range", min: "0", max: "0.99", step: "0.01", value: "0", "class": "rp-smooth", "aria-label": "smoothing" });
    var smoothVal = el("span", { "class": "rp-smooth-value" }, "0");
    smoothLabel.appendChild(smoothIn); smoothLabel.appendChild(smoothVal);
    var search = el("input", { type: "search", placeholder: "filter charts…", "class": "rp-search", "aria-label": "filter charts by name" });
    [xLabel, labelled(el, "rp-logy", logYBox, " log y"), labelled(el, "rp-logx", logXBox, " log x"), smoothLabel, search]
      .forEach(function (c) { bar.appendChild(c); });

    xSel.addEventListener("change", function () { state.x = xSel.value; onChange("render"); });
    logYBox.addEventListener("change", function () { state.logY = logYBox.checked; onChange("render"); });
    logXBox.addEventListener("change", function () { state.logX = logXBox.checked; onChange("render"); });
    var smoothTimer = null;
    smoothIn.addEventListener("input", function () {
      state.smooth = parseFloat(smoothIn.value) || 0;
      smoothVal.textContent = state.smooth.toFixed(2);
      clearTimeout(smoothTimer);
      smoothTimer = setTimeout(function () { onChange("render"); }, 120);
    });
    search.addEventListener("input", function () { state.search = search.value; onChange("search"); });

    return {
      el: bar,
      /* The x choices: step, wall time, relative time, then every metric (keeps the choice). */
      fillX: function (metricKeys) {
        var cur = state.x;
        xSel.textContent = "";
        [["step", "step"], ["time", "wall time"], ["rel", "relative time"]].forEach(function (o) {
          xSel.appendChild(el("option", { value: o[0] }, o[1]));
        });
        metricKeys.forEach(function (k) { xSel.appendChild(el("option", { value: "m:" + k }, k)); });
        xSel.value = cur;
        if (xSel.value !== cur) { state.x = "step"; xSel.value = "step"; }
      },
      sync: function () {
        xSel.value = state.x; logYBox.checked = state.logY; logXBox.checked = state.logX;
        smoothIn.value = String(state.smooth); smoothVal.textContent = String(state.smooth);
        search.value = state.search;
      }
    };
  }

  C.toolbar = toolbar;
})();
