/* runpages: a run's metrics.csv, made in the browser from the site's copy of metrics.jsonl.
 *
 * The site holds the raw JSONL only (no second, CSV copy of the data); the run page's
 * "metrics (CSV, full resolution)" button reads it and saves a CSV byte for byte the one
 * `runpages.sitegen.build.metrics_csv(run)` writes (the reference; tests/cases/csv and
 * tests/site/test_csv_twin.py hold the two to each other). So this file repeats the reader's
 * rules (sitegen/jsonl.py, limits.py; one line: static/jsonl-line.js) as they apply to one
 * whole-file read:
 * - lines up to the last "\n"; the bytes after it are read only when the run has ended, and
 *   only if they make one whole record; lines past the line cap, blank lines, lines that are
 *   not UTF-8, not a JSON object (Python's json: NaN/Infinity literals allowed) or nested past
 *   64 levels are skipped; nested objects are flattened with "/";
 * - a record without a usable _step (a finite number, |step| <= 2**53) is dropped, but its keys
 *   still name columns; a key is a column unless it holds text and no number; a step logged
 *   twice keeps each key's last number (a NaN logged at a step that also holds a number is not kept);
 * - cells: empty where the key was not logged (or held text), NaN where it was logged as NaN,
 *   inf/-inf, numbers as Arrow's CSV writer spells float64 (shortest round trip, plain from
 *   1e-6 up to 1e10, else 1.5e+20 / 1e-7); header names always quoted.
 * fetch() is blocked on pages opened from file://, so there the button says how to get the CSV.
 * window.RunpagesCsv = {fromJsonl(bytes, ended, caps) and csvParts (pure), formatFloat,
 * make(button) (a Promise of csvParts), attach(root)}.
 */
(function () {
  "use strict";

  var MAX_STEP = 9007199254740992;                 // logger/schema.py MAX_STEP (2**53)
  var Line = window.RunpagesJsonLine;              // static/jsonl-line.js, loaded first
  var parseLine = Line.parseLine, TEXT = Line.TEXT;

  /* ---------------------------------------------------------------------------------------
   * Records to columns, as jsonl._columns_of / _split_columns do for one chunk, then the
   * chunks to one frame as merge_parsed / finalize do. Columns are typed arrays (a value and
   * a state a row: 0 not logged, null or text; 1 a number; 2 logged NaN), so a long run costs
   * ~9 bytes a cell, not an object a record.
   * --------------------------------------------------------------------------------------- */

  function usableStep(v) {
    return typeof v === "number" && isFinite(v) && Math.abs(v) <= MAX_STEP;
  }

  function Chunk() {
    this.index = new Map();          // key -> column, in first-seen order (skipped records too)
    this.cols = [];                  // {key, text, number, vals, state}
    this.rows = 0;
    this.cap = 0;
    this.steps = new Float64Array(0);
  }

  Chunk.prototype.grow = function () {
    var cap = Math.max(1024, this.cap * 2);
    this.steps = widen(this.steps, cap);
    for (var c = 0; c < this.cols.length; c++) {
      this.cols[c].vals = widen(this.cols[c].vals, cap);
      this.cols[c].state = widen(this.cols[c].state, cap);
    }
    this.cap = cap;
  };

  function widen(arr, cap) {
    var out = new arr.constructor(cap);
    out.set(arr);
    return out;
  }

  /* One record: its keys name columns even when it has no usable step (then it adds no row). */
  Chunk.prototype.add = function (rec) {
    var step = rec.values.get("_step"), row = -1, self = this;
    if (usableStep(step)) {
      if (this.rows === this.cap) this.grow();
      row = this.rows++;
      this.steps[row] = Math.trunc(step) || 0;        // int64: toward zero, no -0
    }
    rec.values.forEach(function (v, k) {
      var c = self.index.get(k);
      if (c === undefined) {
        c = self.cols.length;
        self.index.set(k, c);
        self.cols.push({ key: k, text: false, number: false, vals: new Float64Array(self.cap),
                         state: new Uint8Array(self.cap) });
      }
      var col = self.cols[c];
      if (v === TEXT) { col.text = true; return; }
      if (typeof v !== "number") return;               // null: not logged
      if (v === v) col.number = true;
      if (row >= 0) {
        col.vals[row] = v;
        col.state[row] = v === v ? 1 : 2;
      }
    });
  };

  /* The chunk's columns (a key holding text and no number is not one), or none when no
   * record had a usable step (the chunk then adds nothing, not even its keys). */
  Chunk.prototype.columns = function () {
    if (!this.rows) return [];
    return this.cols.filter(function (col) { return !col.text || col.number; });
  };

  /* Chunks in file order to {names, rows}: names _step, _time, then every chunk's columns in
   * first-seen order (pandas.concat); one row per step, sorted (stable), a step logged twice
   * keeping each key's last number (groupby().last()), else NaN if one logged NaN there. */
  function toCsv(chunks) {
    var names = new Map([["_step", 0], ["_time", 1]]);
    var parts = chunks.map(function (chunk) {
      var byName = new Map();
      chunk.columns().forEach(function (col) {
        if (!names.has(col.key)) names.set(col.key, names.size);
        byName.set(col.key, col);
      });
      return byName;
    });
    var keys = Array.from(names.keys());
    var width = keys.length;
    // Each chunk's columns in the frame's order (null where the chunk lacks the key).
    var lay = parts.map(function (byName) {
      return keys.map(function (k) { return k === "_step" ? null : byName.get(k) || null; });
    });
    // Every row of every chunk, in file order: its step, chunk and row in that chunk.
    var total = 0;
    chunks.forEach(function (chunk) { total += chunk.rows; });
    var steps = new Float64Array(total), from = new Uint8Array(total), at = new Int32Array(total);
    var order = new Int32Array(total), n = 0;
    chunks.forEach(function (chunk, ci) {
      for (var r = 0; r < chunk.rows; r++, n++) {
        steps[n] = chunk.steps[r];
        from[n] = ci;
        at[n] = r;
        order[n] = n;
      }
    });
    var sorted = true;
    for (var i = 1; i < total && sorted; i++) sorted = steps[i] > steps[i - 1];
    if (!sorted) order.sort(function (x, y) { return steps[x] - steps[y] || x - y; });
    var out = [keys.map(function (k) { return '"' + k.replace(/"/g, '""') + '"'; }).join(",") + "\n"];
    var batch = "", rows = 0;
    for (var g = 0; g < total;) {
      var step = steps[order[g]], end = g + 1;
      while (end < total && steps[order[end]] === step) end++;
      var line = String(step);
      for (var c = 1; c < width; c++) {
        var num = 0, got = 0;                            // got: 0 nothing, 1 a number, 2 NaN only
        for (var r = g; r < end; r++) {
          var row = order[r], col = lay[from[row]][c];
          if (!col) continue;
          var st = col.state[at[row]];
          if (st === 1) { num = col.vals[at[row]]; got = 1; }
          else if (st === 2 && got === 0) got = 2;
        }
        // _time is an index key: a NaN there is not a logged NaN (jsonl._split_columns)
        line += got === 1 ? "," + formatFloat(num) : got === 2 && c !== 1 ? ",NaN" : ",";
      }
      batch += line + "\n";
      if (++rows === 4096) { out.push(batch); batch = ""; rows = 0; }   // few, long strings
      g = end;
    }
    out.push(batch);
    return out;
  }

  /* The CSV of the metrics in ``bytes`` (a metrics.jsonl). ``ended``: the run had ended at the
   * build (its meta.json status finished/crashed/killed), so a last line without "\n" is read.
   * ``caps``: {maxLine, maxBytes} (sitegen/limits.py, handed over by the page). */
  function fromJsonl(bytes, ended, caps) {
    return csvParts(bytes, ended, caps).join("");
  }

  /* fromJsonl as a list of strings (a Blob takes them as they are: no one string of it all). */
  function csvParts(bytes, ended, caps) {
    caps = caps || {};
    var maxLine = caps.maxLine || 16 * 1024 * 1024, maxBytes = caps.maxBytes || 2 * 1024 * 1024 * 1024;
    var capped = bytes.length > maxBytes;            // limits: what lies past the cap is not read
    if (capped) bytes = bytes.subarray(0, maxBytes);
    var cut = bytes.lastIndexOf(10) + 1;
    var main = new Chunk(), whole = utf8(bytes.subarray(0, cut));
    if (whole !== null) {
      // As the reader: one decode for the chunk, then its lines (a byte cap needs bytes only
      // for a line whose UTF-16 length could be past it).
      for (var pos = 0, nl = whole.indexOf("\n"); nl >= 0; pos = nl + 1, nl = whole.indexOf("\n", pos)) {
        var text = whole.slice(pos, nl);
        if (text.length * 3 > maxLine && ENCODER.encode(text).length > maxLine) continue;
        read(text, main);
      }
    } else {
      // A chunk that is not all UTF-8 is read line by line as bytes, where a BOM is allowed.
      for (var start = 0, j = bytes.indexOf(10); j >= 0 && j < cut; start = j + 1, j = bytes.indexOf(10, start)) {
        if (j - start > maxLine) continue;             // past the line cap: skipped
        var line = utf8(bytes.subarray(start, j));
        if (line === null) continue;
        read(line.charCodeAt(0) === 0xfeff ? line.slice(1) : line, main);
      }
    }
    var chunks = [main];
    var tail = capped ? bytes.subarray(0, 0) : bytes.subarray(cut);
    if (ended && tail.length && tail.length <= maxLine) {
      var text = utf8(tail), last = text === null ? null : parseLine(text);
      // jsonl.parse_torn_line: kept only when it is one whole record and nothing was wrong
      if (last && !last.repaired && usableStep(last.values.get("_step"))) {
        var torn = new Chunk();
        torn.add(last);
        chunks.push(torn);
      }
    }
    return toCsv(chunks);
  }

  function read(line, chunk) {
    if (!line.trim()) return;                          // blank: nothing to say
    var rec = parseLine(line);
    if (rec) chunk.add(rec);
  }

  var DECODER = typeof TextDecoder === "undefined" ? null
    : new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });
  var ENCODER = typeof TextEncoder === "undefined" ? null : new TextEncoder();

  function utf8(raw) {
    try { return DECODER.decode(raw); } catch (err) { return null; }
  }

  /* ---------------------------------------------------------------------------------------
   * CSV cells as pyarrow.csv.write_csv writes them (then metrics_csv spells nan as NaN).
   * --------------------------------------------------------------------------------------- */

  /* A float64 as Arrow's FloatToStringFormatter (double-conversion ToShortest, exponent sign
   * shown, plain notation for exponents -6..9). JavaScript's String() has the same shortest
   * digits and the same layout except from 1e10 up to 1e21, which it writes out in full. */
  function formatFloat(x) {
    if (x !== x) return "NaN";
    if (x === Infinity) return "inf";
    if (x === -Infinity) return "-inf";
    if (x === 0) return 1 / x < 0 ? "-0" : "0";
    var str = String(x), a = x < 0 ? -x : x;
    if (a < 1e10 || a >= 1e21) return str;
    var sign = x < 0 ? "-" : "", body = sign ? str.slice(1) : str, dot = body.indexOf(".");
    var whole = dot < 0 ? body : body.slice(0, dot);
    var digits = (whole + (dot < 0 ? "" : body.slice(dot + 1))).replace(/0+$/, "");
    return sign + digits.charAt(0) + (digits.length > 1 ? "." + digits.slice(1) : "") + "e+" + (whole.length - 1);
  }

  /* ---------------------------------------------------------------------------------------
   * The page: each [data-csv-from] button fetches the JSONL and saves the CSV.
   * --------------------------------------------------------------------------------------- */

  var FILE_NOTE = "This page was opened from a file, and a browser does not let such a page read " +
    "metrics.jsonl, from which the CSV is made. Open the site through a web server " +
    "(runpages serve <runs folder>, or python3 -m http.server in the site folder) to save the CSV, " +
    "or save the raw JSONL.";

  function make(button) {
    var url = button.getAttribute("data-csv-from");
    var caps = { maxLine: Number(button.getAttribute("data-max-line")) || 0,
                 maxBytes: Number(button.getAttribute("data-max-bytes")) || 0 };
    // no-cache: revalidate, so a running run's newer copy is read, not a cached older one
    return fetch(url, { cache: "no-cache" }).then(function (resp) {
      if (!resp.ok) throw new Error(url + ": " + resp.status + " " + resp.statusText);
      return resp.arrayBuffer();
    }).then(function (buf) {
      return csvParts(new Uint8Array(buf), button.getAttribute("data-ended") === "1", caps);
    });
  }

  function save(parts, name) {
    var blob = new Blob(parts, { type: "text/csv;charset=utf-8" });
    var a = document.createElement("a");
    a.href = URL.createObjectURL(blob);
    a.download = name;
    document.body.appendChild(a);
    a.click();
    setTimeout(function () { URL.revokeObjectURL(a.href); a.remove(); }, 60000);
  }

  function say(button, text) {
    var note = button.nextElementSibling;
    if (!note || !note.classList.contains("rp-csv-note")) {
      note = document.createElement("span");
      note.className = "rp-csv-note note small";
      button.parentNode.insertBefore(note, button.nextSibling);
    }
    note.textContent = text;
    return note;
  }

  function attach(root) {
    var buttons = (root || document).querySelectorAll("[data-csv-from]");
    for (var i = 0; i < buttons.length; i++) {
      (function (button) {
        button.addEventListener("click", function () {
          if (location.protocol === "file:") { say(button, FILE_NOTE); return; }
          button.disabled = true;
          say(button, "making the CSV\u2026");
          make(button).then(function (parts) {
            save(parts, button.getAttribute("data-csv-name") || "metrics.csv");
            say(button, "");
          }, function (err) {
            say(button, "could not make the CSV: " + (err && err.message || err));
          }).then(function () { button.disabled = false; });
        });
      })(buttons[i]);
    }
    return buttons.length;
  }

  window.RunpagesCsv = { fromJsonl: fromJsonl, csvParts: csvParts, formatFloat: formatFloat,
                         make: make, attach: attach, FILE_NOTE: FILE_NOTE };
  if (typeof document === "undefined") return;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { attach(); });
  else attach();
})();
