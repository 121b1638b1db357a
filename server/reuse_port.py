# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""One listening socket per worker process (``craton serve --workers N``).

By default uvicorn's workers accept from one socket bound by the parent. When
several connections arrive at once, every worker is woken and the first one
accepts all of them: with 32 keep-alive clients connecting together, half the
runs of bench/api_load.py put all 32 on one worker, which then served the whole
load on one core while the other idled (400 instead of 1,300 requests per
second, p99 twice as high). Here the parent binds the address with
``SO_REUSEPORT`` and listens on nothing; each worker that uvicorn's supervisor
starts (or restarts) gets a socket of its own bound to the same address with
``SO_REUSEPORT`` and listens on it, and the kernel spreads new connections over
the workers' sockets by a hash of the connection's addresses.

``SO_REUSEPORT`` would also let a second server of the same user bind the port
silently; :func:`bound_socket` refuses a port that something already listens on.
"""

from __future__ import annotations

import socket

from ansible_collections.craton.fleet.plugins.module_utils.errors import CratonError


class PortSocket(socket.socket):
    """The parent's socket: bound with ``SO_REUSEPORT``, not listening (it holds the address).

    uvicorn hands its sockets to each worker by pickling them. This one does not travel
    as itself: it unpickles as a new socket of the worker's own, bound to the same address
    (:func:`worker_socket`)."""

    def __reduce_ex__(self, protocol):
        return worker_socket, (self.family, self.getsockname()[:2])


def _reuse_port_socket(family, cls=socket.socket):
    sock = cls(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    return sock


def bound_socket(host, port):
    """The parent's :class:`PortSocket` for ``host:port`` (0: a free port). :class:`CratonError`
    when the address cannot be bound or something listens on it already."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    probe = socket.socket(family, socket.SOCK_STREAM)
    try:
        if port:  # without SO_REUSEPORT: fails when any socket listens there (ours or not)
            probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            probe.bind((host, port))
    except OSError as e:
        raise _cannot_listen(host, port, e) from None
    finally:
        probe.close()
    sock = _reuse_port_socket(family, PortSocket)
    try:
        sock.bind((host, port))
    except OSError as e:
        sock.close()
        raise _cannot_listen(host, port, e) from None
    return sock


def _cannot_listen(host, port, error):
    return CratonError("cannot listen on %s port %d: %s" % (host, port, error.strerror or error))


def worker_socket(family, address):
    """A worker's own socket on ``address``, bound with ``SO_REUSEPORT``; the server listens on it."""
    sock = _reuse_port_socket(family)
    sock.bind(address)
    sock.set_inheritable(True)
    return sock
