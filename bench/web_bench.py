"""`make bench`: the published league table page and the API list under load.

Starts gunicorn with two sync workers on a free loopback port, on a scratch copy of the current
database (a copy of the SQLite file, or a scratch PostgreSQL database when DATABASE_URL points at
PostgreSQL), with the demo data loaded and published there if the copy has none; warms up, runs
wrk for WEB_BENCH_SECONDS (10) on each URL, prints requests/s and p50/p99 latency, and stops
everything it started. The current database is never changed.

The API's anonymous throttle is lifted for the run (API_ANON_RATE): this measures capacity, and
wrk is one client. Target: at least 400 requests/s with p99 under 100 ms.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GUNICORN = str(Path(PYTHON).with_name("gunicorn"))
SECONDS = int(os.getenv("WEB_BENCH_SECONDS", "10"))
CONNECTIONS = int(os.getenv("WEB_BENCH_CONNECTIONS", "8"))
WORKERS = 2
TARGET_RPS, TARGET_P99_MS = 400, 100.0
SCRATCH_PG = "leaguetable_web_bench"

FIND_URLS = """
import json
from django.utils import timezone
from releases.models import Release
published = Release.objects.published()
if not published.exists():
    # The demo's computed drafts, published on this scratch copy only.
    drafts = Release.objects.filter(status="draft", computation="computed")
    drafts.update(status="published", published_at=timezone.now())
release = (
    Release.objects.published().filter(peer_group__slug="mental-health-community")
    .order_by("-quarter__year_start", "-quarter__number").first()
    or Release.objects.published().first()
)
print(json.dumps({
    "release": str(release) if release else None,
    "trusts": release.trust_results.count() if release else 0,
    "table": release.get_absolute_url() if release else None,
    "rows": f"/api/v1/releases/{release.pk}/rows/" if release else None,
}))
"""


def log(message: str) -> None:
    print(message, flush=True)


def ensure_wrk() -> str:
    found = shutil.which("wrk")
    if found:
        return found
    if os.geteuid() == 0:
        log("installing wrk (apt-get)")
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", "wrk"],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            check=False,
            capture_output=True,
        )
    found = shutil.which("wrk")
    if not found:
        sys.exit("wrk is not installed: apt-get install -y wrk")
    return found


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def manage(env: dict[str, str], *args: str) -> str:
    result = subprocess.run(
        [PYTHON, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True
    )
    if result.returncode != 0:
        sys.exit(f"manage.py {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result.stdout


def _psql(url: str, sql: str) -> subprocess.CompletedProcess:
    parts = urlsplit(url)
    admin = urlunsplit(parts._replace(path="/postgres"))
    return subprocess.run(
        ["psql", admin, "-v", "ON_ERROR_STOP=1", "-qc", sql], capture_output=True, text=True
    )


def scratch_database(workdir: Path) -> tuple[str, str | None]:
    """(DATABASE_URL of a scratch copy, the PostgreSQL URL to drop afterwards or None)."""
    current = os.getenv("DATABASE_URL", "")
    if current.startswith(("postgres://", "postgresql://")):
        source = urlsplit(current).path.lstrip("/")
        scratch = urlunsplit(urlsplit(current)._replace(path=f"/{SCRATCH_PG}"))
        _psql(current, f'DROP DATABASE IF EXISTS "{SCRATCH_PG}"')
        copied = _psql(current, f'CREATE DATABASE "{SCRATCH_PG}" TEMPLATE "{source}"')
        if copied.returncode != 0:  # the source is in use: start from an empty database
            created = _psql(current, f'CREATE DATABASE "{SCRATCH_PG}"')
            if created.returncode != 0:
                sys.exit(f"could not create the scratch database: {created.stderr}")
        return scratch, scratch
    target = workdir / "bench.sqlite3"
    source = ROOT / "db.sqlite3"
    if current.startswith("sqlite:///"):
        source = Path(current.removeprefix("sqlite://"))
    if source.exists():
        shutil.copyfile(source, target)
    return f"sqlite:///{target}", None


def prepare(env: dict[str, str]) -> dict[str, str]:
    manage(env, "migrate", "--noinput")
    found = json.loads(manage(env, "shell", "-c", FIND_URLS).strip().splitlines()[-1])
    if found["table"] is None:
        log("the copy has no computed release: loading the demo data (setup_demo)")
        manage(env, "setup_demo")
        found = json.loads(manage(env, "shell", "-c", FIND_URLS).strip().splitlines()[-1])
    if found["table"] is None:
        sys.exit("no release could be published for the benchmark")
    return found


def wait_until_up(base: str, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit("gunicorn exited while starting")
        try:
            with urllib.request.urlopen(base + "/", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit("gunicorn did not answer within a minute")


def milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(text)
    value, unit = float(match[1]), match[2]
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(wrk: str, url: str, seconds: int) -> dict[str, float]:
    output = subprocess.run(
        [wrk, "-t", "1", "-c", str(CONNECTIONS), "-d", f"{seconds}s", "--latency", url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    figures: dict[str, float] = {
        "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", output)[1]),
        "requests": float(re.search(r"(\d+) requests in", output)[1]),
        "errors": 0.0,
    }
    for percentile in ("50", "99"):
        figures[f"p{percentile}"] = milliseconds(
            re.search(rf"^\s+{percentile}(?:\.000)?%\s+(\S+)", output, re.M)[1]
        )
    if non_2xx := re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output):
        figures["errors"] += float(non_2xx[1])
    if socket_errors := re.search(r"Socket errors:(.*)", output):
        figures["errors"] += sum(int(n) for n in re.findall(r"\d+", socket_errors[1]))
    return figures


def main() -> int:
    wrk = ensure_wrk()
    workdir = Path(tempfile.mkdtemp(prefix="web-bench-"))
    scratch_pg = None
    server = None
    try:
        database_url, scratch_pg = scratch_database(workdir)
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DEBUG": "False",
            "SECRET_KEY": "web-bench-only-" + os.urandom(16).hex(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "False",
            "API_ANON_RATE": "1000000000/second",
            "LOG_LEVEL": "WARNING",
        }
        found = prepare(env)
        port = free_port()
        base = f"http://127.0.0.1:{port}"
        cache = "Redis" if env.get("REDIS_URL") else "local memory (per worker)"
        database = "PostgreSQL" if scratch_pg else "SQLite"
        log(f"release: {found['release']} ({found['trusts']} trusts); {database}; cache: {cache}")
        server = subprocess.Popen(
            [
                GUNICORN,
                "leaguetable.wsgi",
                "--workers",
                str(WORKERS),
                "--bind",
                f"127.0.0.1:{port}",
                "--log-level",
                "warning",
            ],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        wait_until_up(base, server)
        targets = [("league table page", found["table"]), ("API list (rows)", found["rows"])]
        results = []
        for label, path in targets:
            run_wrk(wrk, base + path, 2)  # warm-up: fills each worker's cache
            figures = run_wrk(wrk, base + path, SECONDS)
            results.append((label, path, figures))
        log(f"\nwrk: {CONNECTIONS} connections, {SECONDS} s each, {WORKERS} gunicorn workers")
        log(f"{'target':<20} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>7}  verdict")
        for label, path, f in results:
            ok = f["rps"] >= TARGET_RPS and f["p99"] < TARGET_P99_MS and not f["errors"]
            verdict = "ok" if ok else f"BELOW TARGET (>= {TARGET_RPS} req/s, p99 < 100 ms)"
            log(
                f"{label:<20} {f['rps']:>9.1f} {f['p50']:>8.2f} {f['p99']:>8.2f} "
                f"{int(f['errors']):>7}  {verdict}"
            )
            log(f"  {path}")
        return 0 if all(not f["errors"] for _, _, f in results) else 1
    finally:
        if server is not None and server.poll() is None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
        if scratch_pg:
            _psql(scratch_pg, f'DROP DATABASE IF EXISTS "{SCRATCH_PG}"')
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
