"""``runpages publish --to s3://bucket/site``: a built site into an object store, changed files only.

Invariants:
* One listing of the prefix; a file is uploaded only when its size or MD5 differs from the
  object's (S3's ETag of a single-part PUT is the MD5; Azure keeps it as Content-MD5), so
  republishing an unchanged site uploads nothing.
* Order keeps every page whole for a reader: data and assets first, HTML pages last, and
  objects that are no longer in the site are deleted only after every new file is in place.
* Each object gets its Content-Type and a Cache-Control: ``_static/`` (theme, BokehJS) may be
  cached for an hour; pages and data scripts must be revalidated, so a rebuild shows at once.
* The build's own state (``.runpages/``) is never uploaded.
"""
from __future__ import annotations

import base64
import hashlib
import mimetypes
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from runpages.store import open_store, store_options

STATIC_CACHE = "public, max-age=3600"
FRESH_CACHE = "no-cache"          # stored, but revalidated by ETag on every view
STATE_DIR = ".runpages"
UPLOAD_WORKERS = 8


def content_type(name: str) -> str:
    kind, _ = mimetypes.guess_type(name)
    if name.endswith((".js", ".mjs")):
        kind = "text/javascript"
    kind = kind or "application/octet-stream"
    if kind.startswith("text/") or kind in ("application/json", "image/svg+xml"):
        kind += "; charset=utf-8"
    return kind


def cache_control(rel: str) -> str:
    return STATIC_CACHE if rel.startswith("_static/") else FRESH_CACHE


def _local_files(site: Path) -> dict[str, Path]:
    out = {}
    for root, dirs, files in os.walk(site):
        if Path(root) == site:
            dirs[:] = [d for d in dirs if d != STATE_DIR]
        for name in files:
            full = Path(root) / name
            if full.is_symlink():
                continue
            out[full.relative_to(site).as_posix()] = full
    return out


def _md5(path: Path) -> str:
    h = hashlib.md5(usedforsecurity=False)
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _remote_md5(info: dict) -> str:
    """The object's MD5 as hex: Azure's Content-MD5, else an ETag that is one (S3, MinIO)."""
    md5 = (info.get("content_settings") or {}).get("content_md5")
    if md5:
        raw = bytes(md5) if not isinstance(md5, str) else base64.b64decode(md5)
        return raw.hex()
    etag = str(info.get("ETag") or info.get("etag") or "").strip('"')
    return etag if len(etag) == 32 else ""


def _headers(url: str, rel: str) -> dict:
    """Content-Type and Cache-Control as the store's client takes them."""
    scheme = url.partition("://")[0].lower()
    if scheme in ("s3", "s3a"):
        return {"ContentType": content_type(rel), "CacheControl": cache_control(rel)}
    if scheme in ("az", "abfs", "abfss"):
        return {"content_settings": {"content_type": content_type(rel),
                                     "cache_control": cache_control(rel)}}
    return {}


def publish_to_store(site: Path, url: str, options: dict | None = None) -> dict:
    """Upload what changed in ``site`` to ``url``, then delete what is gone; returns counts
    ``{"uploaded", "unchanged", "deleted", "bytes", "url"}``."""
    fs, base = open_store(url, store_options(url) if options is None else options)
    try:
        listing = fs.find(base, detail=True)
    except FileNotFoundError:
        listing = {}
    remote = {k[len(base):].lstrip("/"): v for k, v in listing.items()
              if v.get("type") != "directory" and k.startswith(base)}
    local = _local_files(Path(site))
    changed = []
    for rel, path in local.items():
        info = remote.get(rel)
        if info is not None and int(info.get("size", -1)) == path.stat().st_size:
            md5 = _remote_md5(info)
            if md5 and md5 == _md5(path):
                continue
        changed.append(rel)

    def put(rel: str) -> int:
        data = local[rel].read_bytes()
        fs.pipe_file(f"{base}/{rel}", data, **_headers(url, rel))
        return len(data)

    pages = [r for r in changed if r.endswith(".html")]
    rest = [r for r in changed if not r.endswith(".html")]
    sent = 0
    with ThreadPoolExecutor(max_workers=UPLOAD_WORKERS) as pool:
        sent += sum(pool.map(put, sorted(rest)))     # data and assets before the pages using them
        sent += sum(pool.map(put, sorted(pages)))
    gone = sorted(set(remote) - set(local))
    for rel in gone:
        fs.rm_file(f"{base}/{rel}")
    return {"uploaded": len(changed), "unchanged": len(local) - len(changed), "deleted": len(gone),
            "bytes": sent, "url": site_url(url, fs)}


def site_url(url: str, fs=None) -> str:
    """Where the published site opens: the store's public address of its index.html."""
    from runpages.sitegen.storelinks import public_url

    page = f"{url.rstrip('/')}/index.html"
    return public_url(page, fs) or page
