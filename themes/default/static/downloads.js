/* runpages: download links on a page opened from file://.
 *
 * Browsers ignore the `download` attribute on file:// (each file is its own origin there), so a
 * click on metrics.jsonl, config.json or console.log shows the text instead of saving it. Such
 * links get a title and their block one note saying how to save them; over http(s) nothing changes.
 * window.RunpagesDownloads = {needsHint(protocol, href) (pure), mark(root)}.
 */
(function () {
  "use strict";

  // Files a browser shows as text rather than saving (by extension).
  var TEXT = /\.(jsonl|ndjson|json|log|txt|csv|tsv|md|yaml|yml|toml|ini|cfg|py|sh|out|err)$/i;
  var NOTE = "This page was opened from a file, so your browser shows these files instead of " +
    "saving them: right-click a link \u2192 \u201cSave link as\u2026\u201d to keep the file.";
  var TITLE = "Opened from a file the browser shows this instead of saving it: right-click \u2192 \u201cSave link as\u2026\u201d";

  function needsHint(protocol, href) {
    if (protocol !== "file:" || !href) return false;
    return TEXT.test(String(href).replace(/[?#].*$/, ""));
  }

  /* Each such link gets a title; the block holding them (the downloads paragraph, the artifacts
   * table) gets one note before it. Returns the number of links marked. */
  function mark(root) {
    if (typeof location === "undefined") return 0;
    var links = (root || document).querySelectorAll("a[download]"), n = 0;
    for (var i = 0; i < links.length; i++) {
      var a = links[i];
      if (a.getAttribute("data-save-hint") || !needsHint(location.protocol, a.getAttribute("href"))) continue;
      a.setAttribute("data-save-hint", "1");
      a.title = TITLE;
      n++;
      var block = a.closest(".table-wrap, table, p, li, section") || a.parentNode;
      var before = block.previousElementSibling;
      if (before && before.classList.contains("rp-save-hint")) continue;
      var note = document.createElement("p");
      note.className = "rp-save-hint muted small no-print";
      note.textContent = NOTE;
      block.parentNode.insertBefore(note, block);
    }
    return n;
  }

  window.RunpagesDownloads = { needsHint: needsHint, mark: mark };
  if (typeof document === "undefined") return;
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { mark(); });
  else mark();
})();
