"""The production front, deploy/nginx/leaguetable-proxy.conf, before the running app: nginx keeps
what the app marks public, for no longer than the app says, and never what is private.

Runs Debian's nginx (nginx-light, installed by .ci/run and by `make bench`); skipped without it.
"""

import shutil
import subprocess
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from releases.models import Release
from tests.public.conftest import withdraw

# The live server reads the database on its own connection: the data must be committed.
pytestmark = pytest.mark.django_db(transaction=True, serialized_rollback=True)

SNIPPET = Path(__file__).resolve().parents[2] / "deploy" / "nginx" / "leaguetable-proxy.conf"
NGINX = shutil.which("nginx") or "/usr/sbin/nginx"


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@pytest.fixture
def front(live_server) -> Iterator[str]:
    if not Path(NGINX).exists():
        pytest.skip("nginx is not installed (Debian's nginx-light)")
    workdir = Path(tempfile.mkdtemp(prefix="nginx-front-"))
    workdir.chmod(0o755)  # nginx started as root reads and writes as its worker user
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "cache"):
        (workdir / name).mkdir()
    port = free_port()
    upstream = live_server.url.removeprefix("http://")
    config = workdir / "nginx.conf"
    config.write_text(
        f"""
worker_processes 1;
daemon off;
pid {workdir}/nginx.pid;
error_log {workdir}/error.log warn;
events {{ worker_connections 64; }}
http {{
    access_log off;
    client_body_temp_path {workdir}/body;
    proxy_temp_path {workdir}/proxy;
    fastcgi_temp_path {workdir}/fastcgi;
    uwsgi_temp_path {workdir}/uwsgi;
    scgi_temp_path {workdir}/scgi;
    proxy_cache_path {workdir}/cache levels=1:2 keys_zone=leaguetable:1m inactive=1h
                     use_temp_path=off;
    upstream leaguetable_app {{ server {upstream}; keepalive 4; }}
    server {{
        listen 127.0.0.1:{port};
        location / {{ include {SNIPPET}; }}
    }}
}}
"""
    )
    process = subprocess.Popen(
        [NGINX, "-p", str(workdir), "-c", str(config)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        for _ in range(100):
            try:
                fetch(base + "/methodology/")
                break
            except (urllib.error.URLError, ConnectionError):
                if process.poll() is not None:
                    pytest.fail(f"nginx did not start: {(workdir / 'error.log').read_text()}")
                time.sleep(0.05)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=10)
        shutil.rmtree(workdir, ignore_errors=True)


def fetch(url: str) -> tuple[int, dict[str, str], bytes]:
    try:
        with urllib.request.urlopen(url, timeout=10) as response:
            return response.status, dict(response.headers), response.read()
    except urllib.error.HTTPError as error:
        return error.code, dict(error.headers), error.read()


def test_a_published_table_is_served_from_the_front_until_the_app_withdraws_it(
    front: str, published: Release
):
    url = front + published.get_absolute_url()
    status, headers, first = fetch(url)
    assert status == 200
    assert headers["X-Cache"] == "MISS"
    status, headers, again = fetch(url)
    assert (status, headers["X-Cache"], again) == (200, "HIT", first)

    withdraw(published, "Data error found after publication")
    max_age = int(headers["Cache-Control"].split("max-age=")[1].split(",")[0])
    time.sleep(max_age + 1)
    status, headers, body = fetch(url)
    # Withdrawn: the app's withdrawal notice, never the cached table.
    assert headers["X-Cache"] != "HIT"
    assert body != first
    assert b"withdrawn" in body.lower()


def test_private_pages_are_never_kept(front: str, published: Release):
    for path in ("/admin/login/", "/trust-area/"):
        answers = [fetch(front + path)[1].get("X-Cache") for _ in range(3)]
        assert "HIT" not in answers, path
