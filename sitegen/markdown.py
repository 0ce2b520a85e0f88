"""Report Markdown to HTML: CommonMark + GitHub tables, with runpages blocks and inline values.

Invariants:
- Raw HTML is off twice over: ``html=False`` and the ``html_block``/``html_inline`` rules
  disabled (the ``commonmark`` preset turns HTML on). Whatever a report holds reaches the page
  as escaped text or as markup markdown-it made.
- Links and images keep only safe targets (``validate_link``): relative paths, ``#anchors``,
  ``http:``, ``https:``, ``mailto:`` and raster ``data:image/...``; anything else
  (``javascript:``, ``vbscript:``, ``file:``, ``data:text/html`` ...) is not made a link and
  stays visible as text, as markdown-it does with its own bad-protocol list.
- Code fences are highlighted by Pygments on the build machine (no script, no network).
- A fence whose info word is ``chart``, ``runs``, ``compare``, ``media`` or ``table`` is a *block*; a code span
  ``=name(...)`` with a known ``name`` is an inline *value*. The render rules record each one in
  ``env`` and leave an unforgeable marker (NUL cannot survive markdown-it's input
  normalisation, which turns it into U+FFFD); ``render`` then splits the HTML at the markers
  into ``parts``, so the page template draws each block through its own escaped partial.
  Nothing here knows about runs: ``sitegen.reports`` resolves blocks and values.
- Line numbers are 1-based lines of the report *file* (``line_offset`` skips front matter).

Inline value syntax (legible as code in any Markdown viewer)::

    `=best(val/acc, name = lr3e-4-s0)`       best logged value over the matching runs' steps
    `=last(val/loss, name = lr1e-3-s0)`      final value (summary, else last logged); one run
    `=mean(test/acc, group = "resnet18 lr=3e-4")`   mean of the runs' final values (also min, max)
    `=summary(best/val_acc, name = x)`       any summary key; `=config(lr, name = x)` a config value
    `=count(user = ana status = finished)`   how many runs match
    `=best(val/acc, user = ana):.1%`         an optional Python format spec after the ``)``

The part after the first comma is a run selection in the runs-table filter language
(``sitegen.query``); ``project = <name>`` narrows it to one project.
"""
from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from html import escape
from typing import Any, Callable

from markdown_it import MarkdownIt
from markdown_it.common.utils import escapeHtml

BLOCK_KINDS = ("chart", "runs", "compare", "media", "table")
VALUE_FUNCTIONS = ("best", "last", "min", "max", "mean", "summary", "config", "count")
_MARK = "\x00"
_MARK_RE = re.compile("\x00([BV])(\\d+)\x00")
_VALUE_RE = re.compile(r"^=\s*([A-Za-z_]\w*)\s*\((.*)\)\s*(?::([^()]*))?$", re.DOTALL)
_VALUE_START_RE = re.compile(r"^=\s*(" + "|".join(VALUE_FUNCTIONS) + r")\s*\(")
_SCHEME_RE = re.compile(r"^([a-zA-Z][a-zA-Z0-9+.\-]*):")
_SAFE_SCHEMES = {"http", "https", "mailto"}
_SAFE_DATA_RE = re.compile(r"^data:image/(gif|png|jpeg|webp);", re.IGNORECASE)
# Characters browsers ignore inside a scheme ("java\tscript:"): strip them before checking.
_IGNORED_IN_URL = re.compile(r"[\x00-\x20\x7f-\x9f\u200b-\u200d\ufeff]")


@dataclass
class Block:
    index: int
    kind: str            # one of BLOCK_KINDS
    source: str          # the YAML between the fences
    line: int            # 1-based line of the opening fence in the report file


@dataclass
class Value:
    index: int
    text: str            # the code span as written, e.g. "=best(val/acc, user = ana)"
    function: str        # "best", ...; "" when the span could not be parsed
    metric: str          # first argument ("" for count)
    selection: str       # the runs-table filter after the first comma ("" = every run)
    format: str          # Python format spec after ")", "" for the default
    line: int
    error: str = ""      # why it could not be parsed


@dataclass
class Link:
    target: str          # as written (relative: no scheme, no leading "/" or "#")
    line: int
    image: bool


@dataclass
class Heading:
    level: int
    text: str
    id: str


@dataclass
class Document:
    """A parsed report body: tokens plus what the render rules will need."""
    tokens: list
    env: dict
    blocks: list[Block] = field(default_factory=list)
    values: list[Value] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    headings: list[Heading] = field(default_factory=list)


@dataclass
class Part:
    kind: str            # "html", "block" or "value"
    html: str = ""       # kind "html": markup made here (safe to emit as is)
    index: int = -1      # kind "block"/"value": index into Document.blocks / .values


# ---------------------------------------------------------------------------------------------
# Links

def validate_link(url: str) -> bool:
    """True for targets a report may link to (see the module docstring)."""
    probe = _IGNORED_IN_URL.sub("", url)
    m = _SCHEME_RE.match(probe)
    if not m:
        return not probe.startswith("//")           # protocol-relative: another host, by surprise
    scheme = m.group(1).lower()
    if scheme == "data":
        return bool(_SAFE_DATA_RE.match(probe))
    return scheme in _SAFE_SCHEMES


def is_relative(target: str) -> bool:
    """A path next to the report (no scheme, not absolute, not only an anchor or query)."""
    return bool(target) and not _SCHEME_RE.match(target) and not target.startswith(("/", "#", "?"))


# ---------------------------------------------------------------------------------------------
# Highlighting

def highlight(code: str, lang: str, attrs: str = "") -> str:
    """Pygments HTML for a fenced block; "" (markdown-it escapes it) for an unknown language."""
    if not lang:
        return ""
    try:
        from pygments import highlight as _highlight
        from pygments.formatters import HtmlFormatter
        from pygments.lexers import get_lexer_by_name
        from pygments.util import ClassNotFound
    except ImportError:        # Pygments is optional: code stays plain, still escaped
        return ""
    try:
        lexer = get_lexer_by_name(lang, stripnl=False)
    except ClassNotFound:
        return ""
    body = _highlight(code, lexer, HtmlFormatter(nowrap=True, classprefix="hl-"))
    return f'<pre class="highlight"><code class="language-{escape(lang)}">{body}</code></pre>\n'


def highlight_css() -> str:
    """Pygments colours for ``pre.highlight`` (light, and dark under prefers-color-scheme)."""
    try:
        from pygments.formatters import HtmlFormatter
    except ImportError:
        return ""
    light = HtmlFormatter(style="default", classprefix="hl-").get_style_defs("pre.highlight")
    dark = HtmlFormatter(style="monokai", classprefix="hl-").get_style_defs("pre.highlight")
    keep = lambda css: "\n".join(l for l in css.splitlines()  # noqa: E731
                                 if l.startswith("pre.highlight .") and "background" not in l.split("{")[0])
    return (keep(light) + "\n@media (prefers-color-scheme: dark) {\n" + keep(dark)
            + "\n}\n@media print {\n" + keep(light) + "\n}\n")


# ---------------------------------------------------------------------------------------------
# Headings

def heading_slug(text: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to ``-``."""
    s = unicodedata.normalize("NFKC", text).strip().lower()
    s = "".join(c for c in s if c.isalnum() or c in " -_")
    s = re.sub(r"\s", "-", s) or "section"
    return "h-" + s if s.startswith("rp-") else s       # rp-* ids belong to the page (blocks)


def _anchor_rule(state) -> None:
    used: set[str] = set()
    tokens = state.tokens
    for i, tok in enumerate(tokens):
        if tok.type != "heading_open":
            continue
        inline = tokens[i + 1]
        text = "".join(c.content for c in (inline.children or []) if c.type in ("text", "code_inline"))
        base = slug = heading_slug(text)
        n = 0
        while slug in used:
            n += 1
            slug = f"{base}-{n}"
        used.add(slug)
        tok.attrSet("id", slug)
        state.env.setdefault("headings", []).append(Heading(int(tok.tag[1]), text, slug))


# ---------------------------------------------------------------------------------------------
# Blocks and values: recorded at parse time, rendered as markers

def _collect_rule(state) -> None:
    env = state.env
    offset = env.get("line_offset", 0)
    for tok in state.tokens:
        if tok.type == "fence":
            kind = tok.info.strip().split(None, 1)[0].lower() if tok.info.strip() else ""
            if kind in BLOCK_KINDS:
                blocks = env.setdefault("blocks", [])
                line = (tok.map[0] if tok.map else 0) + 1 + offset
                tok.meta["block"] = len(blocks)
                blocks.append(Block(len(blocks), kind, tok.content, line))
            continue
        if tok.type != "inline" or not tok.children:
            continue
        line = (tok.map[0] if tok.map else 0) + 1 + offset
        for child in tok.children:
            if child.type in ("softbreak", "hardbreak"):
                line += 1
            elif child.type == "code_inline" and _VALUE_START_RE.match(child.content):
                values = env.setdefault("values", [])
                child.meta["value"] = len(values)
                values.append(parse_value(child.content, len(values), line))
            elif child.type in ("link_open", "image"):
                target = child.attrGet("href" if child.type == "link_open" else "src") or ""
                if is_relative(str(target)):
                    env.setdefault("links", []).append(Link(str(target), line, child.type == "image"))


def parse_value(text: str, index: int = 0, line: int = 0) -> Value:
    """``=best(val/acc, user = ana):.3f`` -> Value; ``error`` says what is wrong, if anything."""
    m = _VALUE_RE.match(text.strip())
    if not m:
        return Value(index, text, "", "", "", "", line,
                     error="expected =function(metric, runs) with a closing parenthesis")
    function, inner, fmt = m.group(1).lower(), m.group(2).strip(), (m.group(3) or "").strip()
    if function not in VALUE_FUNCTIONS:
        return Value(index, text, "", "", "", fmt, line,
                     error=f"unknown function {function!r}; use one of {', '.join(VALUE_FUNCTIONS)}")
    if function == "count":
        return Value(index, text, function, "", inner, fmt, line)
    metric, _, selection = inner.partition(",")
    metric = metric.strip().strip("\"'")
    if not metric:
        return Value(index, text, function, "", "", fmt, line,
                     error=f"{function}() needs a metric name first, e.g. ={function}(val/acc, user = ana)")
    return Value(index, text, function, metric, selection.strip(), fmt, line)


def _fence_rule(self, tokens, idx, options, env) -> str:
    tok = tokens[idx]
    if "block" in tok.meta:
        return f"{_MARK}B{tok.meta['block']}{_MARK}"
    return _default_fence(self, tokens, idx, options, env)


def _code_inline_rule(self, tokens, idx, options, env) -> str:
    tok = tokens[idx]
    if "value" in tok.meta:
        return f"{_MARK}V{tok.meta['value']}{_MARK}"
    return f"<code>{escapeHtml(tok.content)}</code>"


def _heading_close_rule(self, tokens, idx, options, env) -> str:
    # A "#" link after the heading text, shown on hover; the heading's id comes from _anchor_rule.
    open_tok = tokens[idx - 2] if idx >= 2 else None
    anchor = open_tok.attrGet("id") if open_tok is not None and open_tok.type == "heading_open" else None
    link = (f' <a class="rp-anchor" href="#{escapeHtml(str(anchor))}" aria-label="link to this section">#</a>'
            if anchor else "")
    return f"{link}</{tokens[idx].tag}>\n"


def _image_rule(self, tokens, idx, options, env) -> str:
    tok = tokens[idx]
    src = str(tok.attrGet("src") or "")
    embed = env.get("images")                 # export: relative src -> data: URL, others -> links
    if embed is not None:
        alt = self.renderInlineAsText(tok.children or [], options, env)
        if src in embed:
            tok.attrSet("src", embed[src])
        elif not src.startswith("data:"):
            return (f'<a class="rp-image-link" href="{escapeHtml(src)}">'
                    f'[image: {escapeHtml(alt or src)}]</a>')
    return self.image(tokens, idx, options, env)


_default_fence: Callable[..., str]


def make_parser() -> MarkdownIt:
    global _default_fence
    md = MarkdownIt("commonmark", {"html": False, "linkify": False, "typographer": False,
                                   "highlight": highlight})
    md.enable(["table", "strikethrough"])
    md.disable(["html_block", "html_inline"])
    md.validateLink = validate_link
    md.core.ruler.push("rp_anchors", _anchor_rule)
    md.core.ruler.push("rp_collect", _collect_rule)
    _default_fence = type(md.renderer).fence
    md.add_render_rule("fence", _fence_rule)
    md.add_render_rule("code_inline", _code_inline_rule)
    md.add_render_rule("heading_close", _heading_close_rule)
    md.add_render_rule("image", _image_rule)
    return md


_PARSER: MarkdownIt | None = None


def parser() -> MarkdownIt:
    global _PARSER
    if _PARSER is None:
        _PARSER = make_parser()
    return _PARSER


def parse(text: str, line_offset: int = 0) -> Document:
    """Tokens, blocks, values, relative links and headings of a report body."""
    env: dict[str, Any] = {"line_offset": line_offset}
    tokens = parser().parse(text, env)
    return Document(tokens, env, env.get("blocks", []), env.get("values", []),
                    env.get("links", []), env.get("headings", []))


def rewrite_links(doc: Document, mapping: dict[str, str]) -> None:
    """Replace relative link/image targets (``other.md`` -> ``other.html``) before rendering."""
    def walk(tokens):
        for tok in tokens:
            if tok.type == "link_open" and tok.attrGet("href") in mapping:
                tok.attrSet("href", mapping[tok.attrGet("href")])
            elif tok.type == "image" and tok.attrGet("src") in mapping:
                tok.attrSet("src", mapping[tok.attrGet("src")])
            if tok.children:
                walk(tok.children)
    walk(doc.tokens)


def render(doc: Document, images: dict[str, str] | None = None) -> list[Part]:
    """HTML split at block and value markers. ``images``: export mode (see ``_image_rule``)."""
    env = dict(doc.env)
    if images is not None:
        env["images"] = images
    md = parser()
    html = md.renderer.render(doc.tokens, md.options, env)
    parts: list[Part] = []
    pos = 0
    for m in _MARK_RE.finditer(html):
        if m.start() > pos:
            parts.append(Part("html", html[pos:m.start()]))
        parts.append(Part("block" if m.group(1) == "B" else "value", index=int(m.group(2))))
        pos = m.end()
    if pos < len(html):
        parts.append(Part("html", html[pos:]))
    return parts


def render_html(text: str) -> str:
    """Plain Markdown to HTML (blocks and values shown as markers' names): tests, descriptions."""
    doc = parse(text)
    out = []
    for part in render(doc):
        if part.kind == "html":
            out.append(part.html)
        elif part.kind == "block":
            out.append(f'<div class="rp-block" data-kind="{doc.blocks[part.index].kind}"></div>')
        else:
            out.append(f'<code>{escapeHtml(doc.values[part.index].text)}</code>')
    return "".join(out)
