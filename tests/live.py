"""A live service for client tests: the app on a free loopback port, with learner keys."""
import contextlib
import socket
import threading

from werkzeug.serving import make_server

from grader import auth, create_app, storage
TEST_LIMITS = {"wall_s": 3.0, "cpu_s": 1, "memory_bytes": 1 << 30}


@contextlib.contextmanager
def serve(tmp_path, zygote, **config):
    """Yields {"url", "app", "key"} (a learner key for "lee"); zygote is conftest's fixture; config
    overrides the test defaults."""
    app = create_app({"TESTING": True, "DATABASE_URL": f"sqlite:///{tmp_path / 'live.sqlite'}",
                      "SECRET_KEY": "test-secret", "SANDBOX_SOCKET": zygote["socket"], "SANDBOX_LIMITS": TEST_LIMITS,
                      **config})
    storage.upgrade(app)
    with app.app_context():
        key = auth.create_key(storage.session(app), role="learner", learner="lee").key
    server = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield {"url": f"http://127.0.0.1:{server.server_port}", "app": app, "key": key}
    finally:
        server.shutdown()
        thread.join()


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class DroppingProxy:
    """A loopback HTTP proxy that forwards each request to the service and, for the first `drop`
    requests, closes the client's connection instead of relaying the answer: the service has graded
    the request, the client sees a connection error."""

    def __init__(self, upstream_port: int, drop: int = 1):
        self.upstream_port, self.drop, self.forwarded, self.closing = upstream_port, drop, 0, False
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self):
        while True:
            client, _ = self.listener.accept()
            if self.closing:
                client.close()
                self.listener.close()
                return
            with client:
                request = _read_http(client)
                if request is None:
                    continue
                with socket.create_connection(("127.0.0.1", self.upstream_port)) as upstream:
                    upstream.sendall(request)
                    response = _read_http(upstream)
                self.forwarded += 1
                if self.forwarded > self.drop and response is not None:
                    client.sendall(response)

    def close(self):
        """Wake the accept loop with one last connection (closing a socket does not interrupt accept)."""
        self.closing = True
        socket.create_connection(("127.0.0.1", self.port)).close()
        self.thread.join()


def _read_http(sock) -> bytes | None:
    """One HTTP/1.1 message with a Content-Length body (what requests and Werkzeug send here)."""
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = sock.recv(65536)
        if not chunk:
            return None
        data += chunk
    head, _, body = data.partition(b"\r\n\r\n")
    length = 0
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value.strip())
    while len(body) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        body += chunk
    return head + b"\r\n\r\n" + body
