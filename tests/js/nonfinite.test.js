/* static/nonfinite.js: where NaN/inf marks go and what the chart note says. */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { loadScripts } = require("./load.js");

const nf = loadScripts("nonfinite.js").RunpagesCharts.nonfinite;

test("a NaN is marked at the bottom of the finite values, +inf at the top, -inf at the bottom", () => {
  const m = nf.marks([0, 1, 2, 3, 4], [1, NaN, 3, Infinity, -Infinity], 1, 3);
  assert.deepEqual([...m.x], [1, 3, 4]);
  assert.deepEqual([...m.y], [1, 3, 1]);
  assert.deepEqual([...m.kind], ["NaN", "inf", "-inf"]);
});

test("a series with no finite value puts its marks on a baseline at 0", () => {
  const m = nf.marks([5, 6], [NaN, NaN], Infinity, -Infinity);
  assert.deepEqual([...m.y], [0, 0]);
});

test("the note says how many NaN steps and from which step", () => {
  assert.equal(nf.countsText({ NaN: [12, 300] }), "12 NaN steps from step 300");
  assert.equal(nf.countsText({ NaN: [1, 7], inf: [2, 40] }), "1 NaN step at step 7; 2 inf steps from step 40");
  assert.equal(nf.countsText(null), "");
});

test("with several runs the note names the runs that logged NaN, at most three", () => {
  const entries = [{ name: "a", counts: { NaN: [3, 10] } }, { name: "b", counts: null },
                   { name: "c", counts: { "-inf": [1, 5] } }, { name: "d", counts: { NaN: [1, 1] } },
                   { name: "e", counts: { NaN: [2, 2] } }];
  assert.equal(nf.noteText(entries, true),
    "a: 3 NaN steps from step 10 \u00b7 c: 1 -inf step at step 5 \u00b7 d: 1 NaN step at step 1 \u00b7 and 1 more run with NaN/inf");
  assert.equal(nf.noteText([{ name: "a", counts: { NaN: [3, 10] } }], false), "3 NaN steps from step 10");
  assert.equal(nf.noteText([{ name: "a", counts: null }], true), "");
});

test("a series for a mean keeps every step and turns non-finite values into NaN gaps", () => {
  const g = nf.gapSeries({ step: [0, 1, 2], y: [1, Infinity, NaN] });
  assert.deepEqual([...g.step], [0, 1, 2]);
  assert.equal(g.y[0], 1);
  assert.ok(Number.isNaN(g.y[1]) && Number.isNaN(g.y[2]));
});
