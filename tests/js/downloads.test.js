/* static/downloads.js: the note on download links of a page opened from file://. */
"use strict";
const test = require("node:test");
const assert = require("node:assert/strict");
const { loadScripts } = require("./load.js");

test("from file:// a link to a text file gets a note on how to save it; over http none does", () => {
  const D = loadScripts("downloads.js").RunpagesDownloads;
  for (const href of ["../../files/p/r/metrics.jsonl", "files/p/r/config.json", "files/p/r/console.log",
                      "files/p/r/metrics.csv?x=1"]) {
    assert.equal(D.needsHint("file:", href), true, href);
    assert.equal(D.needsHint("https:", href), false, href);
  }
  assert.equal(D.needsHint("file:", "files/p/r/artifacts/model.pt"), false);
  assert.equal(D.needsHint("file:", ""), false);
});
