"""A real S3 endpoint for the store tests: moto's threaded server on 127.0.0.1, random port.

The tests talk to it over HTTP through s3fs with ``endpoint_url``; nothing is mocked in the
client. ``s3`` yields a ``S3Server`` that can be stopped and started again (fault tests).
"""
from __future__ import annotations

import logging
import os
import socket
import time

import pytest

moto_server = pytest.importorskip("moto.moto_server.threaded_moto_server")
pytest.importorskip("s3fs")


logging.getLogger("werkzeug").setLevel(logging.ERROR)   # moto's request log


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class S3Server:
    def __init__(self) -> None:
        self.port = free_port()
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._server = None

    def start(self) -> None:
        self._server = moto_server.ThreadedMotoServer(ip_address="127.0.0.1", port=self.port)
        self._server.start()
        for _ in range(100):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)

    def stop(self) -> None:
        if self._server is not None:
            self._server.stop()
            self._server = None

    def client_env(self) -> dict:
        return {"AWS_ACCESS_KEY_ID": "testing", "AWS_SECRET_ACCESS_KEY": "testing",
                "AWS_DEFAULT_REGION": "us-east-1", "AWS_ENDPOINT_URL": self.endpoint,
                "RUNPAGES_STORE_OPTIONS": '{"endpoint_url": "%s"}' % self.endpoint}

    def fs(self):
        import s3fs
        return s3fs.S3FileSystem(endpoint_url=self.endpoint, key="testing", secret="testing",
                                 skip_instance_cache=True)


@pytest.fixture
def s3(monkeypatch, tmp_path):
    server = S3Server()
    server.start()
    for k, v in server.client_env().items():
        monkeypatch.setenv(k, v)
    monkeypatch.setenv("RUNPAGES_STAGING", str(tmp_path / "staging"))
    monkeypatch.setenv("RUNPAGES_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.delenv("AWS_PROFILE", raising=False)
    fs = server.fs()
    server.bucket = f"team-logbook-{os.urandom(4).hex()}"   # moto's state outlives a server
    fs.mkdir(server.bucket)
    yield server
    server.stop()


@pytest.fixture
def proxy(s3, monkeypatch):
    """The fault proxy (``faultproxy.py``) in front of ``s3``; every client goes through it."""
    import json

    from .faultproxy import FaultProxy

    p = FaultProxy(s3.port)
    monkeypatch.setenv("RUNPAGES_STORE_OPTIONS", json.dumps({"endpoint_url": p.endpoint}))
    monkeypatch.setenv("AWS_ENDPOINT_URL", p.endpoint)
    yield p
    p.close()


# ---- Azure Blob: Azurite (npm) on 127.0.0.1, through adlfs ---------------------------------
AZURITE_KEY = ("Eby8vdM02xNOcqFlqUwJPLlmEtlCDXJ1OUzFT50uSRZ6IFsuFq2UVErCz4I6tq/K1SZFPTOtr/"
               "KBHBeksoGMGw==")      # Azurite's published development account key


def azurite_binary() -> str | None:
    import shutil

    return os.environ.get("RUNPAGES_AZURITE") or shutil.which("azurite-blob")


class AzuriteServer:
    def __init__(self, location) -> None:
        self.port = free_port()
        self.location = location
        self._proc = None
        self.connection_string = (
            "DefaultEndpointsProtocol=http;AccountName=devstoreaccount1;"
            f"AccountKey={AZURITE_KEY};BlobEndpoint=http://127.0.0.1:{self.port}/devstoreaccount1;")

    def start(self) -> None:
        import subprocess

        self._proc = subprocess.Popen(
            [azurite_binary(), "--blobHost", "127.0.0.1", "--blobPort", str(self.port),
             "--location", str(self.location), "--silent", "--skipApiVersionCheck", "--loose"],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        for _ in range(200):
            try:
                socket.create_connection(("127.0.0.1", self.port), 0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("Azurite did not start")

    def stop(self) -> None:
        if self._proc is not None:
            self._proc.terminate()
            self._proc.wait(10)
            self._proc = None

    def fs(self):
        import adlfs
        return adlfs.AzureBlobFileSystem(connection_string=self.connection_string,
                                         skip_instance_cache=True)


@pytest.fixture
def azurite(monkeypatch, tmp_path):
    pytest.importorskip("adlfs")
    if not azurite_binary():
        if os.environ.get("RUNPAGES_REQUIRE_AZURITE"):
            pytest.fail("azurite-blob not found (npm install -g azurite)")
        pytest.skip("azurite-blob not found (npm install -g azurite)")
    import adlfs

    adlfs.AzureBlobFileSystem.clear_instance_cache()   # an earlier test's client, port and all
    server = AzuriteServer(tmp_path / "azurite")
    server.start()
    monkeypatch.setenv("AZURE_STORAGE_CONNECTION_STRING", server.connection_string)
    monkeypatch.delenv("RUNPAGES_STORE_OPTIONS", raising=False)
    monkeypatch.setenv("RUNPAGES_STAGING", str(tmp_path / "staging"))
    monkeypatch.setenv("RUNPAGES_CACHE_DIR", str(tmp_path / "cache"))
    server.container = f"logbook{os.urandom(4).hex()}"
    server.fs().mkdir(server.container)
    yield server
    server.stop()
