"""Users for ``runpages serve --auth FILE``: salted scrypt hashes in a text file, HTTP basic auth.

The file holds one user a line, ``name:scrypt$<n>$<r>$<p>$<salt hex>$<hash hex>``; blank lines
and ``#`` comments are skipped. ``runpages serve --auth FILE --add-user NAME`` adds or replaces a
line (it asks for the password; it never takes one on the command line, where ``ps`` shows it).

Invariants:
- A password is never stored, printed or logged: only its scrypt hash is kept, and a failed
  login says only that it failed.
- Checking a password compares digests with ``hmac.compare_digest``, and an unknown name costs
  the same scrypt as a known one, so timing tells nothing about names or hashes.
- A checked ``Authorization`` header is remembered (by its SHA-256, never in clear) for a few
  hundred headers, so a page's many requests cost one scrypt, not one each.
"""
from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import threading
from pathlib import Path

from runpages.sitegen.errors import SiteError

# scrypt's cost: about 16 MB and 50 ms a check (the parameters OWASP lists for scrypt).
N, R, P = 2 ** 14, 8, 1
SALT_BYTES = 16
REALM = "runpages"
_REMEMBER = 512


def hash_password(password: str, salt: bytes | None = None, n: int = N, r: int = R, p: int = P) -> str:
    """The stored form of ``password``: ``scrypt$n$r$p$salt$hash`` (hex), with a fresh salt."""
    salt = os.urandom(SALT_BYTES) if salt is None else salt
    digest = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=32,
                            maxmem=128 * r * n * 2)
    return f"scrypt${n}${r}${p}${salt.hex()}${digest.hex()}"


def _parse(stored: str) -> tuple[int, int, int, bytes, bytes]:
    scheme, n, r, p, salt, digest = stored.split("$")
    if scheme != "scrypt":
        raise ValueError(scheme)
    n_, r_, p_ = int(n), int(r), int(p)
    if not (2 <= n_ <= 2 ** 20 and n_ & (n_ - 1) == 0 and 1 <= r_ <= 32 and 1 <= p_ <= 16):
        raise ValueError("cost out of range")
    return n_, r_, p_, bytes.fromhex(salt), bytes.fromhex(digest)


def verify_password(password: str, stored: str) -> bool:
    """Whether ``password`` matches ``stored``, compared in constant time."""
    n, r, p, salt, digest = _parse(stored)
    got = hashlib.scrypt(password.encode("utf-8"), salt=salt, n=n, r=r, p=p, dklen=len(digest),
                         maxmem=128 * r * n * 2)
    return hmac.compare_digest(got, digest)


def load_users(path: str | os.PathLike) -> dict[str, str]:
    """``{name: stored hash}`` from an auth file; a ``SiteError`` naming the line when it is wrong."""
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise SiteError(f"{path}: cannot read the auth file ({getattr(err, 'strerror', None) or err}); "
                        f"make one with: runpages serve --auth {path} --add-user NAME") from None
    users: dict[str, str] = {}
    for i, line in enumerate(text.splitlines(), 1):
        line = line.strip()
        if not line or line.startswith("#"):
            continue
        name, sep, stored = line.partition(":")
        try:
            if not sep or not name:
                raise ValueError("no name")
            _parse(stored)
        except ValueError:
            raise SiteError(f"{path}:{i}: expected name:scrypt$n$r$p$salt$hash "
                            f"(made by runpages serve --auth {path} --add-user NAME)") from None
        users[name] = stored
    if not users:
        raise SiteError(f"{path}: no users in the auth file; add one with "
                        f"runpages serve --auth {path} --add-user NAME")
    return users


def add_user(path: str | os.PathLike, name: str, password: str) -> bool:
    """Add ``name`` to the auth file (made if missing, mode 600), or replace its password;
    True when it was replaced. The file lands by temp name + rename."""
    from runpages.sitegen.atomic import atomic_file

    if not name or ":" in name or any(c.isspace() for c in name):
        raise SiteError(f"user name {name!r}: use letters, digits and punctuation other than ':'")
    if not password:
        raise SiteError("empty password; no user added")
    path = Path(path)
    lines = path.read_text(encoding="utf-8").splitlines() if path.exists() else []
    entry = f"{name}:{hash_password(password)}"
    replaced = False
    for i, line in enumerate(lines):
        if line.partition(":")[0] == name:
            lines[i], replaced = entry, True
    if not replaced:
        lines.append(entry)
    with atomic_file(path) as f:
        f.write(("\n".join(lines) + "\n").encode("utf-8"))
    os.chmod(path, 0o600)
    return replaced


class BasicAuth:
    """Checks ``Authorization: Basic ...`` headers against the users of an auth file."""

    def __init__(self, users: dict[str, str]):
        self.users = dict(users)
        self._dummy = hash_password("", salt=b"\0" * SALT_BYTES)   # for unknown names
        self._ok: dict[bytes, str] = {}
        self._lock = threading.Lock()

    def user(self, header: str | None) -> str | None:
        """The user a header proves, or None."""
        if not header or not header[:6].lower() == "basic ":
            return None
        key = hashlib.sha256(header.encode("utf-8", "replace")).digest()
        with self._lock:
            known = self._ok.get(key)
        if known is not None:
            return known
        try:
            decoded = base64.b64decode(header[6:].strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError, ValueError):
            return None
        name, sep, password = decoded.partition(":")
        if not sep:
            return None
        stored = self.users.get(name)
        ok = verify_password(password, stored if stored is not None else self._dummy)
        if not ok or stored is None:
            return None
        with self._lock:
            if len(self._ok) >= _REMEMBER:
                self._ok.clear()
            self._ok[key] = name
        return name

    def challenge(self) -> str:
        return f'Basic realm="{REALM}", charset="UTF-8"'
