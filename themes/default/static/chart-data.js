/* runpages chart data: the per-run and per-project data scripts land here (RunpagesData).
 *
 * Data arrives as <script src> files (fetch() is blocked on file://):
 *   data/runs/<project>/<run-id>.js      RunpagesData.add({...})
 *   data/projects/<project>.js           RunpagesData.addProject({...})
 * add()/addProject() expand every series to {step, time, y} (RunpagesCharts.expand).
 *   RunpagesData.runs[key], RunpagesData.projects[projectSlug]
 *   RunpagesData.load(keys, rootPrefix, callback(failedKeys, loadedRuns))   injects <script> per
 *       missing key; keys outside the slug alphabet (or with "..") fail without a request.
 * Needs chart-series.js.
 */
(function () {
  "use strict";
  var expand = window.RunpagesCharts.expand;

  var KEY_RE = /^[A-Za-z0-9_-][A-Za-z0-9._-]*\/[A-Za-z0-9_-][A-Za-z0-9._-]*$/;

  var Data = {
    runs: {},
    projects: {},
    _waiting: {},
    add: function (payload) {
      expand(payload);
      Data.runs[payload.key] = payload;
    },
    addProject: function (p) {
      (p.runs || []).forEach(expand);
      Data.projects[p.slug || p.name] = p;
    },
    /* Load data/runs/<key>.js for each key not loaded yet; callback(failedKeys, runs) once all
     * arrived or failed. Keys are checked against the slug alphabet, so a URL cannot point the
     * loader outside data/runs/. */
    load: function (keys, rootPrefix, callback) {
      var root = rootPrefix === undefined || rootPrefix === null ? (window.RunpagesSite ? RunpagesSite.root() : "") : rootPrefix;
      var failed = [], pending = 0, done = false;
      function finish() {
        if (done || pending > 0) return;
        done = true;
        var runs = keys.filter(function (k) { return Data.runs[k]; }).map(function (k) { return Data.runs[k]; });
        if (callback) callback(failed, runs);
      }
      (keys || []).forEach(function (key) {
        if (Data.runs[key]) return;
        if (typeof key !== "string" || !KEY_RE.test(key) || key.indexOf("..") >= 0) { failed.push(key); return; }
        pending++;
        var waiters = Data._waiting[key];
        var settle = function (ok) { pending--; if (!ok || !Data.runs[key]) failed.push(key); finish(); };
        if (waiters) { waiters.push(settle); return; }
        Data._waiting[key] = [settle];
        var s = document.createElement("script");
        s.src = root + "data/runs/" + key + ".js";
        s.async = true;
        var fire = function (ok) { var w = Data._waiting[key] || []; delete Data._waiting[key]; w.forEach(function (f) { f(ok); }); };
        s.onload = function () { fire(true); };
        s.onerror = function () { fire(false); };
        document.head.appendChild(s);
      });
      finish();
    }
  };
  window.RunpagesData = Data;
})();
