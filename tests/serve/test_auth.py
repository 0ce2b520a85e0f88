"""``serve --auth FILE``: scrypt-hashed users, HTTP basic auth, tested over loopback."""
from __future__ import annotations

import base64
import http.client
import io
import threading

import pytest

from runpages.sitegen import auth, cli
from runpages.sitegen.errors import SiteError
from runpages.sitegen.serve import make_server


@pytest.fixture(autouse=True)
def cheap_scrypt(monkeypatch):
    # the real cost (n=2**14) is for real servers; tests need the same code, faster
    monkeypatch.setattr(auth, "N", 2 ** 8)
    monkeypatch.setattr(auth.hash_password, "__defaults__", (None, 2 ** 8, auth.R, auth.P))


def _basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def test_a_stored_entry_holds_no_password_and_verifies(tmp_path):
    f = tmp_path / "users"
    auth.add_user(f, "ana", "correct horse")
    text = f.read_text()
    assert "correct horse" not in text and text.startswith("ana:scrypt$")
    users = auth.load_users(f)
    assert auth.verify_password("correct horse", users["ana"])
    assert not auth.verify_password("correct hors", users["ana"])
    assert oct(f.stat().st_mode & 0o777) == "0o600"


def test_two_users_with_one_password_get_different_hashes(tmp_path):
    f = tmp_path / "users"
    auth.add_user(f, "ana", "pw")
    auth.add_user(f, "bo", "pw")
    users = auth.load_users(f)
    assert users["ana"] != users["bo"]
    assert auth.add_user(f, "ana", "new") is True          # replaced, not added twice
    assert len(auth.load_users(f)) == 2


@pytest.mark.parametrize("content, where", [
    ("", "no users"), ("ana\n", ":1: expected"), ("ana:md5$abc\n", ":1: expected"),
    ("# team\nana:scrypt$3$8$1$00$00\n", ":2: expected"),
])
def test_a_bad_auth_file_is_a_clear_error(tmp_path, content, where):
    f = tmp_path / "users"
    f.write_text(content)
    with pytest.raises(SiteError, match=where.replace("$", r"\$")):
        auth.load_users(f)


def test_a_missing_auth_file_says_how_to_make_one(tmp_path):
    with pytest.raises(SiteError, match="--add-user NAME"):
        auth.load_users(tmp_path / "nope")


@pytest.fixture
def guarded(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    (site / "index.html").write_text("home")
    f = tmp_path / "users"
    auth.add_user(f, "ana", "s3cret pass")
    srv = make_server(site, "127.0.0.1", 0)
    srv.auth = auth.BasicAuth(auth.load_users(f))
    srv.verbose = True
    t = threading.Thread(target=srv.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    t.start()
    yield srv
    srv.shutdown()
    srv.server_close()


def _get(srv, headers=None):
    c = http.client.HTTPConnection("127.0.0.1", srv.server_address[1], timeout=5)
    c.request("GET", "/index.html", headers=headers or {})
    r = c.getresponse()
    return r.status, r.getheader("WWW-Authenticate"), r.read()


def test_without_credentials_the_site_answers_401_with_a_challenge(guarded):
    status, challenge, body = _get(guarded)
    assert status == 401 and challenge.startswith('Basic realm="runpages"') and body == b""


@pytest.mark.parametrize("header", [
    _basic("ana", "wrong"), _basic("nobody", "s3cret pass"), "Basic !!!notbase64", "Bearer abc",
    "Basic " + base64.b64encode(b"no colon").decode(), _basic("ana", ""),
])
def test_wrong_credentials_are_refused(guarded, header):
    assert _get(guarded, {"Authorization": header})[0] == 401


def test_the_right_user_reads_the_site_and_the_password_is_not_logged(guarded, capsys):
    header = _basic("ana", "s3cret pass")
    assert _get(guarded, {"Authorization": header}) == (200, None, b"home")
    assert _get(guarded, {"Authorization": header})[0] == 200     # remembered: no second scrypt
    err = capsys.readouterr().err
    assert "GET /index.html" in err
    assert "s3cret" not in err and header.split()[1] not in err


def test_a_foreign_host_is_refused_before_auth(guarded):
    c = http.client.HTTPConnection("127.0.0.1", guarded.server_address[1], timeout=5)
    c.request("GET", "/", headers={"Host": "127.0.0.1.attacker.example",
                                   "Authorization": _basic("ana", "s3cret pass")})
    assert c.getresponse().status == 403


def test_a_network_host_needs_auth_or_no_auth(tmp_path, capsys):
    assert cli.main(["serve", str(tmp_path / "runs"), "-o", str(tmp_path / "site"),
                     "--host", "0.0.0.0"]) == 1
    err = capsys.readouterr().err
    assert "--auth FILE" in err and "--no-auth" in err


def test_no_auth_on_a_network_host_warns(tmp_path, capsys, monkeypatch):
    import runpages.sitegen.serve as serve

    real = serve.make_server
    monkeypatch.setattr(serve, "make_server", lambda root, host, port, live=None: real(root, "127.0.0.1", 0))
    monkeypatch.setattr(serve, "serve_site", lambda *a, **k: 0)
    assert cli.main(["serve", str(tmp_path / "runs"), "-o", str(tmp_path / "site"),
                     "--host", "0.0.0.0", "--no-auth"]) == 0
    assert "with --no-auth: anyone who can reach" in capsys.readouterr().err


def test_add_user_reads_the_password_from_stdin_and_never_from_argv(tmp_path, capsys, monkeypatch):
    f = tmp_path / "users"
    monkeypatch.setattr("sys.stdin", io.StringIO("pw from stdin\n"))
    assert cli.main(["serve", "--auth", str(f), "--add-user", "ana"]) == 0
    assert "added ana" in capsys.readouterr().out
    assert auth.verify_password("pw from stdin", auth.load_users(f)["ana"])
    assert cli.main(["serve", "--add-user", "bo"]) == 1
    assert "needs --auth FILE" in capsys.readouterr().err
