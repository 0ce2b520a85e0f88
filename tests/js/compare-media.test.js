/* static/compare-media.js: nearest logged step per run (cases shared with sitegen/media_page.py), and tables matched by an id column. */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { loadScripts, readCases } = require("./load.js");

const M = loadScripts("compare-media.js").RunpagesCompareMedia;

for (const { file, cases } of readCases("media")) {
  for (const c of cases) {
    test(`${file}: steps ${JSON.stringify(c.steps)} at ${c.target} show ${c.shown}`, () => {
      assert.equal(M.nearestStep(c.steps, c.target), c.shown);
    });
  }
}

test("the step slider runs over every step any compared run logged", () => {
  assert.deepEqual(Array.from(M.unionSteps([[20, 0], null, [10, 0]])), [0, 10, 20]);
});

test("tables are matched by the id column: changed, missing and equal rows", () => {
  const a = { columns: ["id", "text", "pred"], data: [[1, "cat", 0], [2, "dog", 1], [3, "emu", 2]] };
  const b = { columns: ["pred", "id", "text"], data: [[0, 1, "cat"], [5, 2, "dog"], [9, 4, "fox"]] };
  const d = M.diffTables([a, b], "id");
  assert.deepEqual(Array.from(d.columns), ["text", "pred"]);
  const status = Object.fromEntries(d.rows.map((r) => [r.id, r.status]));
  assert.deepEqual(status, { 1: "same", 2: "changed", 3: "partial", 4: "partial" });
  assert.equal(d.changed, 1);
  assert.equal(d.partial, 2);
  const row2 = d.rows.find((r) => r.id === 2);
  assert.deepEqual(Array.from(row2.cells[1]), [1, 5]);       // pred in run a, run b
});

test("a table without the id column, a run without a table and repeated ids are reported", () => {
  const a = { columns: ["id", "x"], data: [[1, 1], [1, 2], [2, 3]] };
  const b = { columns: ["name", "x"], data: [["p", 1]] };
  const d = M.diffTables([a, b, null], "id");
  assert.deepEqual(Array.from(d.missing), [1]);
  assert.equal(d.duplicates, 1);
  assert.deepEqual(Array.from(d.rows, (r) => r.status), ["same", "same"]);    // only run a is compared
  assert.equal(d.rows[0].cells[0][0], 1);                             // the first row with id 1
});

test("ids compare by value and type: 1 and \"1\" are different rows", () => {
  const d = M.diffTables([{ columns: ["id"], data: [[1]] }, { columns: ["id"], data: [["1"]] }], "id");
  assert.equal(d.rows.length, 2);
});
