"""`make bench`: published pages and the API against the floor, nginx serving the same bytes.

In one run, on a scratch copy of the current database (a copy of the SQLite file, or a scratch
PostgreSQL database when DATABASE_URL points at PostgreSQL; the demo data is loaded and
published there if the copy has none; the current database is never changed):

- the app alone: granian as deploy/serve runs it (2 worker processes);
- the floor: nginx (Debian's nginx-light, installed if missing, as wrk is) with 2 workers serving
  the very bytes the app answered, as static files;
- the production front: nginx with deploy/nginx/leaguetable-proxy.conf (its cache) before the app.

First, before anything is stored, 16 simultaneous requests for each of the two table pages (as on
the morning of a publication): the first, median and last answer's time.

For each URL wrk runs WEB_BENCH_SECONDS (10) with WEB_BENCH_CONNECTIONS (8) connections against
each of the three and prints requests/s, p50 and p99 and the ratios to the floor; then 256
connections for the same time against the app alone, with errors and p99. Everything it started
is stopped at the end.

The API's anonymous throttle is lifted for the run (API_ANON_RATE): this measures capacity, and
wrk is one client. Targets (issue 14): the app alone at least a third of the floor with p99 under
20 ms; at 256 connections no errors and p99 under 250 ms; through the nginx cache at least 80 %
of the floor.
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
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
PYTHON = sys.executable
GRANIAN = str(Path(PYTHON).with_name("granian"))
SECONDS = int(os.getenv("WEB_BENCH_SECONDS", "10"))
CONNECTIONS = int(os.getenv("WEB_BENCH_CONNECTIONS", "8"))
MANY_CONNECTIONS = 256
COLD_REQUESTS = 16
SCRATCH_PG = "leaguetable_web_bench"
PROXY_SNIPPET = ROOT / "deploy" / "nginx" / "leaguetable-proxy.conf"
SERVE = ROOT / "deploy" / "serve"
# Issue 14's targets.
APP_SHARE, APP_P99_MS = 1 / 3, 20.0
FRONT_SHARE = 0.8
MANY_P99_MS = 250.0

FIND_URLS = """
import json
from django.utils import timezone
from releases.models import Release, TrustResult
if not Release.objects.published().exists():
    # The demo's computed drafts, published on this scratch copy only.
    Release.objects.filter(status="draft", computation="computed").update(
        status="published", published_at=timezone.now()
    )
def latest(peer_group):
    return (
        Release.objects.published().filter(peer_group__slug=peer_group)
        .order_by("-quarter__year_start", "-quarter__number").first()
    )
mhc = latest("mental-health-community") or Release.objects.published().first()
acute = latest("acute")
trust = None
if mhc is not None:
    rows = TrustResult.objects.filter(release=mhc).select_related("trust")
    row = rows.filter(trust__ods_code="RYY").first() or rows.first()
    trust = row.trust if row else None
print(json.dumps({
    "release": str(mhc) if mhc else None,
    "urls": [
        *([("MH&C table page", mhc.get_absolute_url())] if mhc else []),
        *([("acute table page", acute.get_absolute_url())] if acute else []),
        *([("trust page", trust.get_absolute_url())] if trust else []),
        ("API release list", "/api/v1/releases/"),
        *([("API table rows", f"/api/v1/releases/{mhc.pk}/rows/")] if mhc else []),
    ],
}))
"""


def log(message: str) -> None:
    print(message, flush=True)


def ensure_tool(command: str, package: str) -> str:
    found = shutil.which(command) or shutil.which(command, path="/usr/sbin:/sbin")
    if found:
        return found
    if os.geteuid() == 0:
        log(f"installing {package} (apt-get)")
        subprocess.run(
            ["apt-get", "install", "-y", "-qq", package],
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
            check=False,
            capture_output=True,
        )
    found = shutil.which(command) or shutil.which(command, path="/usr/sbin:/sbin")
    if not found:
        sys.exit(f"{command} is not installed: apt-get install -y {package}")
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


def prepare(env: dict[str, str]) -> dict:
    manage(env, "migrate", "--noinput")
    found = json.loads(manage(env, "shell", "-c", FIND_URLS).strip().splitlines()[-1])
    if found["release"] is None:
        log("the copy has no computed release: loading the demo data (setup_demo)")
        manage(env, "setup_demo")
        found = json.loads(manage(env, "shell", "-c", FIND_URLS).strip().splitlines()[-1])
    if found["release"] is None:
        sys.exit("no release could be published for the benchmark")
    return found


def wait_until_up(url: str, process: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{what} exited while starting")
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    sys.exit(f"{what} did not answer within a minute")


def nginx_config(workdir: Path, static_port: int, front_port: int, app_port: int) -> Path:
    """Two nginx servers with 2 workers: the same bytes as files, and the production front."""
    for name in ("body", "proxy", "fastcgi", "uwsgi", "scgi", "cache"):
        (workdir / "nginx" / name).mkdir(parents=True, exist_ok=True)
    config = workdir / "nginx" / "nginx.conf"
    config.write_text(
        f"""
worker_processes 2;
daemon off;
pid {workdir}/nginx/nginx.pid;
error_log {workdir}/nginx/error.log warn;
events {{ worker_connections 4096; }}
http {{
    access_log off;
    default_type application/octet-stream;
    sendfile on;
    tcp_nopush on;
    keepalive_requests 1000000;
    client_body_temp_path {workdir}/nginx/body;
    proxy_temp_path {workdir}/nginx/proxy;
    fastcgi_temp_path {workdir}/nginx/fastcgi;
    uwsgi_temp_path {workdir}/nginx/uwsgi;
    scgi_temp_path {workdir}/nginx/scgi;
    proxy_cache_path {workdir}/nginx/cache levels=1:2 keys_zone=leaguetable:16m
                     inactive=1h use_temp_path=off;
    upstream leaguetable_app {{
        server 127.0.0.1:{app_port};
        keepalive 32;
    }}
    server {{
        listen 127.0.0.1:{static_port};
        root {workdir}/static;
    }}
    server {{
        listen 127.0.0.1:{front_port};
        location / {{
            include {PROXY_SNIPPET};
        }}
    }}
}}
"""
    )
    return config


def milliseconds(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(text)
    value, unit = float(match[1]), match[2]
    return value * {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}[unit]


def run_wrk(wrk: str, url: str, seconds: int, connections: int = CONNECTIONS) -> dict[str, float]:
    output = subprocess.run(
        [wrk, "-t", "1", "-c", str(connections), "-d", f"{seconds}s", "--latency", url],
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


def first_requests(url: str) -> list[float]:
    """Milliseconds each of COLD_REQUESTS simultaneous GETs took, fastest first."""

    def get(_: int) -> float:
        started = time.perf_counter()
        with urllib.request.urlopen(url, timeout=60) as response:
            response.read()
        return (time.perf_counter() - started) * 1000

    with ThreadPoolExecutor(COLD_REQUESTS) as pool:
        return sorted(pool.map(get, range(COLD_REQUESTS)))


def stop(process: subprocess.Popen | None) -> None:
    if process is None or process.poll() is not None:
        return
    process.send_signal(signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()


def main() -> int:
    wrk = ensure_tool("wrk", "wrk")
    nginx = ensure_tool("nginx", "nginx-light")
    workdir = Path(tempfile.mkdtemp(prefix="web-bench-"))
    # nginx started as root serves files as its unprivileged worker user.
    workdir.chmod(0o755)
    scratch_pg = None
    app = front = None
    try:
        database_url, scratch_pg = scratch_database(workdir)
        app_port, static_port, front_port = free_port(), free_port(), free_port()
        env = {
            **os.environ,
            "DATABASE_URL": database_url,
            "DEBUG": "False",
            "SECRET_KEY": "web-bench-only-" + os.urandom(16).hex(),
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "False",
            "API_ANON_RATE": "1000000000/second",
            "LOG_LEVEL": "WARNING",
            "BIND": f"127.0.0.1:{app_port}",
        }
        found = prepare(env)
        cache = "Redis + process memory" if env.get("REDIS_URL") else "process memory"
        database = "PostgreSQL" if scratch_pg else "SQLite"
        log(f"data: {found['release']} and the other published tables; {database}; {cache}")
        app = subprocess.Popen(
            [str(SERVE)],
            cwd=ROOT,
            env={**env, "GRANIAN": GRANIAN},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        app_base = f"http://127.0.0.1:{app_port}"
        wait_until_up(app_base + "/", app, "granian")
        # Publication morning: nothing is stored yet under the new generation, and everyone
        # asks for the new tables at once.
        cold = [(label, path, first_requests(app_base + path)) for label, path in found["urls"][:2]]

        # The floor serves exactly the bytes the app answers (uncompressed: wrk asks for none).
        static = workdir / "static"
        static.mkdir()
        targets = []
        for number, (label, path) in enumerate(found["urls"]):
            with urllib.request.urlopen(app_base + path, timeout=30) as response:
                body = response.read()
            (static / f"{number}").write_bytes(body)
            targets.append((label, path, f"/{number}", len(body)))

        front = subprocess.Popen(
            [
                nginx,
                "-p",
                str(workdir / "nginx"),
                "-c",
                str(nginx_config(workdir, static_port, front_port, app_port)),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            start_new_session=True,
        )
        wait_until_up(f"http://127.0.0.1:{static_port}/0", front, "nginx")
        front_base = f"http://127.0.0.1:{front_port}"

        results = []
        for label, path, static_path, size in targets:
            run_wrk(wrk, app_base + path, 2)  # warm-up: each worker stores the response
            measured = run_wrk(wrk, app_base + path, SECONDS)
            floor = run_wrk(wrk, f"http://127.0.0.1:{static_port}{static_path}", SECONDS)
            run_wrk(wrk, front_base + path, 1)
            through = run_wrk(wrk, front_base + path, SECONDS)
            results.append((label, path, size, measured, floor, through))
        crowded = [
            (label, path, run_wrk(wrk, app_base + path, SECONDS, MANY_CONNECTIONS))
            for label, path, *_ in targets[:1] + targets[3:4]
        ]

        log(
            f"\nwrk, {CONNECTIONS} connections, {SECONDS} s each; app: granian "
            f"(deploy/serve); nginx: 2 workers, the same bytes from disk; "
            f"front: nginx with deploy/nginx/leaguetable-proxy.conf before the app"
        )
        log(
            f"{'URL':<18} {'bytes':>7} | {'app req/s':>9} {'p50':>5} {'p99':>5} | "
            f"{'nginx req/s':>11} {'p50':>5} {'p99':>5} | {'app/nginx':>9} | "
            f"{'front req/s':>11} {'p99':>5} {'front/nginx':>11}"
        )
        ok = True
        for label, path, size, m, f, t in results:
            share, front_share = m["rps"] / f["rps"], t["rps"] / f["rps"]
            log(
                f"{label:<18} {size:>7} | {m['rps']:>9.0f} {m['p50']:>5.2f} {m['p99']:>5.2f} | "
                f"{f['rps']:>11.0f} {f['p50']:>5.2f} {f['p99']:>5.2f} | {share:>9.2f} | "
                f"{t['rps']:>11.0f} {t['p99']:>5.2f} {front_share:>11.2f}"
            )
            misses = []
            if share < APP_SHARE:
                misses.append(f"app {share:.2f} of nginx, target >= {APP_SHARE:.2f}")
            if m["p99"] >= APP_P99_MS:
                misses.append(f"app p99 {m['p99']:.1f} ms, target < {APP_P99_MS:.0f} ms")
            if front_share < FRONT_SHARE:
                misses.append(f"front {front_share:.2f} of nginx, target >= {FRONT_SHARE:.2f}")
            if m["errors"] or f["errors"] or t["errors"]:
                misses.append(f"errors {int(m['errors'])}/{int(f['errors'])}/{int(t['errors'])}")
            log(
                f"  {path}  "
                + ("targets met" if not misses else "BELOW TARGET: " + "; ".join(misses))
            )
            ok = ok and not (m["errors"] or t["errors"])
        log(f"\nnothing stored yet: {COLD_REQUESTS} requests at once for a page, app alone")
        for label, _path, times in cold:
            log(
                f"{label:<18} first answer {times[0]:.0f} ms, median {times[len(times) // 2]:.0f}"
                f" ms, last {times[-1]:.0f} ms"
            )
        log(f"\napp alone, {MANY_CONNECTIONS} connections, {SECONDS} s")
        for label, _path, c in crowded:
            misses = []
            if c["errors"]:
                misses.append(f"{int(c['errors'])} errors, target none")
            if c["p99"] >= MANY_P99_MS:
                misses.append(f"p99 target < {MANY_P99_MS:.0f} ms")
            verdict = "targets met" if not misses else "BELOW TARGET: " + "; ".join(misses)
            log(
                f"{label:<18} {c['rps']:>9.0f} req/s  p50 {c['p50']:.2f} ms  "
                f"p99 {c['p99']:.2f} ms  errors {int(c['errors'])}  {verdict}"
            )
            ok = ok and not c["errors"]
        return 0 if ok else 1
    finally:
        stop(front)
        stop(app)
        if scratch_pg:
            _psql(scratch_pg, f'DROP DATABASE IF EXISTS "{SCRATCH_PG}"')
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
