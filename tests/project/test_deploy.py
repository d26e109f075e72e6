"""deploy/serve starts the web processes the production layout documents."""

import os
import secrets
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

from tests.conftest import REPO

SERVE = REPO / "deploy" / "serve"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


def test_the_serve_script_runs_the_portal_on_the_configured_address(tmp_path: Path) -> None:
    port = free_port()
    environment = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    environment.update(
        BIND=f"127.0.0.1:{port}",
        WEB_CONCURRENCY="1",
        WEB_THREADS="2",
        GRANIAN=str(Path(sys.executable).with_name("granian")),
        DEBUG="False",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        SECURE_SSL_REDIRECT="False",
        DATABASE_URL=f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    )
    environment.pop("REDIS_URL", None)
    server = subprocess.Popen(
        [str(SERVE)],
        cwd=tmp_path,  # the script finds the repository itself
        env=environment,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )
    opener = urllib.request.build_opener(NoRedirect)
    # An address the portal answers without its database: the stylesheet's icon redirect.
    url = f"http://127.0.0.1:{port}/assets/images/nhsuk-icon-cross.svg"
    try:
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read().decode()
            try:
                opener.open(url, timeout=5)
            except urllib.error.HTTPError as answer:
                status, headers = answer.code, answer.headers
                answer.close()
                break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "deploy/serve did not answer within 60 s"
                time.sleep(0.5)
        assert status == 301
        assert headers["Location"].endswith("/nhsuk/assets/images/nhsuk-icon-cross.svg")
        assert headers["X-Content-Type-Options"] == "nosniff"
    finally:
        server.terminate()
        server.wait(timeout=20)
        server.stderr.close()
