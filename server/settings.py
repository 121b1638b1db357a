# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Settings of ``craton serve``: where the database and Redis are, where to listen, limits."""

from __future__ import annotations

import dataclasses
import os

DEFAULT_HOST = "127.0.0.1"
DEFAULT_PORT = 8080
# Request bodies larger than this get 413. Secrets are the biggest bodies (a PEM chain).
DEFAULT_MAX_BODY_BYTES = 1024 * 1024
# Archives built at once by one server process, and requests that may wait for their turn
# (beyond: 503 with Retry-After). See server/archive_limit.py.
DEFAULT_ARCHIVE_BUILDS = 2
DEFAULT_ARCHIVE_QUEUE = 32
# Threads per server process that run database routes. The routes are mostly CPU (one GIL):
# beyond a few, threads only wait for each other (bench/api_load.py, docs/api.md).
DEFAULT_THREADS = 8
# Seconds a stopping server (SIGTERM) lets requests in progress finish before cancelling them.
DEFAULT_SHUTDOWN_SECONDS = 5.0


@dataclasses.dataclass
class Settings:
    """Everything the server needs; ``database_url`` None means $CRATON_DATABASE_URL or the default file."""

    database_url: str | None = None
    redis_url: str | None = None
    host: str = DEFAULT_HOST
    port: int = DEFAULT_PORT
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    token_cache_seconds: float = 5.0
    archive_builds: int = DEFAULT_ARCHIVE_BUILDS
    archive_queue: int = DEFAULT_ARCHIVE_QUEUE
    threads: int = DEFAULT_THREADS

    @property
    def db_pool_size(self):
        """Database connections each server process keeps: one per thread that may hold one."""
        return self.threads + self.archive_builds

    @classmethod
    def from_env(cls, environ=None):
        """Settings from CRATON_DATABASE_URL, CRATON_REDIS_URL, CRATON_API_HOST, CRATON_API_PORT,
        CRATON_API_MAX_BODY_BYTES, CRATON_API_TOKEN_CACHE_SECONDS, CRATON_API_ARCHIVE_BUILDS,
        CRATON_API_ARCHIVE_QUEUE and CRATON_API_THREADS (what ``craton serve --workers N`` hands to each worker)."""
        env = os.environ if environ is None else environ
        return cls(database_url=env.get("CRATON_DATABASE_URL") or None,
                   redis_url=env.get("CRATON_REDIS_URL") or None,
                   host=env.get("CRATON_API_HOST") or DEFAULT_HOST,
                   port=int(env.get("CRATON_API_PORT") or DEFAULT_PORT),
                   max_body_bytes=int(env.get("CRATON_API_MAX_BODY_BYTES") or DEFAULT_MAX_BODY_BYTES),
                   token_cache_seconds=float(env.get("CRATON_API_TOKEN_CACHE_SECONDS") or 5.0),
                   archive_builds=int(env.get("CRATON_API_ARCHIVE_BUILDS") or DEFAULT_ARCHIVE_BUILDS),
                   archive_queue=int(env.get("CRATON_API_ARCHIVE_QUEUE") or DEFAULT_ARCHIVE_QUEUE),
                   threads=int(env.get("CRATON_API_THREADS") or DEFAULT_THREADS))

    def to_env(self):
        """The environment variables that :meth:`from_env` reads back into these settings."""
        env = {"CRATON_API_HOST": self.host, "CRATON_API_PORT": str(self.port),
               "CRATON_API_MAX_BODY_BYTES": str(self.max_body_bytes),
               "CRATON_API_TOKEN_CACHE_SECONDS": str(self.token_cache_seconds),
               "CRATON_API_ARCHIVE_BUILDS": str(self.archive_builds), "CRATON_API_ARCHIVE_QUEUE": str(self.archive_queue),
               "CRATON_API_THREADS": str(self.threads)}
        if self.database_url:
            env["CRATON_DATABASE_URL"] = self.database_url
        if self.redis_url:
            env["CRATON_REDIS_URL"] = self.redis_url
        return env
