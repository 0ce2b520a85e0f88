/* static/selection.js: the ticked runs kept across project pages (here without localStorage). */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { loadScripts } = require("./load.js");
const plain = (x) => JSON.parse(JSON.stringify(x));

test("the kept selection keeps only run keys, once each, whatever the stored text holds", () => {
  const S = loadScripts("selection.js").RunpagesSelection;
  assert.equal(S.persistent, false);          // no localStorage here: kept in memory
  assert.deepEqual(plain(S.parse('["a/b", "a/b", "../x/y", "c/d/e", 3, "<p>/q", "p/q"]')), ["a/b", "p/q"]);
  assert.deepEqual(plain(S.parse("not json")), []);
  assert.deepEqual(plain(S.parse('{"a/b": 1}')), []);
  S.setMany(["p/1", "p/2", "q/1"], true);
  S.set("p/1", false);
  assert.deepEqual(plain(S.keys()), ["p/2", "q/1"]);
  S.retain("q/", {});
  assert.deepEqual(plain(S.keys()), ["p/2"]);
  S.clear();
  assert.deepEqual(plain(S.keys()), []);
});
