/* runpages: the filter language of the project page's runs table (RunpagesQuery).
 *
 * RunpagesQuery mirrors sitegen/query.py (same language, messages and positions); the cases in
 * tests/cases/query/*.txt run against both. table.js filters its rows with it; params.js and
 * parcoords.js read values through toNumber / lookup.
 *
 * window.RunpagesQuery = {parse(text) -> {text, terms, keys(), matches(row), bind(names)}, QueryError (with
 * .position), toNumber(value), toText(value), lookup(row, key) (MISSING when no column fits),
 * MISSING}.
 * bind(names) -> match(row): the same answers as matches(row) for rows whose keys are `names`
 * (every table row holds every column), with each key resolved once and each row's words read
 * once (kept per row object: rows must not change afterwards); what a 100,000-row table filters with.
 */
(function () {
  "use strict";

  var OPERATORS = ["!=", "<=", ">=", "==", "=", "<", ">", "~"];
  var OP_CHARS = "!<>=~";
  var QUOTES = "\"'";
  var NUMBER = /^\s*[+-]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?\s*$/;
  var SPECIAL_NUMBERS = { nan: NaN, inf: Infinity, infinity: Infinity };
  var ALIASES = { tag: "tags", commit: "git", started: "start" };
  var PREFIXES = ["config.", "summary."];
  var MISSING = {};

  function QueryError(message, position) {
    this.name = "QueryError";
    this.message = message;
    this.position = position;
  }
  QueryError.prototype = Object.create(Error.prototype);
  QueryError.prototype.constructor = QueryError;

  function isSpace(ch) { return /\s/.test(ch); }

  function toNumber(value) {
    if (value === null || value === undefined || typeof value === "boolean") return null;
    if (typeof value === "number") return value;
    if (typeof value === "string") {
      if (NUMBER.test(value)) return Number(value);
      var s = value.trim().toLowerCase();
      var sign = s.charAt(0) === "-" ? -1 : 1;
      var key = s.replace(/^[+-]+/, "");
      if (Object.prototype.hasOwnProperty.call(SPECIAL_NUMBERS, key)) return sign * SPECIAL_NUMBERS[key];
    }
    return null;
  }

  function toText(value) {
    if (value === null || value === undefined) return "";
    if (typeof value === "boolean") return value ? "true" : "false";
    if (typeof value === "object") return JSON.stringify(value);
    return String(value);
  }

  function lookup(row, key) {
    var candidates = [key];
    var alias = ALIASES[key.toLowerCase()];
    if (alias) candidates.push(alias);
    candidates.push("config." + key);
    for (var p = 0; p < PREFIXES.length; p++) {
      if (key.indexOf(PREFIXES[p]) === 0) candidates.push(key.slice(PREFIXES[p].length));
    }
    var i;
    for (i = 0; i < candidates.length; i++) {
      if (Object.prototype.hasOwnProperty.call(row, candidates[i])) return row[candidates[i]];
    }
    var lowered = {};
    for (var k in row) {
      if (Object.prototype.hasOwnProperty.call(row, k) && !(k.toLowerCase() in lowered)) lowered[k.toLowerCase()] = k;
    }
    for (i = 0; i < candidates.length; i++) {
      var name = candidates[i].toLowerCase();
      if (Object.prototype.hasOwnProperty.call(lowered, name)) return row[lowered[name]];
    }
    return MISSING;
  }

  function isEmpty(value) {
    return value === null || value === undefined || value === MISSING ||
      (typeof value === "string" && value.trim() === "");
  }

  function order(op, a, b) {
    switch (op) {
      case "=": return a === b;
      case "<": return a < b;
      case "<=": return a <= b;
      case ">": return a > b;
      case ">=": return a >= b;
    }
    return false;
  }

  /* want: the value as a number, when the caller has it already (bind). */
  function compare(cell, op, value, quoted, want) {
    if (op === "~") return toText(cell).toLowerCase().indexOf(value.toLowerCase()) !== -1;
    if (isEmpty(cell)) return op === "=" && value === "";
    if (want === undefined) want = quoted ? null : toNumber(value);
    var have = toNumber(cell);
    if (want !== null && have !== null) return order(op, have, want);
    return order(op, toText(cell).toLowerCase(), value.toLowerCase());
  }

  function cellsOf(value) { return Array.isArray(value) ? value : [value]; }

  function termMatches(term, row) {
    var i, cells;
    if (term.key === null) {
      var needle = term.value.toLowerCase();
      for (var k in row) {
        if (!Object.prototype.hasOwnProperty.call(row, k)) continue;
        cells = cellsOf(row[k]);
        for (i = 0; i < cells.length; i++) {
          if (toText(cells[i]).toLowerCase().indexOf(needle) !== -1) return true;
        }
      }
      return false;
    }
    return cellMatches(term, lookup(row, term.key));
  }

  /* A keyed term against the cell its key found (MISSING: no column). */
  function cellMatches(term, cell, want) {
    var i, cells;
    if (cell === MISSING) return term.op === "!=";
    cells = cellsOf(cell);
    if (term.op === "!=") {
      for (i = 0; i < cells.length; i++) if (compare(cells[i], "=", term.value, term.quoted, want)) return false;
      return true;
    }
    for (i = 0; i < cells.length; i++) if (compare(cells[i], term.op, term.value, term.quoted, want)) return true;
    return false;
  }

  /* A row's words for free-text terms: each cell's text in lower case, joined by SEP. */
  var SEP = "\u0001", haystacks = typeof WeakMap === "function" ? new WeakMap() : null;
  function haystack(row) {
    var h = haystacks.get(row);
    if (h !== undefined) return h;
    var parts = [];
    for (var k in row) {
      if (!Object.prototype.hasOwnProperty.call(row, k)) continue;
      var cells = cellsOf(row[k]);
      for (var i = 0; i < cells.length; i++) parts.push(toText(cells[i]).toLowerCase());
    }
    h = SEP + parts.join(SEP) + SEP;
    haystacks.set(row, h);
    return h;
  }

  function bind(terms, names) {
    var probe = {};
    for (var n = 0; n < names.length; n++) probe[names[n]] = names[n];
    var plan = terms.map(function (t) {
      if (t.key !== null) return { term: t, name: lookup(probe, t.key), want: t.quoted ? null : toNumber(t.value) };
      var needle = t.value.toLowerCase();
      return { term: t, needle: needle, fast: !!haystacks && needle.indexOf(SEP) === -1 };
    });
    return function (row) {
      for (var j = 0; j < plan.length; j++) {
        var p = plan[j];
        if (p.term.key !== null) {
          if (!cellMatches(p.term, p.name === MISSING ? MISSING : row[p.name], p.want)) return false;
        } else if (p.fast) {
          if (haystack(row).indexOf(p.needle) === -1) return false;
        } else if (!termMatches(p.term, row)) {
          return false;
        }
      }
      return true;
    };
  }

  function tokenize(text) {
    var tokens = [], i = 0, n = text.length, ch, start;
    while (i < n) {
      ch = text.charAt(i);
      if (isSpace(ch)) {
        i++;
      } else if (QUOTES.indexOf(ch) !== -1) {
        start = i; i++;
        var out = "";
        while (i < n && text.charAt(i) !== ch) {
          if (text.charAt(i) === "\\" && i + 1 < n) i++;
          out += text.charAt(i);
          i++;
        }
        if (i >= n) throw new QueryError("unterminated quote " + ch, start);
        tokens.push({ kind: "word", text: out, position: start, quoted: true });
        i++;
      } else if (OP_CHARS.indexOf(ch) !== -1) {
        var two = text.substr(i, 2);
        var op = OPERATORS.indexOf(two) !== -1 ? two : ch;
        if (OPERATORS.indexOf(op) === -1) throw new QueryError("unknown operator '" + op + "'; did you mean '!='?", i);
        tokens.push({ kind: "op", text: op === "==" ? "=" : op, position: i, quoted: false });
        i += op.length;
      } else {
        start = i;
        while (i < n && !isSpace(text.charAt(i)) && OP_CHARS.indexOf(text.charAt(i)) === -1 &&
               QUOTES.indexOf(text.charAt(i)) === -1) i++;
        tokens.push({ kind: "word", text: text.slice(start, i), position: start, quoted: false });
      }
    }
    return tokens;
  }

  function parse(text) {
    var tokens = tokenize(text), terms = [], i = 0;
    while (i < tokens.length) {
      var tok = tokens[i];
      if (tok.kind === "op") throw new QueryError("expected a column name before '" + tok.text + "'", tok.position);
      var next = tokens[i + 1];
      if (!next || next.kind !== "op") {
        terms.push({ key: null, op: null, value: tok.text, quoted: tok.quoted, position: tok.position });
        i++;
        continue;
      }
      var value = tokens[i + 2];
      if (!value) throw new QueryError("expected a value after '" + next.text + "'", text.length);
      if (value.kind === "op") {
        throw new QueryError("expected a value after '" + next.text + "', got '" + value.text + "'", value.position);
      }
      terms.push({ key: tok.text, op: next.text, value: value.text, quoted: value.quoted, position: tok.position });
      i += 3;
    }
    return {
      text: text,
      terms: terms,
      keys: function () { return terms.filter(function (t) { return t.key !== null; }).map(function (t) { return t.key; }); },
      matches: function (row) {
        for (var j = 0; j < terms.length; j++) if (!termMatches(terms[j], row)) return false;
        return true;
      },
      bind: function (names) { return bind(terms, names); }
    };
  }

  window.RunpagesQuery = { parse: parse, QueryError: QueryError, toNumber: toNumber, toText: toText, lookup: lookup, MISSING: MISSING };
})();
