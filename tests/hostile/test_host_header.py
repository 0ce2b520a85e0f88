"""DNS rebinding: a name the attacker controls resolving to 127.0.0.1 must not read the site.
Only ``localhost``, ``*.localhost`` and names that parse as 127.0.0.0/8 or ::1 (plus what
``--host`` opened) are accepted as ``Host`` on a loopback bind."""
import socket
import threading

import pytest

from runpages.sitegen.serve import make_server

REFUSED = ["127.0.0.1.attacker.example", "127.0.0.1.nip.io", "127.attacker.example",
           "localhost.attacker.example", "attacker.example", "127.0.0.1evil", "0x7f000001.evil",
           "[::1].evil", "evil.example:80", "::ffff:7f00:1.evil", "", "127.0.0.1 .evil"]
ACCEPTED = ["localhost", "LOCALHOST", "localhost.", "app.localhost", "127.0.0.1", "127.1.2.3",
            "[::1]", "localhost:{port}", "127.0.0.1:{port}", "[::1]:{port}"]


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    root = tmp_path_factory.mktemp("site")
    (root / "index.html").write_text("home")
    srv = make_server(root, "127.0.0.1", 0)
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _status(server, host: str) -> int:
    port = server.server_address[1]
    with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
        s.sendall(b"GET /index.html HTTP/1.1\r\nHost: " + host.format(port=port).encode()
                  + b"\r\nConnection: close\r\n\r\n")
        data = b""
        while chunk := s.recv(4096):
            data += chunk
    return int(data.split(b" ", 2)[1])


@pytest.mark.parametrize("host", REFUSED)
def test_a_rebinding_host_name_is_refused(server, host):
    assert _status(server, host) == 403


@pytest.mark.parametrize("host", ACCEPTED)
def test_loopback_names_are_served(server, host):
    assert _status(server, host) == 200


def test_the_name_host_opened_is_accepted(tmp_path):
    (tmp_path / "index.html").write_text("home")
    srv = make_server(tmp_path, "localhost", 0)
    srv.opened_host = "box.localdomain"      # what --host box.localdomain would set
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    try:
        assert _status(srv, "box.localdomain:{port}") == 200
        assert _status(srv, "box.localdomain.evil") == 403
    finally:
        srv.shutdown()
        srv.server_close()
