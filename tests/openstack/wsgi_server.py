# -*- coding: utf-8 -*-
# Copyright: craton.fleet contributors
# GNU General Public License v3.0+ (see COPYING or https://www.gnu.org/licenses/gpl-3.0.txt)
"""Serve an OpenStack WSGI application (Keystone, Barbican) on 127.0.0.1 for the tests.

Usage: python wsgi_server.py PORT MODULE:ATTRIBUTE
       python wsgi_server.py PORT paste:PASTE.INI

A threaded wsgiref server from the standard library. gunicorn does not fit: the
OpenStack services parse ``sys.argv`` with oslo.config when their application is
built and refuse gunicorn's own arguments, so here ``sys.argv`` is reset first.
"""

from __future__ import annotations

import importlib
import os
import socketserver
import sys
import warnings
from wsgiref import simple_server


class _QuietHandler(simple_server.WSGIRequestHandler):
    def log_message(self, format, *args):  # noqa: A002 - the base class's signature
        pass


class _ThreadingServer(socketserver.ThreadingMixIn, simple_server.WSGIServer):
    daemon_threads = True


def main():
    port, target = int(sys.argv[1]), sys.argv[2]
    sys.argv = [sys.argv[0]]
    warnings.simplefilter("ignore")
    if target.startswith("paste:"):  # a PasteDeploy file (Barbican: its own barbican-api-paste.ini)
        from paste import deploy
        app = deploy.loadapp("config:%s" % os.path.abspath(target[len("paste:"):]))
    else:
        module_name, attribute = target.split(":")
        app = getattr(importlib.import_module(module_name), attribute)
    server = simple_server.make_server("127.0.0.1", port, app, server_class=_ThreadingServer,
                                       handler_class=_QuietHandler)
    print("serving %s on 127.0.0.1:%d" % (target, port), flush=True)
    server.serve_forever()


if __name__ == "__main__":
    main()
