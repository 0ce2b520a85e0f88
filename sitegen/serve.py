"""Serve a built site on 127.0.0.1: GET and HEAD only, nothing outside the site folder.

Invariants: a request path is URL-decoded, normalised and joined to the site root, then the
real path (symlinks resolved) must still lie inside the real site root, else 404. ``..``,
``%2e%2e``, encoded slashes, absolute paths and symlinks leading out all end there. Hidden
files and folders (a name starting with ``.``) are never served. Methods other
than GET and HEAD get 405 (the common ones) or 501. Bound to a loopback address, the server
answers only requests whose ``Host`` names a loopback host (403 otherwise), so a web page
cannot read the site through DNS rebinding: a loopback host is ``localhost``, ``*.localhost``
or a name that parses as an address in 127.0.0.0/8 or ``::1`` (``127.0.0.1.attacker.example``
is not), plus the name ``--host`` opened. With ``server.auth`` set (``serve --auth FILE``) every
request must carry HTTP basic credentials of a user in that file (401 otherwise); the
``Authorization`` header is never logged.

Live reload (``serve --watch``, ``server.live`` set): every HTML response gets one
``<script src="/_runpages/live.js" ...>`` before ``</body>``, in memory only: files on disk
never hold it. ``/_runpages/epoch?since=N&id=ID`` long-polls ``LiveState.wait`` for at most
``POLL_TIMEOUT`` seconds, so requests cannot pile up; ``/_runpages/live.js`` is the client.
Nothing else under ``/_runpages/`` is answered; the prefix is handled before the site is
looked at, so no site file can shadow it (the builder never writes one there).
"""
from __future__ import annotations

import functools
import html
import http.server
import io
import json
import os
import socket
import sys
import threading
import urllib.parse
from pathlib import Path

LIVE_PREFIX = "/_runpages/"
POLL_TIMEOUT = 25.0
LISTEN_BACKLOG = 1024      # connections the kernel queues before accept (the stdlib's is 5)
IDLE_TIMEOUT_S = 10.0      # a connection that sends no complete request by then is closed
MAX_WORKERS = 128          # threads answering requests; more requests wait their turn


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
    timeout = IDLE_TIMEOUT_S   # per connection: a client that stops sending frees its thread
    # A run's raw files are UTF-8 text (the stdlib says application/octet-stream): opened in a
    # tab they read as text, and hosts that compress text compress them.
    extensions_map = {**http.server.SimpleHTTPRequestHandler.extensions_map,
                      ".jsonl": "text/plain; charset=utf-8", ".log": "text/plain; charset=utf-8"}

    def __init__(self, *args, directory: str, **kwargs):
        self.site_root = directory
        super().__init__(*args, directory=directory, **kwargs)

    def send_head(self):
        if not _host_allowed(self.server, self.headers.get("Host")):
            self.send_error(403, "Host not allowed")
            return None
        auth = getattr(self.server, "auth", None)
        if auth is not None and auth.user(self.headers.get("Authorization")) is None:
            self.send_response(401)
            self.send_header("WWW-Authenticate", auth.challenge())
            self.send_header("Content-Length", "0")
            self.end_headers()
            return None
        path_only = urllib.parse.urlsplit(self.path).path
        if path_only.startswith(LIVE_PREFIX):
            return self._send_live(path_only)
        try:
            target = resolve_request_path(self.site_root, self.path)
        except UnicodeDecodeError:
            target = None
        if target is None:
            self.send_error(404, "Not found")
            return None
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
            ctype = self.guess_type(str(target))
            live = getattr(self.server, "live", None)
            if live is not None and target.suffix == ".html":
                body = _inject_live(f.read(), live, target, self.site_root)
                f.close()
                f = io.BytesIO(body)
                size = len(body)
            else:
                size = st.st_size
            self.send_response(200)
            self.send_header("Content-type", ctype)
            self.send_header("Content-Length", str(size))
            self.send_header("Last-Modified", self.date_time_string(st.st_mtime))
            self.send_header("Cache-Control", "no-cache")
            self.end_headers()
            return f
        except Exception:
            f.close()
            raise

    def _send_live(self, path: str):
        live = getattr(self.server, "live", None)
        if live is None:
            self.send_error(404, "Not found")
            return None
        if path == LIVE_PREFIX + "live.js":
            body = _live_script(self.server)
            return self._send_bytes(body, "text/javascript; charset=utf-8")
        if path == LIVE_PREFIX + "epoch":
            query = urllib.parse.parse_qs(urllib.parse.urlsplit(self.path).query)
            try:
                since = int(query.get("since", ["0"])[0])
                wait = float(query.get("wait", [str(POLL_TIMEOUT)])[0])
            except ValueError:
                self.send_error(400, "since and wait are numbers")
                return None
            wait = 0.0 if self.command == "HEAD" else min(max(wait, 0.0), POLL_TIMEOUT)
            answer = live.wait(since, wait, query.get("id", [None])[0])
            return self._send_bytes(json.dumps(answer).encode(), "application/json")
        self.send_error(404, "Not found")
        return None

    def _send_bytes(self, body: bytes, ctype: str):
        self.send_response(200)
        self.send_header("Content-type", ctype)
        self.send_header("Content-Length", str(len(body)))
        self.send_header("Cache-Control", "no-store")
        self.end_headers()
        return io.BytesIO(body)

    def list_directory(self, path):  # never list folders
        self.send_error(404, "Not found")
        return None

    def _refuse(self):
        self.send_response(405)
        self.send_header("Allow", "GET, HEAD")
        self.send_header("Content-Length", "0")
        self.send_header("Connection", "close")
        self.end_headers()
        self.close_connection = True

    do_POST = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = _refuse

    def log_message(self, format, *args):  # noqa: A002 - stdlib signature
        if self.server.verbose:
            sys.stderr.write("%s - %s\n" % (self.address_string(), format % args))

    def handle(self):
        try:
            super().handle()
        except (ConnectionError, TimeoutError):
            pass        # a tab closed mid-answer: nothing to tell anyone


def is_loopback(host: str) -> bool:
    """``localhost``, ``*.localhost`` (RFC 6761 keeps them local), or an address in
    127.0.0.0/8 or ``::1``. A name that only starts with ``127.`` is not."""
    import ipaddress

    host = host.strip().strip("[]").lower().rstrip(".")
    if host == "localhost" or host.endswith(".localhost"):
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _host_name(header: str) -> str:
    host = header.strip()
    if host.startswith("["):
        end = host.find("]")
        rest = host[end + 1:] if end > 0 else "x"
        # "[::1]" or "[::1]:8000"; anything after the bracket but a port is not that address
        return host[1:end] if rest == "" or (rest[:1] == ":" and rest[1:].isdigit()) else host
    if host.count(":") == 1:
        return host.split(":", 1)[0]
    return host


def _host_allowed(server, header: str | None) -> bool:
    """On a loopback bind, the ``Host`` header must name a loopback host (DNS rebinding), or
    the host ``--host`` named (``server.opened_host``)."""
    if header is None or not is_loopback(str(server.server_address[0])):
        return True
    host = _host_name(header)
    opened = getattr(server, "opened_host", None)
    return is_loopback(host) or (opened is not None and host.lower().rstrip(".") == opened)


def _inject_live(body: bytes, live, target: Path, root: str) -> bytes:
    from runpages.sitegen.livereload import inject

    page = target.relative_to(os.path.realpath(root)).as_posix()
    snippet = (f'<script src="{LIVE_PREFIX}live.js" data-runpages-live="1" data-epoch="{live.epoch}" '
               f'data-id="{html.escape(live.server_id)}" data-page="{html.escape(page)}"></script>\n')
    return inject(body, snippet.encode("utf-8"))


def _live_script(server) -> bytes:
    """The live client: the theme's ``static/live.js`` when it has one, else the default's."""
    from runpages.sitegen.render import default_theme_dir

    for d in getattr(server, "theme_dirs", None) or []:
        p = Path(d) / "static" / "live.js"
        if p.is_file():
            return p.read_bytes()
    return (default_theme_dir() / "static" / "live.js").read_bytes()




class _WaitingRoom:
    """Accepted connections wait here, holding no thread, until they have bytes to read.

    One thread selects on them; a readable one goes to a worker, one silent for
    ``IDLE_TIMEOUT_S`` is closed. So half-open connections (a client that connected and went
    away, or never sends) cost a file descriptor, not a thread, and never block a request.
    """

    def __init__(self, dispatch, idle_s: float) -> None:
        import selectors

        self._dispatch = dispatch
        self._idle_s = idle_s
        self._sel = selectors.DefaultSelector()
        self._new: list = []
        self._lock = threading.Lock()
        self._wake_r, self._wake_w = socket.socketpair()
        self._wake_r.setblocking(False)
        self._sel.register(self._wake_r, 1)   # selectors.EVENT_READ
        self._deadlines: dict = {}
        self._closed = False
        self._thread = threading.Thread(target=self._loop, name="runpages-serve-wait",
                                        daemon=True)
        self._thread.start()

    def add(self, sock, addr) -> None:
        with self._lock:
            self._new.append((sock, addr))
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass

    def _loop(self) -> None:
        import time

        while not self._closed:
            for key, _ in self._sel.select(timeout=1.0):
                if key.fileobj is self._wake_r:
                    try:
                        self._wake_r.recv(4096)
                    except OSError:
                        pass
                    continue
                self._sel.unregister(key.fileobj)
                self._deadlines.pop(key.fileobj, None)
                self._dispatch(key.fileobj, key.data)
            now = time.monotonic()
            with self._lock:
                new, self._new = self._new, []
            for sock, addr in new:
                try:
                    self._sel.register(sock, 1, addr)
                    self._deadlines[sock] = now + self._idle_s
                except (ValueError, OSError):
                    _close(sock)
            for sock, deadline in list(self._deadlines.items()):
                if deadline <= now:
                    del self._deadlines[sock]
                    self._sel.unregister(sock)
                    _close(sock)

    def close(self) -> None:
        """Idempotent: the server may be closed twice (the CLI and ``serve_site``)."""
        if self._closed:
            return
        self._closed = True
        try:
            self._wake_w.send(b"x")
        except OSError:
            pass
        self._thread.join(3)
        for sock in list(self._deadlines):
            _close(sock)
        self._sel.close()
        self._wake_r.close()
        self._wake_w.close()


def _close(sock) -> None:
    try:
        sock.close()
    except OSError:
        pass


class SiteServer(http.server.ThreadingHTTPServer):
    """Threads per request, bounded: a waiting room holds idle connections, ``MAX_WORKERS``
    threads answer, each connection times out after ``IDLE_TIMEOUT_S`` without data."""

    daemon_threads = True
    request_queue_size = LISTEN_BACKLOG
    verbose = False
    live = None          # a LiveState while watching: HTML gets the live script
    theme_dirs: tuple = ()
    auth = None          # a BasicAuth for serve --auth: every request must log in
    opened_host = None   # the name --host gave, accepted as a Host besides loopback names

    def server_activate(self) -> None:
        super().server_activate()
        self._slots = threading.BoundedSemaphore(MAX_WORKERS)
        self._room = _WaitingRoom(self._start_worker, IDLE_TIMEOUT_S)

    def process_request(self, request, client_address) -> None:
        self._room.add(request, client_address)

    def _start_worker(self, request, client_address) -> None:
        self._slots.acquire()      # all busy: the waiting room waits; the kernel queues more
        try:
            threading.Thread(target=self._work, args=(request, client_address),
                             daemon=True).start()
        except RuntimeError:       # cannot start a thread now: drop this connection
            self._slots.release()
            self.shutdown_request(request)

    def _work(self, request, client_address) -> None:
        try:
            self.process_request_thread(request, client_address)
        finally:
            self._slots.release()

    def server_close(self) -> None:
        room = getattr(self, "_room", None)
        if room is not None:
            room.close()
        super().server_close()


def make_server(root: str | os.PathLike, host: str = "127.0.0.1", port: int = 8000,
                live=None) -> SiteServer:
    """Bind (raises ``SiteError`` when the port is taken); ``port=0`` picks a free port."""
    from runpages.sitegen.errors import SiteError

    handler = functools.partial(SiteHandler, directory=str(root))
    try:
        server = SiteServer((host, port), handler)
    except OSError as err:
        import errno

        if err.errno == errno.EADDRINUSE:
            raise SiteError(f"port {port} on {host} is already in use (another runpages serve?); "
                            f"pick another with --port {port + 1 if port else 8001}, "
                            f"or --port 0 for any free one") from None
        if err.errno == errno.EADDRNOTAVAIL or isinstance(err, socket.gaierror):
            raise SiteError(f"cannot listen on {host}:{port}: {err.strerror or err} "
                            f"(is {host} an address of this machine?)") from None
        raise SiteError(f"cannot listen on {host}:{port}: {err.strerror or err}") from None
    server.live = live
    server.opened_host = host.strip("[]").lower().rstrip(".")
    return server


def server_url(server: SiteServer) -> str:
    h, p = server.server_address[:2]
    if h in ("0.0.0.0", "::"):
        h = "127.0.0.1" if h == "0.0.0.0" else "::1"
    shown = f"[{h}]" if ":" in h else h
    return f"http://{shown}:{p}/"


def serve_site(root: str | os.PathLike, host: str = "127.0.0.1", port: int = 8000, *,
               live=None, open_browser: bool = False, on_start=None, on_stop=None,
               server: SiteServer | None = None) -> int:
    """Serve until Ctrl-C; returns 0. ``on_start(server)`` runs once listening (watchers)."""
    server = server or make_server(root, host, port, live)
    url = server_url(server)
    print(f"Serving {root} at {url}  (Ctrl-C to stop)", flush=True)
    try:
        if on_start is not None:
            on_start(server)
        if open_browser:
            import webbrowser

            webbrowser.open(url)
        server.serve_forever(poll_interval=0.25)
    except KeyboardInterrupt:
        print("\nstopped", file=sys.stderr, flush=True)
    finally:
        if live is not None:
            live.close()
        if on_stop is not None:
            try:
                on_stop()
            except KeyboardInterrupt:
                pass
        server.server_close()
    return 0
