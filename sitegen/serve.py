"""Serve a built site on 127.0.0.1: GET and HEAD only, nothing outside the site folder.

Invariants: a request path is URL-decoded, normalised and joined to the site root, then the
real path (symlinks resolved) must still lie inside the real site root, else 404. ``..``,
``%2e%2e``, encoded slashes, absolute paths and symlinks leading out all end there. The
site's private state folder (``.runpages/``) and hidden files are never served.
"""
from __future__ import annotations

import functools
import http.server
import os
import posixpath
import sys
import urllib.parse
from pathlib import Path


def resolve_request_path(root: str | os.PathLike, url_path: str) -> Path | None:
    """The file a URL path names inside ``root``, or None when it would leave it."""
    root_real = Path(os.path.realpath(root))
    path = urllib.parse.urlsplit(url_path).path
    path = urllib.parse.unquote(path, errors="strict") if "%" in path else path
    if "\x00" in path or "\\" in path:
        return None
    parts = [p for p in path.split("/") if p not in ("", ".")]
    if any(p == ".." or p.startswith(".") for p in parts):
        return None
    candidate = root_real.joinpath(*parts) if parts else root_real
    real = Path(os.path.realpath(candidate))
    if real != root_real and root_real not in real.parents:
        return None
    if real.is_dir():
        index = real / "index.html"
        real_index = Path(os.path.realpath(index))
        if not real_index.is_file() or root_real not in real_index.parents:
            return None
        return real_index
    return real if real.is_file() else None


class SiteHandler(http.server.SimpleHTTPRequestHandler):
    """Static files from the site folder, with the path check above; no directory listings."""

    server_version = "runpages"
    sys_version = ""

    def __init__(self, *args, directory: str, **kwargs):
        self.site_root = directory
        super().__init__(*args, directory=directory, **kwargs)

    def send_head(self):
        try:
            target = resolve_request_path(self.site_root, self.path)
        except UnicodeDecodeError:
            target = None
        if target is None:
            self.send_error(404, "Not found")
            return None
        path_only = urllib.parse.urlsplit(self.path).path
        if target.name == "index.html" and not path_only.endswith(("/", ".html")):
            self.send_response(301)
            self.send_header("Location", path_only + "/")
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        try:
            f = open(target, "rb")
        except OSError:
            self.send_error(404, "Not found")
            return None
        try:
            st = os.fstat(f.fileno())
            self.send_response(200)
            self.send_header("Content-type", self.guess_type(str(target)))
            self.send_header("Content-Length", str(st.st_size))
            self.send_header("Last-Modified", self.date_time_string(st.st_mtime))
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            return f
        except Exception:
            f.close()
            raise

    def list_directory(self, path):  # never list folders
        self.send_error(404, "Not found")
        return None

    def _refuse(self):
        self.send_error(405, "Method not allowed")

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        if self.server.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), format % args))


class SiteServer(http.server.ThreadingHTTPServer):
    daemon_threads = True
    verbose = False


def make_server(root: str | os.PathLike, host: str = "127.0.0.1", port: int = 8000) -> SiteServer:
    """Bind (raises ``SiteError`` when the port is taken); ``port=0`` picks a free port."""
    from sitegen.errors import SiteError

    handler = functools.partial(SiteHandler, directory=str(root))
    try:
        return SiteServer((host, port), handler)
    except OSError as err:
        import errno

        if err.errno == errno.EADDRINUSE:
            raise SiteError(f"port {port} on {host} is already in use; "
                            f"pick another with --port, or --port 0 for any free one") from None
        raise SiteError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None


def serve_site(root: str | os.PathLike, host: str = "127.0.0.1", port: int = 8000) -> int:
    server = make_server(root, host, port)
    h, p = server.server_address[:2]
    shown = f"[{h}]" if ":" in h else h
    print(f"Serving {root} at http://{shown}:{p}/  (Ctrl-C to stop)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr)
    finally:
        server.server_close()
    return 0
