"""Links from run pages to artifacts that stay in the store (``--artifacts link``).

``artifacts = "link"`` (``--artifacts link``) leaves the artifacts of runs read from a store in
the store: the run page links to the object instead of copying it into the site.

* The site is published into the same store (``publish --to`` / ``publish_to`` naming the same
  scheme and bucket): the link is the object's public URL (the bucket serves the site, so it
  serves the runs beside it; make the runs prefix readable as the site's is).
* Else: a pre-signed URL valid ``LINK_EXPIRY_S`` (7 days, S3's longest). It carries the access
  key *id* and a signature, never the secret. Pages holding such links are re-rendered every
  ``REFRESH_S`` (``epoch`` is part of the build's settings), so a site rebuilt at least that
  often (``init-ci --schedule``) never shows an expired link.
* A store that cannot sign (``memory://``, a key-less account) or a run from a local folder:
  ``link`` returns None and the artifact is copied as with ``copy``.

* The mirror does not download what is linked: every object under a run's ``artifacts/``
  but the manifest stays in the store (``stays_in_store``), for stores that can link
  (``can_link``); ``held`` answers from the listing what the run page needs (file or folder).

Signing is local computation (no request); the store client is opened once per URL.
"""
from __future__ import annotations

import os
import time
from pathlib import Path
from typing import Any
from urllib.parse import quote

from runpages import schema
from runpages.store import PARTS_SUFFIX

LINK_EXPIRY_S = 7 * 24 * 3600
REFRESH_S = 3 * 24 * 3600


def _bucket(url: str) -> tuple[str, str]:
    scheme, _, rest = url.partition("://")
    scheme = {"s3a": "s3", "gcs": "gs", "abfs": "az", "abfss": "az"}.get(scheme.lower(), scheme.lower())
    return scheme, rest.strip("/").split("/")[0]


class StoreLinks:
    """``link(run_dir, rel)``: the URL of ``artifacts/<rel>`` of a mirrored run, or None."""

    def __init__(self, mirrors: dict[Path, str], publish_to: str | None = None,
                 options: dict[str, dict] | None = None, now: float | None = None) -> None:
        self.mirrors = {Path(k).resolve(): v.rstrip("/") for k, v in mirrors.items()}
        self.publish_to = publish_to
        self.options = options or {}
        self.epoch = int((time.time() if now is None else now) // REFRESH_S)
        self._fs: dict[str, Any] = {}
        self._left: dict[Path, tuple[dict[str, int], dict[str, int]]] = {}

    def store_url(self, run_dir: Path | str, rel: str) -> str | None:
        """``<store url>/<project>/<run>/artifacts/<rel>`` for a run under a mirror."""
        run_dir = Path(run_dir).resolve()
        for local, url in self.mirrors.items():
            try:
                inner = run_dir.relative_to(local).as_posix()
            except ValueError:
                continue
            return f"{url}/{inner}/artifacts/{rel.lstrip('/')}"
        return None

    def can_link(self, url: str) -> bool:
        """Whether artifacts of runs under ``url`` get links (else they are copied, so the
        mirror must fetch them)."""
        return self.link_url(f"{url.rstrip('/')}/_") is not None

    def remember(self, local: Path | str, left: dict[str, int]) -> None:
        """What the mirror at ``local`` left in the store: path under it -> size (kept with
        the number of files under each folder, so ``held`` is one look-up)."""
        folders: dict[str, int] = {}
        for rel in left:
            parts = rel.split("/")
            for i in range(1, len(parts)):
                folder = "/".join(parts[:i])
                folders[folder] = folders.get(folder, 0) + 1
        self._left[Path(local).resolve()] = (left, folders)

    def held(self, run_dir: Path | str, rel: str) -> tuple[str, int] | None:
        """``("file", bytes)`` or ``("folder", files)`` for ``artifacts/<rel>`` of a mirrored
        run that stays in the store; None when it is not left there (look in the mirror)."""
        run_dir = Path(run_dir).resolve()
        for local, (left, folders) in self._left.items():
            try:
                inner = run_dir.relative_to(local).as_posix()
            except ValueError:
                continue
            key = f"{inner}/{schema.ARTIFACTS_DIR}/{rel.strip('/')}"
            if key in left:
                return "file", left[key]
            return ("folder", folders[key]) if key in folders else None
        return None

    def public(self, url: str) -> bool:
        return self.publish_to is not None and _bucket(url) == _bucket(self.publish_to)

    def link(self, run_dir: Path | str, rel: str) -> tuple[str, str] | None:
        """``(href, note)``, or None where the artifact is to be copied instead."""
        url = self.store_url(run_dir, rel)
        return None if url is None else self.link_url(url)

    def link_url(self, url: str) -> tuple[str, str] | None:
        """``(href, note)`` for the object at ``url``, or None where it cannot be linked."""
        try:
            fs, path = self._open(url)
            if self.public(url):
                href = public_url(url, fs)
                return (href, "in the store") if href else None
            href = fs.sign(path, expiration=LINK_EXPIRY_S)
        except Exception:  # noqa: BLE001 (a store that cannot sign: copy instead)
            return None
        until = time.strftime("%Y-%m-%d", time.gmtime(time.time() + LINK_EXPIRY_S))
        return str(href), f"in the store; link valid until {until}"

    def _open(self, url: str):
        from runpages.store import open_store

        root = _root(url, self.mirrors.values())
        if root not in self._fs:
            self._fs[root] = open_store(root, self.options.get(root))[0]
        fs = self._fs[root]
        return fs, fs._strip_protocol(url)


def stays_in_store(rel: str, listed: set[str]) -> bool:
    """An artifact object (``<run>/artifacts/...`` under a folder holding meta.json, but not
    the manifest, which the reader reads) that the mirror leaves in the store."""
    parts = rel.split("/")
    for i in range(1, len(parts) - 1):
        if parts[i] == schema.ARTIFACTS_DIR and "/".join(parts[:i]) + "/" + schema.META_FILE in listed:
            inner = parts[i + 1]
            return inner not in (schema.ARTIFACT_MANIFEST, schema.ARTIFACT_MANIFEST + PARTS_SUFFIX)
    return False


def _root(url: str, roots) -> str:
    for r in roots:
        if url.startswith(r + "/"):
            return r
    return url


def public_url(url: str, fs: Any = None) -> str | None:
    """The object's address for a browser: the S3 endpoint's path style (MinIO, moto, R2), S3's
    virtual host, Google's or Azure's blob host; None for a store without one."""
    scheme, _, rest = url.partition("://")
    bucket, _, key = rest.strip("/").partition("/")
    key = quote(key)
    scheme = scheme.lower()
    if scheme in ("s3", "s3a"):
        endpoint = (getattr(fs, "client_kwargs", None) or {}).get("endpoint_url") or \
            getattr(fs, "endpoint_url", None) or os.environ.get("AWS_ENDPOINT_URL")
        if endpoint:
            return f"{endpoint.rstrip('/')}/{bucket}/{key}"
        return f"https://{bucket}.s3.amazonaws.com/{key}"
    if scheme in ("gs", "gcs"):
        return f"https://storage.googleapis.com/{bucket}/{key}"
    if scheme in ("az", "abfs", "abfss"):
        account = getattr(fs, "account_url", None) or (
            f"https://{fs.account_name}.blob.core.windows.net" if getattr(fs, "account_name", None) else None)
        return f"{account.rstrip('/')}/{bucket}/{key}" if account else None
    return None
