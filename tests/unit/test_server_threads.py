"""craton serve's threads: --threads bounds the database routes' pool; archives run in threads of their own.

The routes are imported here, at collection time: once a test of the session has set up
ansible-core's collection loader, importing them inside create_app would go through it."""

from __future__ import annotations

import threading

import anyio
import anyio.to_thread

from ansible_collections.craton.fleet.server import progress, routes  # noqa: F401  pylint: disable=unused-import
from ansible_collections.craton.fleet.server.app import create_app
from ansible_collections.craton.fleet.server.archive_limit import ArchiveBuilds
from ansible_collections.craton.fleet.server.settings import DEFAULT_THREADS, Settings


def test_the_app_bounds_the_default_thread_pool_to_threads(tmp_path):
    app = create_app(Settings(database_url="sqlite:///%s" % (tmp_path / "fleet.db"), threads=3))

    async def main():
        async with app.router.lifespan_context(app):
            return anyio.to_thread.current_default_thread_limiter().total_tokens

    assert anyio.run(main) == 3


def test_settings_carry_threads_to_the_workers_and_size_the_pool():
    settings = Settings(threads=5, archive_builds=3)
    assert Settings.from_env(settings.to_env()).threads == 5
    assert Settings.from_env({}).threads == DEFAULT_THREADS
    assert settings.db_pool_size == 8


def test_archives_build_and_stream_while_every_request_thread_is_busy():
    """The one request thread is held by a blocked call: an archive still builds and streams."""
    release = threading.Event()
    builds = ArchiveBuilds(builds=1, queue=0)

    async def main():
        anyio.to_thread.current_default_thread_limiter().total_tokens = 1
        async with anyio.create_task_group() as group:
            group.start_soon(anyio.to_thread.run_sync, release.wait, 30)
            await anyio.sleep(0.05)
            assert anyio.to_thread.current_default_thread_limiter().borrowed_tokens == 1
            slot = await builds.acquire()
            with anyio.fail_after(20):  # the guard of a broken separation: it would wait for ever
                name = await slot.run(lambda: threading.current_thread().name)
                chunks = [chunk async for chunk in slot.stream(iter([b"a", b"b"]))]
            slot.release()
            release.set()
        return name, chunks

    name, chunks = anyio.run(main)
    assert chunks == [b"a", b"b"] and name != threading.current_thread().name
