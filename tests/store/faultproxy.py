"""A small HTTP proxy on 127.0.0.1 in front of the real S3 server that injects faults.

The client (s3fs/botocore) talks HTTP to the proxy exactly as to a store; the proxy forwards
each request to moto unchanged, unless a fault is switched on:

* ``fail(status, code)``: every request is answered ``status`` with an S3 error body (``500
  InternalError``, ``503 SlowDown``) until ``heal()``;
* ``delay``: seconds to wait before forwarding each request (a slow store);
* ``accept_key``: only requests signed with this access key id get through; any other key is
  answered ``403 ExpiredToken`` (credentials that expired mid-run).

``requests`` counts what reached the proxy, ``refused`` what it answered with a fault,
``object_gets`` the GETs of one object (a listing is a GET of the bucket: not counted).
"""
from __future__ import annotations

import http.client
import re
import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

_KEY = re.compile(r"Credential=([^/]+)/")
_HOP = {"connection", "keep-alive", "transfer-encoding", "proxy-connection", "te", "upgrade"}


def _error_body(code: str, message: str) -> bytes:
    return (f'<?xml version="1.0" encoding="UTF-8"?><Error><Code>{code}</Code>'
            f"<Message>{message}</Message><RequestId>fault</RequestId></Error>").encode()


class FaultProxy:
    def __init__(self, upstream_port: int) -> None:
        self.upstream_port = upstream_port
        self.status: int | None = None
        self.code = ""
        self.delay = 0.0
        self.accept_key: str | None = None
        self.requests = 0
        self.refused = 0
        self.object_gets = 0
        self._lock = threading.Lock()
        proxy = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args):  # keep pytest output readable
                pass

            def _any(self) -> None:
                proxy._handle(self)

            do_GET = do_PUT = do_POST = do_DELETE = do_HEAD = _any

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        threading.Thread(target=self._server.serve_forever, name="fault-proxy", daemon=True).start()

    def fail(self, status: int = 503, code: str = "SlowDown") -> None:
        self.status, self.code = status, code

    def heal(self) -> None:
        self.status, self.delay = None, 0.0

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def _reply(self, h: BaseHTTPRequestHandler, status: int, code: str) -> None:
        body = _error_body(code, "injected by the test's fault proxy")
        h.send_response(status)
        h.send_header("Content-Type", "application/xml")
        h.send_header("Content-Length", str(len(body)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(body)

    def _handle(self, h: BaseHTTPRequestHandler) -> None:
        length = int(h.headers.get("Content-Length") or 0)
        body = h.rfile.read(length) if length else b""
        path = h.path.split("?", 1)[0].strip("/")
        with self._lock:
            self.requests += 1
            self.object_gets += h.command == "GET" and "/" in path
        if self.delay:
            time.sleep(self.delay)
        key = _KEY.search(h.headers.get("Authorization") or "")
        if self.status is not None:
            self.refused += 1
            return self._reply(h, self.status, self.code)
        if self.accept_key is not None and (not key or key.group(1) != self.accept_key):
            self.refused += 1
            return self._reply(h, 403, "ExpiredToken")
        try:
            conn = http.client.HTTPConnection("127.0.0.1", self.upstream_port, timeout=30)
            headers = {k: v for k, v in h.headers.items() if k.lower() not in _HOP}
            conn.request(h.command, h.path, body=body, headers=headers)
            resp = conn.getresponse()
            data = resp.read()
        except (OSError, http.client.HTTPException):
            return self._reply(h, 502, "BadGateway")    # the store behind is down
        h.send_response(resp.status)
        for k, v in resp.getheaders():
            if k.lower() not in _HOP and k.lower() != "content-length":
                h.send_header(k, v)
        h.send_header("Content-Length", str(len(data)))
        h.end_headers()
        if h.command != "HEAD":
            h.wfile.write(data)
        conn.close()


def port_open(port: int) -> bool:
    try:
        socket.create_connection(("127.0.0.1", port), 0.2).close()
        return True
    except OSError:
        return False
