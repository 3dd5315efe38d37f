"""One way the test kit serves JSON-RPC on 127.0.0.1: a threaded HTTP server in a daemon thread.

:class:`LocalServer` owns the lifecycle (a free port, ``url``, start/stop, a context manager);
a subclass answers each POST in :meth:`LocalServer._serve`. The fake node and the
fault-injecting proxy are both built on it.
"""

from __future__ import annotations

import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Self


class LocalServer:
    """A server on 127.0.0.1; subclasses implement :meth:`_serve`."""

    #: the HTTP version the handler speaks ("HTTP/1.1" keeps connections open, as nodes do)
    protocol_version = "HTTP/1.0"

    def __init__(self) -> None:
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self.url = ""

    def start(self) -> Self:
        """Listen on a free port of 127.0.0.1 and serve in a daemon thread."""
        owner = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = owner.protocol_version

            def do_POST(self) -> None:
                owner._serve(self)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        server.daemon_threads = True
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, daemon=True)
        self._thread.start()
        self.url = f"http://127.0.0.1:{server.server_address[1]}"
        return self

    def _before_stop(self) -> None:
        """Release what a subclass holds open (stalled connections) before shutting down."""

    def stop(self) -> None:
        """Stop serving and join the serving thread."""
        self._before_stop()
        server, self._server = self._server, None
        if server is not None:
            server.shutdown()
            server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> Self:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def _serve(self, h: BaseHTTPRequestHandler) -> None:
        raise NotImplementedError
