/* Loads theme scripts into a fresh context with a bare `window`, as a page would (no DOM). */
"use strict";
const fs = require("node:fs");
const path = require("node:path");
const vm = require("node:vm");

const STATIC = path.join(__dirname, "..", "..", "themes", "default", "static");
const CASES = path.join(__dirname, "..", "cases");

function loadScripts(...names) {
  const context = { console };
  context.window = context;
  vm.createContext(context);
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
