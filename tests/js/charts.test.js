/* The chart scripts' pure functions (static/chart-series.js): interpolation, EMA smoothing,
 * x values, chart order, run search; direction and system titles against the case files
 * shared with Python (tests/cases/charts, tests/site/test_chart_rules.py). */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { loadScripts, caseValue } = require("./load.js");

const C = loadScripts("chart-series.js").RunpagesCharts;
const cases = (name) => JSON.parse(fs.readFileSync(path.join(__dirname, "..", "cases", "charts", name), "utf8")).cases;
const plain = (a) => Array.from(a);       // arrays made in the script's context compare as plain arrays

for (const [name, better] of cases("direction.json")) {
  test(`direction of ${name} is ${better}`, () => assert.equal(C.direction(name), better));
}

for (const [key, title] of cases("system_titles.json")) {
  test(`system chart ${key} is titled ${title}`, () => assert.equal(C.systemTitle(key), title));
}

for (const c of cases("packed.json")) {
  test(`packed ${c.kind} unpack to the values Python packed (-0 and NaN included): ${c.note}`, () => {
    assert.deepEqual(plain(C.unpack(c.packed)), c.values.map(caseValue));
  });
}

test("expand unpacks a payload's series and gives them absolute times", () => {
  const p = C.expand({ t0: 100, steps: { step: { a: 0, d: 10, n: 3 }, t: [0, 1, 2] },
                       metrics: { loss: { step: { a: 0, d: 10, n: 3 }, y: "AAAAAAAA8D8AAAAAAAD4fwAAAAAAAPB/" } },
                       system: { "cpu/util_pct": { t: [0.5], y: [50] } } });
  assert.deepEqual(plain(p.steps.step), [0, 10, 20]);
  assert.deepEqual(plain(p.metrics.loss.y), [1, NaN, Infinity]);
  assert.deepEqual(plain(p.metrics.loss.time), [100, 101, 102]);
  assert.deepEqual(plain(p.system["cpu/util_pct"].time), [100.5]);
  assert.equal(C.expand(p), p);
});

test("the palette comes from Python", () => {
  assert.equal(C.rules.palette.length, 12);
  assert.match(C.rules.palette[0], /^#[0-9a-f]{6}$/);
});

test("interp is linear inside and clamps outside", () => {
  assert.deepEqual(plain(C.interp([0, 5, 10, 15, 20], [0, 10], [1, 3])), [1, 2, 3, 3, 3]);
  assert.deepEqual(plain(C.interp([-1, 1.5], [0, 1, 2], [0, 10, 30])), [0, 20]);
  assert.ok(C.interp([1], [], []).every(Number.isNaN));
  // xs out of order still find their segment
  assert.deepEqual(plain(C.interp([1.5, 0.5], [0, 1, 2], [0, 10, 30])), [20, 5]);
});

test("ema is debiased and lets non-finite points through without poisoning it", () => {
  assert.deepEqual(plain(C.ema([2, 2, 2], 0.9)), [2, 2, 2]);          // debiased: no ramp from 0
  const out = C.ema([1, NaN, 3, Infinity, 3], 0.5);
  assert.ok(Number.isNaN(out[1]) && out[3] === Infinity);
  assert.ok(Number.isFinite(out[2]) && Number.isFinite(out[4]));
  assert.ok(out[2] > 1 && out[2] < 3);
  const ys = [1, 2];
  assert.equal(C.ema(ys, 0), ys);                                    // alpha 0: the input itself
});

test("sortedUnion merges x grids once, ascending", () => {
  assert.deepEqual(plain(C.sortedUnion([[3, 1, 2], [2, 10], []])), [1, 2, 3, 10]);
});

test("x values for step, wall time, relative time and a metric axis", () => {
  const run = { t0: 100, metrics: { epoch: { step: [0, 10], y: [0, 1] } } };
  const s = { step: [0, 5, 10], time: [100, 105, 110] };
  assert.deepEqual(plain(C.xFor(run, s, "step")), [0, 5, 10]);
  assert.deepEqual(plain(C.xFor(run, s, "time")), [100000, 105000, 110000]);
  assert.deepEqual(plain(C.xFor(run, s, "rel")), [0, 5, 10]);
  assert.deepEqual(plain(C.xFor(run, s, "m:epoch")), [0, 0.5, 1]);
  assert.equal(C.xFor(run, s, "m:missing"), null);
  assert.equal(C.effectiveMode("step", true), "rel");         // system series have no steps
  assert.equal(C.effectiveMode("m:epoch", false), "m:epoch");
});

test("expand turns the compact payload into absolute times", () => {
  const p = C.expand({ t0: 1000, steps: { step: [0, 10], t: [0, 20] },
                       metrics: { loss: { step: [0, 5, 10], y: [3, 2, 1] } }, system: { "cpu/host_pct": { t: [0, 5], y: [1, 2] } } });
  assert.deepEqual(plain(p.metrics.loss.time), [1000, 1010, 1020]);
  assert.deepEqual(plain(p.system["cpu/host_pct"].time), [1000, 1005]);
  assert.equal(C.expand(p), p);
});

test("every GPU's series share one chart per metric, in reading order", () => {
  const runs = [{ system: { "gpu/1/util_pct": {}, "gpu/0/util_pct": {}, "gpu/0/power_w": {}, "gpu/0/energy_j": {},
                            "gpu/0/mem_total_gb": {}, "cpu/host_pct": {}, "mem/host_pct": {}, "disk/read_mbps": {} } },
                { system: { "gpu/7/util_pct": {}, "gpu/7/temp_c": {} } }];
  assert.deepEqual(plain(C.systemKeysOf(runs)),
                   ["cpu/host_pct", "mem/host_pct", "disk/read_mbps", "gpu/*/util_pct", "gpu/*/power_w", "gpu/*/temp_c"]);
  assert.equal(C.systemChartKey("gpu/3/energy_j"), null);
  assert.equal(C.gpuIndex("gpu/12/util_pct"), 12);
  assert.equal(C.systemSection("gpu/*/util_pct"), "GPU");
});

test("metric keys: first seen order, filtered by a list or a prefix; chart keys sorted", () => {
  const runs = [{ metrics: { "train/loss": {}, "val/acc": {} } }, { metrics: { "train/lr": {}, "val/acc": {} } }];
  assert.deepEqual(plain(C.metricKeysOf(runs, {})), ["train/loss", "val/acc", "train/lr"]);
  assert.deepEqual(plain(C.metricKeysOf(runs, { metrics: "train/" })), ["train/loss", "train/lr"]);
  assert.deepEqual(plain(C.metricKeysOf(runs, { metrics: ["val/acc", "nope"] })), ["val/acc"]);
  assert.deepEqual(plain(C.sortKeys(["val/acc", "system:cpu/host_pct", "train/loss"])),
                   ["system:cpu/host_pct", "train/loss", "val/acc"]);
});

test("run search: every word must match name, user, group, tags or project", () => {
  const run = { key: "mnist/r1", name: "Baseline LR", user: "ana", group: "sweep-3", tags: ["best"], project: "mnist" };
  assert.ok(C.runMatches(run, ""));
  assert.ok(C.runMatches(run, "baseline ana"));
  assert.ok(C.runMatches(run, "SWEEP best"));
  assert.ok(!C.runMatches(run, "baseline bo"));
  assert.ok(C.runMatches({ key: "p/x", name: "x", tags: null }, "x"));
});
