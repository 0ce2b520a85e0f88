/* static/values.js against the cases shared with sitegen/values.py (tests/cases/values). */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { loadScripts, caseValue, readCases } = require("./load.js");

const values = loadScripts("values.js").Runpages.values;
const FUNCTIONS = { number: values.formatNumber, tick: values.formatTick,
                    duration: values.formatDuration, time: values.formatTime };

for (const { file, cases } of readCases("values")) {
  for (const [kind, fn] of Object.entries(FUNCTIONS)) {
    for (const [input, shown, ...rest] of cases[kind] || []) {
      test(`${file} ${kind}: ${JSON.stringify([input, ...rest])} shows as ${JSON.stringify(shown)}`, () => {
        assert.equal(fn(caseValue(input), ...rest), shown);
      });
    }
  }
}
