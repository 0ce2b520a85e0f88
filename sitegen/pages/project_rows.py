"""A large project's table rows as one columnar script (``data/projects/<project>.rows.js``).

Above ``pages.project.SERVER_ROWS_MAX`` runs the project page carries no ``<tr>`` per run:
table.js reads this script (a ``<script src>``, so ``file://`` works) and lays out only the rows
in view. The cells are the ones the HTML rows would hold (``pages.project.run_cells``), so
filtering, sorting, grouping, CSV and display stay one rule. Invariants:

- ``window.RunpagesRows[<project slug>] = {n, ids, url, columns}``; rows are in the table's
  first order (newest first); run ``i``'s key is ``<project slug>/<ids[i]>`` and its page is
  ``url[0] + ids[i] + url[1]`` (relative to the site root);
- ``columns[c]`` belongs to the ``c``-th ``<th data-key>`` and holds ``v``: the value the
  filter language sees (the HTML cell's ``data-v``, else its text; tags as a list), ``t``: the
  shown text where it differs from ``v`` (else absent, or null per row), ``h``: the title
  (tooltip) per row (1: the same as ``v``), absent when no row has one; ``n``: whether the
  cells align as numbers (1 all, 0 none, else one 0/1 per row);
- an array with few distinct values is stored as ``{"d": [distinct...], "i": [index...]}``;
- the text is JSON with ``<``, ``>``, ``&`` and line separators escaped (``charts.js_json``):
  user-written names and configs cannot end the script.
"""
from __future__ import annotations

from typing import Any

from runpages.sitegen.charts import js_json
from runpages.sitegen.pages.project import project_columns, run_cells, table_runs

DICT_MAX_SHARE = 0.25       # dictionary-encode an array when its distinct values are this few


def _pack(values: list[Any]) -> Any:
    """``values`` as a list, or dictionary-encoded when that is smaller."""
    index: dict[str, int] = {}
    distinct: list[Any] = []
    codes: list[int] = []
    limit = max(1, int(len(values) * DICT_MAX_SHARE))
    for v in values:
        k = v if isinstance(v, str) else repr(v)     # lists (tags) by their spelling
        code = index.get(k)
        if code is None:
            if len(distinct) >= limit:
                return values
            code = index[k] = len(distinct)
            distinct.append(v)
        codes.append(code)
    return {"d": distinct, "i": codes}


def _column(cells: list[dict]) -> dict:
    values, texts, titles, nums = [], [], [], []
    for c in cells:
        nums.append(1 if c["num"] else 0)
        if c["kind"] == "tags":
            v = list(c["tags"])
        else:
            v = c["v"] if c["v"] is not None else c["text"]
        values.append(v)
        texts.append(None if c["kind"] == "tags" or c["text"] == v else c["text"])
        # A number's title is its full value, the same as v: 1 says so in one byte.
        titles.append(1 if c["title"] and c["title"] == v else (c["title"] or None))
    out: dict[str, Any] = {"v": _pack(values), "n": 1 if all(nums) else 0 if not any(nums) else _pack(nums)}
    if any(t is not None for t in texts):
        out["t"] = _pack(texts)
    if any(t is not None for t in titles):
        out["h"] = _pack(titles)
    return out


def rows_payload(project, site) -> dict:
    columns, config_keys, summary_keys = project_columns(project)
    runs = table_runs(project)
    per_column: list[list[dict]] = [[] for _ in columns]
    ids, urls = [], []
    made: dict = {}
    for run in runs:
        key = site.key(run)
        ids.append(key.split("/", 1)[1])
        urls.append(site.run_url(run))
        for j, cell in enumerate(run_cells(run, site, summary_keys, config_keys, made)):
            per_column[j].append(cell)
    payload: dict[str, Any] = {"n": len(runs), "ids": ids}
    pattern = site.run_url(runs[0]).split(ids[0], 1) if runs else ["", ""]
    if len(pattern) == 2 and all(u == pattern[0] + i + pattern[1] for u, i in zip(urls, ids)):
        payload["url"] = pattern
    else:                       # a URL layout this rule does not cover: every URL spelled out
        payload["url"] = ["", ""]
        payload["urls"] = urls
    payload["columns"] = [_column(cells) for cells in per_column]
    return payload


def rows_script(project, site) -> str:
    """The text of ``site.project_rows(project)``."""
    slug = site.project_slug(project.name)
    return ("(window.RunpagesRows = window.RunpagesRows || {})[" + js_json(slug) + "] = "
            + js_json(rows_payload(project, site)) + ";\n")
