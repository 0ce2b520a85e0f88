/* static/picker.js, the compare page's run picker: decoding the run index and searching it. */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { loadScripts } = require("./load.js");

const P = loadScripts("picker.js").RunpagesPicker;
const INDEX = {
  v: 1, fields: ["project", "run", "name", "user", "status", "color", "started"],
  projects: [["CIFAR ResNet", "CIFAR-ResNet"], ["mnist", "mnist"]],
  users: ["ana", "bo"], statuses: ["finished", "crashed"], colors: ["#0072b2", "#e69f00"],
  runs: [
    [0, "r-old", "baseline", 0, 0, 0, 100],
    [0, "r-new", null, 1, 1, 1, 300],
    [1, "m1", "baseline <b>", 1, 0, 0, 200],
    [1, "m2", "sweep-lr", 0, 0, 1, null],
  ],
};
const runs = P.decode(INDEX);
// Arrays made inside the scripts' context are another realm's: compare them as plain JSON.
const plain = (x) => JSON.parse(JSON.stringify(x));
const keys = (found) => plain(found.matches.map((r) => r.key));

test("decode gives each run its key, name (the run slug when none), project, user and status", () => {
  assert.deepEqual(plain(runs.map((r) => r.key)), ["CIFAR-ResNet/r-old", "CIFAR-ResNet/r-new", "mnist/m1", "mnist/m2"]);
  assert.equal(runs[1].name, "r-new");
  assert.equal(runs[2].name, "baseline <b>");
  assert.deepEqual([runs[2].project, runs[2].user, runs[2].status, runs[2].color], ["mnist", "bo", "finished", "#0072b2"]);
});

test("an index of another version or no index gives no runs rather than an error", () => {
  assert.deepEqual(plain(P.decode({ ...INDEX, v: 99 })), []);
  assert.deepEqual(plain(P.decode(undefined)), []);
  assert.deepEqual(plain(P.decode({ v: 1, runs: [[7, "x"]], projects: [] })), []);
});

test("an empty search lists every run, newest first, across projects", () => {
  const found = P.search(runs, "");
  assert.equal(found.total, 4);
  assert.deepEqual(keys(found), ["CIFAR-ResNet/r-new", "mnist/m1", "CIFAR-ResNet/r-old", "mnist/m2"]);
});

test("runs of the projects already picked come first", () => {
  assert.deepEqual(keys(P.search(runs, "", { prefer: ["mnist"] })).slice(0, 2), ["mnist/m1", "mnist/m2"]);
});

test("every word must match name, user, project or run id, in any case", () => {
  assert.deepEqual(keys(P.search(runs, "BASELINE")).sort(), ["CIFAR-ResNet/r-old", "mnist/m1"]);
  assert.deepEqual(keys(P.search(runs, "baseline cifar")), ["CIFAR-ResNet/r-old"]);
  assert.deepEqual(keys(P.search(runs, "bo")).sort(), ["CIFAR-ResNet/r-new", "mnist/m1"]);
  assert.deepEqual(keys(P.search(runs, "m2")), ["mnist/m2"]);
  assert.equal(P.search(runs, "nothing-like-this").total, 0);
});

test("field:value searches one field only", () => {
  assert.deepEqual(keys(P.search(runs, "user:ana")).sort(), ["CIFAR-ResNet/r-old", "mnist/m2"]);
  assert.deepEqual(keys(P.search(runs, "user=ana project:mnist")), ["mnist/m2"]);
  assert.deepEqual(keys(P.search(runs, "status:crashed")), ["CIFAR-ResNet/r-new"]);
  // "bo" is a user, not in any name: name:bo finds nothing
  assert.equal(P.search(runs, "name:bo").total, 0);
  // an unknown field is a plain word
  assert.equal(P.search(runs, "colour:red").total, 0);
});

test("the count says how many matched while only the first `limit` are listed", () => {
  const many = P.decode({ ...INDEX, runs: Array.from({ length: 120 }, (_, i) => [1, "run" + i, null, 0, 0, 0, i]) });
  const found = P.search(many, "run");
  assert.equal(found.total, 120);
  assert.equal(found.matches.length, P.SHOWN);
  assert.equal(found.matches[0].key, "mnist/run119");
});
