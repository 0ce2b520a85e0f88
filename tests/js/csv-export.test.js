/* static/csv-export.js: the CSV the run page makes from metrics.jsonl, against tests/cases/csv
 * (the Python reference, build.metrics_csv, is held to the same files by tests/site/test_csv_twin.py). */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const fs = require("node:fs");
const path = require("node:path");
const { loadScripts } = require("./load.js");

const loaded = loadScripts("jsonl-line.js", "csv-export.js");
const Csv = loaded.RunpagesCsv, Line = loaded.RunpagesJsonLine;
const DIR = path.join(__dirname, "..", "cases", "csv");
const NO_NEWLINE = "\\ No newline at end of file";

function parseCase(text) {
  const files = {};
  let title = "", current = null, lines = [];
  for (const line of text.split(/(?<=\n)/)) {
    if (line.startsWith("title:") && current === null) title = line.slice(6).trim();
    else if (line.startsWith("--- ")) {
      if (current !== null) files[current] = lines.join("");
      current = line.slice(4).trim();
      lines = [];
    } else if (line.replace(/\n$/, "") === NO_NEWLINE) lines[lines.length - 1] = lines[lines.length - 1].replace(/\n$/, "");
    else lines.push(line);
  }
  files[current] = lines.join("");
  return { title, files };
}

for (const name of fs.readdirSync(DIR).filter((f) => f.endsWith(".case")).sort()) {
  test(`csv case ${name}`, () => {
    const { title, files } = parseCase(fs.readFileSync(path.join(DIR, name), "utf8"));
    const meta = files["meta.json"] ? JSON.parse(files["meta.json"]) : { status: "finished" };
    const ended = ["finished", "crashed", "killed"].includes(meta.status);
    const got = Csv.fromJsonl(new TextEncoder().encode(files["metrics.jsonl"]), ended);
    assert.equal(got, files["expected.csv"], title);
  });
}

test("floats are spelled as Arrow's CSV writer spells them", () => {
  const cases = [[0, "0"], [-0, "-0"], [1, "1"], [100, "100"], [0.1, "0.1"], [1e-6, "0.000001"],
    [1e-7, "1e-7"], [9999999999, "9999999999"], [1e10, "1e+10"], [1.5e300, "1.5e+300"],
    [5e-324, "5e-324"], [123456.789, "123456.789"], [-2.5e-8, "-2.5e-8"], [NaN, "NaN"],
    [Infinity, "inf"], [-Infinity, "-inf"], [2 ** 53 + 2, "9.007199254740994e+15"]];
  for (const [x, want] of cases) assert.equal(Csv.formatFloat(x), want, String(x));
});

test("a line is read as Python's json reads it: key order as written, NaN literals, long integers as text", () => {
  const rec = Line.parseLine('{"b": 1, "2": NaN, "a": {"x": "Infinity"}, "n": ' + "1".repeat(309) + "}");
  assert.deepEqual(Array.from(rec.values.keys()), ["b", "2", "a/x", "n"]);
  assert.ok(Number.isNaN(rec.values.get("2")) && rec.values.get("a/x") === Infinity);
  assert.equal(typeof rec.values.get("n"), "object");              // text: not a number
  assert.equal(Line.parseLine("[1, 2]"), null);
  assert.equal(Line.parseLine('{"a": ' + "[".repeat(64) + "]".repeat(64) + "}"), null);   // 65 levels
  assert.ok(Line.parseLine('{"a": ' + "[".repeat(63) + "]".repeat(63) + "}"));
  assert.equal(Line.parseLine('{"\\ud800": 1}').repaired, true);
});
