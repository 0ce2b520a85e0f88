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
