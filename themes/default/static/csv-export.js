/* runpages: a run's metrics.csv, made in the browser from the site's copy of metrics.jsonl.
 *
 * The site holds the raw JSONL only (no second, CSV copy of the data); the run page's
 * "metrics (CSV, full resolution)" button reads it and saves a CSV byte for byte the one
 * `runpages.sitegen.build.metrics_csv(run)` writes (the reference; tests/cases/csv and
 * tests/site/test_csv_twin.py hold the two to each other). So this file repeats the reader's
 * rules (sitegen/jsonl.py, jsonsafe.py, limits.py) as they apply to one whole-file read:
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
 * window.RunpagesCsv = {fromJsonl(bytes, ended, caps) (pure), formatFloat, parseLine, attach(root)}.
 */
(function () {
  "use strict";

  var MAX_DEPTH = 64;                              // sitegen/jsonsafe.py MAX_DEPTH
  var MAX_STEP = 9007199254740992;                 // logger/schema.py MAX_STEP (2**53)
  var TEXT = { text: true };                       // a value that is not a number: text, a list, {}
  var NONFINITE = { "NaN": NaN, "Infinity": Infinity, "-Infinity": -Infinity };
  // A surrogate that is not half of a pair (Python's json never leaves a pair unjoined).
  var LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
  var NUMBER = /(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;

  /* ---------------------------------------------------------------------------------------
   * One line of JSON as Python's json module reads it (jsonsafe.loads): key order kept as
   * written (a plain object would put "2" before "b"), NaN/Infinity/-Infinity literals, an
   * integer longer than 308 characters kept as text, -0 as an integer is 0.
   * --------------------------------------------------------------------------------------- */

  function Bad(msg) { this.message = msg; }

  function parseStrict(s) {
    var i = 0, n = s.length;
    function ws() {
      while (i < n) {
        var c = s.charCodeAt(i);
        if (c === 32 || c === 9 || c === 10 || c === 13) i++; else break;
      }
    }
    // ``depth``: the objects and lists around the value; one more is nested too deep.
    function value(depth) {
      var c = s.charAt(i);
      if ((c === "{" || c === "[") && depth >= MAX_DEPTH) throw new Bad("too deep");
      if (c === "{") return object(depth + 1);
      if (c === "[") return array(depth + 1);
      if (c === '"') return string();
      if (s.startsWith("true", i)) { i += 4; return true; }
      if (s.startsWith("false", i)) { i += 5; return false; }
      if (s.startsWith("null", i)) { i += 4; return null; }
      if (s.startsWith("NaN", i)) { i += 3; return NaN; }
      if (s.startsWith("Infinity", i)) { i += 8; return Infinity; }
      if (s.startsWith("-Infinity", i)) { i += 9; return -Infinity; }
      return number();
    }
    function number() {
      NUMBER.lastIndex = i;
      var m = NUMBER.exec(s);
      if (!m) throw new Bad("expecting value");
      i += m[0].length;
      if (m[2] === undefined && m[3] === undefined) {
        if (m[1].length > 308) return { digits: m[1] };     // jsonsafe.whole_number: text
        var v = Number(m[1]);
        return v === 0 ? 0 : v;                             // the integer -0 is 0
      }
      return Number(m[0]);
    }
    function string() {
      i++;
      var out = "", start = i;
      for (;;) {
        if (i >= n) throw new Bad("unterminated string");
        var c = s.charCodeAt(i);
        if (c === 34) { out += s.slice(start, i); i++; return out; }
        if (c < 32) throw new Bad("control character in string");
        if (c === 92) {
          out += s.slice(start, i);
          var e = s.charAt(i + 1);
          var simple = { '"': '"', "\\": "\\", "/": "/", b: "\b", f: "\f", n: "\n", r: "\r", t: "\t" }[e];
          if (simple !== undefined) { out += simple; i += 2; }
          else if (e === "u" && /^[0-9a-fA-F]{4}$/.test(s.slice(i + 2, i + 6))) {
            out += String.fromCharCode(parseInt(s.slice(i + 2, i + 6), 16));
            i += 6;
          } else throw new Bad("invalid escape");
          start = i;
        } else i++;
      }
    }
    function object(depth) {
      i++;
      var out = new Map();
      ws();
      if (s.charAt(i) === "}") { i++; return out; }
      for (;;) {
        ws();
        if (s.charAt(i) !== '"') throw new Bad("expecting property name");
        var k = string();
        ws();
        if (s.charAt(i) !== ":") throw new Bad("expecting ':'");
        i++;
        ws();
        out.set(k, value(depth));
        ws();
        var c = s.charAt(i++);
        if (c === "}") return out;
        if (c !== ",") throw new Bad("expecting ','");
      }
    }
    function array(depth) {
      i++;
      var out = [];
      ws();
      if (s.charAt(i) === "]") { i++; return out; }
      for (;;) {
        ws();
        out.push(value(depth));
        ws();
        var c = s.charAt(i++);
        if (c === "]") return out;
        if (c !== ",") throw new Bad("expecting ','");
      }
    }
    ws();
    var v = value(0);
    ws();
    if (i !== n) throw new Bad("extra data");
    return v;
  }

  // A key JSON.parse would not keep in written order (an array index: "0", "17").
  function isIndexKey(k) {
    return /^(?:0|[1-9][0-9]{0,9})$/.test(k) && Number(k) < 4294967295;
  }

  /* A JSON.parse result as parseStrict's shapes (Map for objects), or null when JSON.parse may
   * have read it otherwise than Python: an index-like key (order), a -0 (the integer -0 is 0). */
  function fromNative(v, depth) {
    if (v === null || typeof v !== "object") {
      if (v === 0 && 1 / v < 0) return undefined;          // -0 or -0.0: ask parseStrict
      return v;
    }
    if (depth >= MAX_DEPTH) throw new Bad("too deep");
    if (Array.isArray(v)) {
      var arr = [];
      for (var i = 0; i < v.length; i++) {
        var x = fromNative(v[i], depth + 1);
        if (x === undefined) return undefined;
        arr.push(x);
      }
      return arr;
    }
    var out = new Map(), keys = Object.keys(v);
    for (var j = 0; j < keys.length; j++) {
      if (isIndexKey(keys[j])) return undefined;
      var y = fromNative(v[keys[j]], depth + 1);
      if (y === undefined) return undefined;
      out.set(keys[j], y);
    }
    return out;
  }

  /* One line (a string) to a record: {values: Map key -> number | NaN (logged NaN) | null |
   * TEXT, repaired: lone surrogates were replaced}, or null when the reader skips the line. */
  function parseLine(line) {
    var v;
    try {
      v = /NaN|Infinity|[0-9]{308}/.test(line) ? undefined : fromNative(JSON.parse(line), 0);
    } catch (err) {
      if (err instanceof Bad) return null;                  // nested too deep
      v = undefined;
    }
    try {
      if (v === undefined) v = parseStrict(line);
    } catch (err) {
      if (err instanceof Bad || err instanceof RangeError) return null;
      throw err;
    }
    if (!(v instanceof Map)) return null;                   // not a JSON object
    var rec = { values: new Map(), repaired: false };
    flatten(v, "", rec);
    return rec;
  }

  function clean(text, rec) {
    var fixed = text.replace(LONE, "\ufffd");
    if (fixed !== text) rec.repaired = true;
    return fixed;
  }

  // model.flatten: nested non-empty objects to "a/b" keys; a key set twice keeps its first place.
  function flatten(map, prefix, rec) {
    map.forEach(function (value, key) {
      var name = prefix + clean(key, rec);
      if (value instanceof Map && value.size) { flatten(value, name + "/", rec); return; }
      rec.values.set(name, classify(value, rec));
    });
  }

  function classify(v, rec) {
    if (v === null) return null;
    if (typeof v === "number") return v;
    if (typeof v === "boolean") return v ? 1 : 0;
    if (typeof v === "string") {
      if (Object.prototype.hasOwnProperty.call(NONFINITE, v)) return NONFINITE[v];
      clean(v, rec);
      return TEXT;
    }
    markRepairs(v, rec);
    return TEXT;                                            // a list, {}, an integer kept as text
  }

  function markRepairs(v, rec) {
    if (typeof v === "string") clean(v, rec);
    else if (Array.isArray(v)) v.forEach(function (x) { markRepairs(x, rec); });
    else if (v instanceof Map) v.forEach(function (x, k) { clean(k, rec); markRepairs(x, rec); });
  }

  /* ---------------------------------------------------------------------------------------
   * Records to a frame, as jsonl._columns_of / _split_columns / finalize do for one chunk.
   * --------------------------------------------------------------------------------------- */

  function usableStep(v) {
    return typeof v === "number" && isFinite(v) && Math.abs(v) <= MAX_STEP;
  }

  /* A chunk's records -> {columns: keys that are columns, rows: [{step, values}]}, or null when
   * no record has a usable step (the chunk then adds nothing, not even its keys). */
  function chunkOf(records) {
    var order = new Map();                                  // key -> {text, number}
    records.forEach(function (rec) {
      rec.values.forEach(function (v, k) {
        var seen = order.get(k);
        if (!seen) { seen = { text: false, number: false }; order.set(k, seen); }
        if (v === TEXT) seen.text = true;
        else if (typeof v === "number" && v === v) seen.number = true;
      });
    });
    var rows = [];
    records.forEach(function (rec) {
      var step = rec.values.get("_step");
      if (usableStep(step)) rows.push({ step: Math.trunc(step) || 0, values: rec.values });
    });
    if (!rows.length) return null;
    var columns = [];
    order.forEach(function (seen, k) { if (!seen.text || seen.number) columns.push(k); });
    return { columns: columns, rows: rows };
  }

  /* The CSV of the metrics in ``bytes`` (a metrics.jsonl). ``ended``: the run had ended at the
   * build (its meta.json status finished/crashed/killed), so a last line without "\n" is read.
   * ``caps``: {maxLine, maxBytes} (sitegen/limits.py, handed over by the page). */
  function fromJsonl(bytes, ended, caps) {
    caps = caps || {};
    var maxLine = caps.maxLine || 16 * 1024 * 1024, maxBytes = caps.maxBytes || 2 * 1024 * 1024 * 1024;
    var capped = bytes.length > maxBytes;            // limits: what lies past the cap is not read
    if (capped) bytes = bytes.subarray(0, maxBytes);
    var cut = bytes.lastIndexOf(10) + 1;
    var texts = [], spans = [], anyBad = false, start = 0;
    for (var i = 0; i < cut; i++) {
      if (bytes[i] !== 10) continue;
      var text = i - start > maxLine ? undefined : utf8(bytes.subarray(start, i));
      if (text === null) anyBad = true;
      texts.push(text);
      spans.push(start);
      start = i + 1;
    }
    var records = [];
    for (var j = 0; j < texts.length; j++) {
      var line = texts[j];
      if (line === undefined) continue;                // past the line cap: skipped
      if (anyBad && line !== null && line.charCodeAt(0) === 0xfeff) {
        line = line.slice(1);   // a chunk that is not all UTF-8 is read as bytes: BOM allowed
      }
      if (line === null || !line.trim()) continue;
      var rec = parseLine(line);
      if (rec) records.push(rec);
    }
    var chunks = [chunkOf(records)];
    var tail = capped ? bytes.subarray(0, 0) : bytes.subarray(cut);
    if (ended && tail.length && tail.length <= maxLine) {
      var last = utf8(tail);
      last = last === null ? null : parseLine(last);
      // jsonl.parse_torn_line: kept only when it is one whole record and nothing was wrong
      if (last && !last.repaired && usableStep(last.values.get("_step"))) chunks.push(chunkOf([last]));
    }
    return toCsv(merge(chunks.filter(Boolean)));
  }

  var DECODER = typeof TextDecoder === "undefined" ? null
    : new TextDecoder("utf-8", { fatal: true, ignoreBOM: true });

  function utf8(raw) {
    try { return DECODER.decode(raw); } catch (err) { return null; }
  }

  /* Chunks in file order to one frame: columns in first-seen order (pandas.concat), one row
   * per step (sorted; a step logged twice keeps each key's last number: groupby().last()). */
  function merge(chunks) {
    var names = new Map([["_step", true], ["_time", true]]);
    var flat = [], at = 0;
    chunks.forEach(function (c, ci) {
      c.columns.forEach(function (k) { names.set(k, true); });
      c.rows.forEach(function (r) { flat.push({ step: r.step, values: r.values, chunk: ci, order: at++ }); });
    });
    var columns = Array.from(names.keys());
    var has = chunks.map(function (c) { return new Set(c.columns); });
    flat.sort(function (a, b) { return a.step - b.step || a.order - b.order; });
    var out = [];
    for (var i = 0; i < flat.length;) {
      var j = i;
      while (j < flat.length && flat[j].step === flat[i].step) j++;
      var cells = [flat[i].step];
      for (var c = 1; c < columns.length; c++) {
        var k = columns[c], num, nan = false;
        num = undefined;
        for (var r = i; r < j; r++) {
          if (!has[flat[r].chunk].has(k)) continue;     // not a column of that chunk: NaN there
          var v = flat[r].values.get(k);
          if (typeof v !== "number") continue;           // not logged, null or text
          if (v === v) num = v; else nan = true;
        }
        // _time is an index key: a NaN there is not a logged NaN (jsonl._split_columns)
        cells.push(num !== undefined ? num : (nan && k !== "_time") ? NaN : null);
      }
      out.push(cells);
      i = j;
    }
    return { columns: columns, rows: out };
  }

  /* ---------------------------------------------------------------------------------------
   * CSV as pyarrow.csv.write_csv writes it (then metrics_csv spells nan as NaN).
   * --------------------------------------------------------------------------------------- */

  /* A float64 as Arrow's FloatToStringFormatter (double-conversion ToShortest, exponent sign
   * shown, plain notation for exponents -6..9). */
  function formatFloat(x) {
    if (x !== x) return "NaN";
    if (x === Infinity) return "inf";
    if (x === -Infinity) return "-inf";
    if (x === 0) return 1 / x < 0 ? "-0" : "0";
    var sign = x < 0 ? "-" : "";
    var m = /^(\d)(?:\.(\d+))?e([-+]\d+)$/.exec(Math.abs(x).toExponential());
    var digits = m[1] + (m[2] || ""), exp = Number(m[3]);
    if (exp >= -6 && exp < 10) {
      if (exp < 0) return sign + "0." + "0".repeat(-exp - 1) + digits;
      if (digits.length <= exp + 1) return sign + digits + "0".repeat(exp + 1 - digits.length);
      return sign + digits.slice(0, exp + 1) + "." + digits.slice(exp + 1);
    }
    return sign + digits.charAt(0) + (digits.length > 1 ? "." + digits.slice(1) : "") +
      "e" + (exp < 0 ? "-" : "+") + Math.abs(exp);
  }

  function toCsv(frame) {
    var parts = [frame.columns.map(function (k) { return '"' + k.replace(/"/g, '""') + '"'; }).join(",") + "\n"];
    frame.rows.forEach(function (cells) {
      var line = String(cells[0]);
      for (var c = 1; c < cells.length; c++) line += "," + (cells[c] === null ? "" : formatFloat(cells[c]));
      parts.push(line + "\n");
    });
    return parts.join("");
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
    return fetch(url).then(function (resp) {
      if (!resp.ok) throw new Error(url + ": " + resp.status + " " + resp.statusText);
      return resp.arrayBuffer();
    }).then(function (buf) {
      return fromJsonl(new Uint8Array(buf), button.getAttribute("data-ended") === "1", caps);
    });
  }

  function save(text, name) {
    var blob = new Blob([text], { type: "text/csv;charset=utf-8" });
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
          make(button).then(function (text) {
            save(text, button.getAttribute("data-csv-name") || "metrics.csv");
            say(button, "");
          }, function (err) {
            say(button, "could not make the CSV: " + (err && err.message || err));
          }).then(function () { button.disabled = false; });
        });
      })(buttons[i]);
    }
    return buttons.length;
  }

  window.RunpagesCsv = { fromJsonl: fromJsonl, formatFloat: formatFloat, parseLine: parseLine,
                         make: make, attach: attach, FILE_NOTE: FILE_NOTE };
  if (typeof document === "undefined") return;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { attach(); });
  else attach();
})();
