/* static/chart-zoom.js: which level and tiles a zoom window needs, tile decoding, merging. */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { loadScripts } = require("./load.js");

const ctx = loadScripts("chart-series.js", "chart-zoom.js");
const Z = ctx.RunpagesCharts.zoom;

const ZOOM = { base: "data/runs/p/r/z/", unit: 1, levels: [
  { level: 0, width: 1, span: 4096, ranges: [[0, 2441]] },
  { level: 1, width: 8, span: 8192, ranges: [[0, 1220]] },
  { level: 2, width: 64, span: 65536, ranges: [[0, 152]] }] };
const SPAN = 10000000;

function b64(values) {
  return Buffer.from(new Float64Array(values).buffer).toString("base64");
}

test("a wide window keeps the overview", () => {
  assert.equal(Z.plan(ZOOM, 0, SPAN, SPAN), null);
  assert.equal(Z.plan(ZOOM, 0, SPAN / 4, SPAN), null);
});

test("a 1,000-step window loads every point, from the one or two tiles it overlaps", () => {
  const p = Z.plan(ZOOM, 150000, 150999, SPAN);
  assert.equal(p.level, 0);
  assert.deepEqual([...p.tiles], [36]);
  assert.deepEqual([...Z.plan(ZOOM, 4000, 4999, SPAN).tiles], [0, 1]);
});

test("a middle window takes the coarsest level that still has enough buckets in it", () => {
  assert.equal(Z.plan(ZOOM, 0, 10000, SPAN).level, 1);       // 1,250 buckets of 8
  assert.equal(Z.plan(ZOOM, 0, 100000, SPAN).level, 2);      // 1,562 buckets of 64
});

test("tiles outside the written ranges are not asked for", () => {
  const gappy = { levels: [{ level: 0, width: 1, span: 10, ranges: [[0, 1], [5, 6]] }] };
  assert.deepEqual([...Z.plan(gappy, 0, 69, 1e9).tiles], [0, 1, 5, 6]);
});

test("a tile decodes to exact steps and values, NaN and infinities included", () => {
  const tile = { level: 0, tile: 0, rows: { a: 10, d: 2, n: 4 },
                 keys: { loss: { s: null, y: b64([0.1, NaN, Infinity, -2.5]) },
                         acc: { s: b64([11, 15]), y: b64([1, 2]) } } };
  const loss = Z.seriesIn(tile, "loss");
  assert.deepEqual([...loss.step], [10, 12, 14, 16]);
  assert.deepEqual([...loss.y], [0.1, NaN, Infinity, -2.5]);
  assert.deepEqual([...Z.seriesIn(tile, "acc").step], [11, 15]);
  assert.equal(Z.seriesIn(tile, "missing"), null);
  assert.equal(Z.seriesIn(tile, "constructor"), null);
});

test("finer points replace the overview inside the loaded tiles only", () => {
  const coarse = { step: [0, 50, 100, 150, 200], y: [1, 2, 3, 4, 5] };
  const fine = [{ step: [100, 101, 102], y: [30, 31, 32] }];
  const m = Z.merge(coarse, fine, 100, 150);
  assert.deepEqual([...m.step], [0, 50, 100, 101, 102, 150, 200]);
  assert.deepEqual([...m.y], [1, 2, 30, 31, 32, 4, 5]);
});
