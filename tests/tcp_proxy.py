"""A TCP proxy the test controls: it stands between a server process and its database.

`cut()` closes every forwarded connection and refuses new ones, as a database that went away
does; `restore()` listens again on the same port. The database itself is never touched (other
people's tests use it too).
"""

from __future__ import annotations

import contextlib
import socket
import threading

from tests.mail_sink import free_port

CHUNK = 65536


class TcpProxy:
    """Forwards 127.0.0.1:`port` to `upstream`, one thread per direction and connection."""

    def __init__(self, upstream: tuple[str, int]) -> None:
        self.upstream = upstream
        self.port = free_port()
        self.accepted = 0
        self._listener: socket.socket | None = None
        self._open: set[socket.socket] = set()
        self._lock = threading.Lock()

    def start(self) -> None:
        listener = socket.socket()
        listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        listener.bind(("127.0.0.1", self.port))
        listener.listen(64)
        listener.settimeout(0.1)
        self._listener = listener
        threading.Thread(target=self._accept, args=(listener,), daemon=True).start()

    def cut(self) -> None:
        """Close every connection and stop listening: new connections are refused."""
        listener, self._listener = self._listener, None
        if listener is not None:
            listener.close()
        with self._lock:
            doomed, self._open = self._open, set()
        for sock in doomed:
            _close(sock)

    def restore(self) -> None:
        """Listen again (if cut) on the same port."""
        if self._listener is None:
            self.start()

    stop = cut

    def _accept(self, listener: socket.socket) -> None:
        while self._listener is listener:
            try:
                client, _ = listener.accept()
            except TimeoutError:
                continue
            except OSError:
                return
            try:
                server = socket.create_connection(self.upstream, timeout=5)
            except OSError:
                _close(client)
                continue
            for sock in (client, server):
                sock.settimeout(None)
            with self._lock:
                if self._listener is not listener:
                    _close(client)
                    _close(server)
                    return
                self._open.update((client, server))
                self.accepted += 1
            threading.Thread(target=self._pump, args=(client, server), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client), daemon=True).start()

    def _pump(self, source: socket.socket, target: socket.socket) -> None:
        try:
            while chunk := source.recv(CHUNK):
                target.sendall(chunk)
        except OSError:
            pass  # the other side, or cut(), closed it
        finally:
            with self._lock:
                self._open.difference_update((source, target))
            _close(source)
            _close(target)


def _close(sock: socket.socket) -> None:
    with contextlib.suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    sock.close()
