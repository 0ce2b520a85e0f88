import http.client
import os
import socket
import threading

import pytest

from runpages.sitegen.errors import SiteError
from runpages.sitegen.serve import make_server, resolve_request_path


@pytest.fixture
def site(tmp_path):
    root = tmp_path / "site"
    (root / "p" / "x").mkdir(parents=True)
    (root / "index.html").write_text("home")
    (root / "p" / "x" / "index.html").write_text("project")
    (root / ".runpages").mkdir()
    (root / ".runpages" / "state.pickle").write_text("private")
    (tmp_path / "secret.txt").write_text("secret")
    os.symlink(tmp_path / "secret.txt", root / "link.txt")
    return root


@pytest.mark.parametrize("path", [
    "/../secret.txt", "/%2e%2e/secret.txt", "/%2E%2E/secret.txt", "/p/../../secret.txt",
    "/..%2fsecret.txt", "//etc/passwd", "/link.txt", "/.runpages/state.pickle", "/%00", "/p/x/..%5c..%5csecret.txt",
])
def test_paths_outside_the_site_are_refused(site, path):
    assert resolve_request_path(site, path) is None


def test_paths_inside_resolve(site):
    assert resolve_request_path(site, "/").name == "index.html"
    assert resolve_request_path(site, "/p/x/?q=1").read_text() == "project"
    assert resolve_request_path(site, "/p/x/index.html#a").read_text() == "project"


@pytest.fixture
def server(site):
    srv = make_server(site, "127.0.0.1", 0)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _get(server, path, method="GET"):
    c = http.client.HTTPConnection("127.0.0.1", server.server_address[1], timeout=5)
    c.request(method, path)
    r = c.getresponse()
    return r.status, r.read()


def test_serves_get_and_head_only(server):
    assert _get(server, "/") == (200, b"home")
    assert _get(server, "/p/x/index.html")[0] == 200
    assert _get(server, "/index.html", "HEAD") == (200, b"")
    assert _get(server, "/index.html", "POST")[0] == 405
    for bad in ("/../secret.txt", "/%2e%2e/secret.txt", "/link.txt", "/.runpages/state.pickle"):
        status, body = _get(server, bad)
        assert status == 404 and b"secret" not in body and b"private" not in body


def test_port_in_use_is_a_clear_error(site):
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    s.listen()
    try:
        with pytest.raises(SiteError, match="already in use"):
            make_server(site, "127.0.0.1", s.getsockname()[1])
    finally:
        s.close()
