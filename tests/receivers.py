"""Real notification receivers on 127.0.0.1 for the delivery tests: an HTTP(S) server that
records every request (Apprise's json://, jsons:// and ntfy:// post to it) and can go down and come
back on the same port, and an SMTP server (aiosmtpd) that records every mail."""

from __future__ import annotations

import socket
import ssl
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from aiosmtpd.controller import Controller


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: str
    at: float  # time.time() when it arrived


@dataclass
class HttpReceiver:
    """Records requests; `stop()` then `start()` is a receiver that was down and is back."""

    port: int = field(default_factory=free_port)
    requests: list[Request] = field(default_factory=list)
    server: ThreadingHTTPServer | None = None
    tls: tuple[Path, Path] | None = None  # (certificate, key): HTTPS (Apprise's jsons://)

    def start(self) -> HttpReceiver:
        received = self.requests

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:  # http.server calls it by this name
                length = int(self.headers.get("Content-Length") or 0)
                received.append(Request(self.path, dict(self.headers),
                                        self.rfile.read(length).decode(), time.time()))
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.end_headers()
                self.wfile.write(b"{}")

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        self.server.daemon_threads = True
        if self.tls is not None:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*self.tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def bodies(self, path: str = "") -> list[str]:
        return [r.body for r in self.requests if r.path.startswith(path)]


class _Mails:
    def __init__(self) -> None:
        self.mails: list[str] = []

    async def handle_DATA(self, server: object, session: object, envelope: object) -> str:
        content = getattr(envelope, "content", b"")
        self.mails.append(content.decode() if isinstance(content, bytes) else str(content))
        return "250 OK"


class SmtpReceiver:
    def __init__(self) -> None:
        self.port = free_port()
        self.handler = _Mails()
        self.controller = Controller(self.handler, hostname="127.0.0.1", port=self.port)

    @property
    def mails(self) -> list[str]:
        return self.handler.mails

    def start(self) -> SmtpReceiver:
        self.controller.start()
        return self

    def stop(self) -> None:
        self.controller.stop()
