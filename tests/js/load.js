/* Loads theme scripts into a fresh context with a bare `window`, as a page would (no DOM). */
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const STATIC = path.join(__dirname, "..", "..", "themes", "default", "static");
const CASES = path.join(__dirname, "..", "cases");

/* The generated chart-rules.js (sitegen/chart_rules.py): tests/js/test_node.py writes it and
 * names it in RUNPAGES_CHART_RULES; its text runs first, as the page loads it first. */
function chartRules() {
  const file = process.env.RUNPAGES_CHART_RULES;
  if (!file) throw new Error("RUNPAGES_CHART_RULES is not set: run the JS tests through tests/js/test_node.py");
  return fs.readFileSync(file, "utf8");
}

function loadScripts(...names) {
  const context = { console, TextDecoder, TextEncoder, atob };
  context.window = context;
  vm.createContext(context);
  // Chart scripts (and nonfinite.js, which takes its mark colour from the palette) need the rules.
  if (names.some((n) => n.startsWith("chart") || n === "nonfinite.js")) {
    vm.runInContext(chartRules(), context, { filename: "chart-rules.js" });
  }
  for (const name of names) {
    vm.runInContext(fs.readFileSync(path.join(STATIC, name), "utf8"), context, { filename: name });
  }
  return context;
}

/* {"float": "NaN"} in a case file stands for the number JSON cannot hold. */
function caseValue(v) {
  return v !== null && typeof v === "object" && "float" in v ? Number(v.float) : v;
}

function readCases(folder) {
  const dir = path.join(CASES, folder);
  return fs.readdirSync(dir).filter((f) => f.endsWith(".json")).sort()
    .map((f) => ({ file: f, cases: JSON.parse(fs.readFileSync(path.join(dir, f), "utf8")) }));
}

module.exports = { loadScripts, caseValue, readCases };
