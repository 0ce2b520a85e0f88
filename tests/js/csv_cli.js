/* For tests/site/test_csv_twin.py: reads [{path, ended, maxLine, maxBytes}] as JSON on stdin,
 * prints the CSV static/csv-export.js makes from each file, as a JSON list of strings. */
"use strict";
const fs = require("node:fs");
const { loadScripts } = require("./load.js");

const Csv = loadScripts("jsonl-line.js", "csv-export.js").RunpagesCsv;
const jobs = JSON.parse(fs.readFileSync(0, "utf8"));
const out = jobs.map((j) => Csv.fromJsonl(new Uint8Array(fs.readFileSync(j.path)), j.ended,
                                          { maxLine: j.maxLine, maxBytes: j.maxBytes }));
process.stdout.write(JSON.stringify(out));
