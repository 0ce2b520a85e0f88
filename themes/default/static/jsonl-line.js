/* runpages: one line of a run's JSONL read as the build's reader reads it (sitegen/jsonl.py
 * parse_lines_slow with jsonsafe.loads and model.flatten): for static/csv-export.js.
 *
 * JSON as Python's json module reads it: key order kept as written (a plain object would put
 * "2" before "b"), NaN/Infinity/-Infinity literals, an integer longer than 308 characters kept
 * as text, the integer -0 is 0, nesting past 64 levels refused (jsonsafe.MAX_DEPTH), lone
 * surrogates replaced by U+FFFD (and said so: the reader drops a torn last line that needed it).
 * Nested objects are flattened with "/"; a key set twice keeps its first place, last value.
 * window.RunpagesJsonLine = {parseLine(line) -> {values: Map, repaired} | null, TEXT} (pure).
 */
(function () {
  "use strict";

  var MAX_DEPTH = 64;                              // sitegen/jsonsafe.py MAX_DEPTH
  var TEXT = { text: true };                       // a value that is not a number: text, a list, {}
  var NONFINITE = { "NaN": NaN, "Infinity": Infinity, "-Infinity": -Infinity };
  // A surrogate that is not half of a pair (Python's json never leaves a pair unjoined).
  var LONE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;
  var LONG_INT = /[0-9]{308}/;      // may be an integer Python keeps as text (with a "-": 309 characters)
  var NUMBER = /(-?(?:0|[1-9][0-9]*))(\.[0-9]+)?([eE][-+]?[0-9]+)?/y;

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

  /* JSON.parse's object flattened into ``rec``; false when JSON.parse may have read the line
   * otherwise than Python's json (an index-like key: its order; a -0: the integer -0 is 0),
   * and the line is then read again by parseStrict. ``depth``: the object's nesting level. */
  function flattenNative(obj, prefix, rec, depth) {
    if (depth > MAX_DEPTH) throw new Bad("too deep");
    var keys = Object.keys(obj);
    for (var j = 0; j < keys.length; j++) {
      var key = keys[j], v = obj[key];
      if (isIndexKey(key)) return false;
      var name = prefix ? prefix + clean(key, rec) : cleanKey(key, rec);
      if (typeof v === "number") {
        if (v === 0 && 1 / v < 0) return false;
        rec.values.set(name, v);
      } else if (v === null || typeof v !== "object") {
        rec.values.set(name, classify(v, rec));          // null, true/false, text
      } else if (!Array.isArray(v) && Object.keys(v).length) {
        if (!flattenNative(v, name + "/", rec, depth + 1)) return false;
      } else {
        walkNative(v, rec, depth + 1);                   // a list or {}: text, but counted
        rec.values.set(name, TEXT);
      }
    }
    return true;
  }

  // Inside a value kept as text only depth and lone surrogates count.
  function walkNative(v, rec, depth) {
    if (depth > MAX_DEPTH) throw new Bad("too deep");
    var items = Array.isArray(v) ? v : Object.keys(v);
    for (var i = 0; i < items.length; i++) {
      var x = Array.isArray(v) ? items[i] : v[items[i]];
      if (!Array.isArray(v)) clean(items[i], rec);
      if (typeof x === "string") clean(x, rec);
      else if (x !== null && typeof x === "object") walkNative(x, rec, depth + 1);
    }
  }

  /* One line (a string) to a record: {values: Map key -> number | NaN (logged NaN) | null |
   * TEXT, repaired: lone surrogates were replaced}, or null when the reader skips the line.
   * JSON.parse first (native, fast); parseStrict where Python's json may read it otherwise. */
  function parseLine(line) {
    if (line.indexOf("NaN") < 0 && line.indexOf("Infinity") < 0 && !(line.length > 308 && LONG_INT.test(line))) {
      var obj;
      try {
        obj = JSON.parse(line);
      } catch (err) {
        obj = undefined;                                    // let parseStrict decide
      }
      if (obj !== undefined) {
        if (obj === null || typeof obj !== "object" || Array.isArray(obj)) return null;
        var rec = { values: new Map(), repaired: false };
        try {
          if (flattenNative(obj, "", rec, 1)) return rec;
        } catch (err) {
          if (err instanceof Bad) return null;              // nested too deep
          throw err;
        }
      }
    }
    var v;
    try {
      v = parseStrict(line);
    } catch (err) {
      if (err instanceof Bad || err instanceof RangeError) return null;
      throw err;
    }
    if (!(v instanceof Map)) return null;                   // not a JSON object
    var out = { values: new Map(), repaired: false };
    flatten(v, "", out);
    return out;
  }

  // Top-level keys repeat on every line: their cleaned spelling is kept (a few thousand at most).
  var KEYS = new Map();

  function cleanKey(key, rec) {
    var fixed = KEYS.get(key);
    if (fixed === undefined) {
      fixed = key.replace(LONE, "\ufffd");
      if (KEYS.size < 4096) KEYS.set(key, fixed);
    }
    if (fixed !== key) rec.repaired = true;
    return fixed;
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

  window.RunpagesJsonLine = { parseLine: parseLine, TEXT: TEXT };
})();
