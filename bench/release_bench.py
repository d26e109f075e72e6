"""Release computation, from stored observations to stored results (issue: ranking engine).

Prints, for the real 61-trust Q4 2025/26 mental health and community quarter (5,000 replicates)
and for a synthetic national-scale quarter (10,000 providers x 40 metrics, 1,000 replicates):
seconds to load, compute and write, rows written, and peak memory.

Runs on a scratch PostgreSQL database (BENCH_DATABASE_URL, default
postgresql://postgres@127.0.0.1:5432/leaguetable_bench, recreated each run); with
BENCH_DATABASE_URL=sqlite it uses a temporary SQLite file instead.
"""

import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

DEFAULT_URL = "postgresql://postgres@127.0.0.1:5432/leaguetable_bench"


def prepare_database() -> str:
    url = os.getenv("BENCH_DATABASE_URL", DEFAULT_URL)
    if url == "sqlite":
        return f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"
    parsed = urlparse(url)
    name = parsed.path.lstrip("/")
    base = [
        "-h",
        parsed.hostname or "127.0.0.1",
        "-p",
        str(parsed.port or 5432),
        "-U",
        parsed.username or "postgres",
    ]
    subprocess.run(["dropdb", "--if-exists", *base, name], check=True)
    subprocess.run(["createdb", *base, name], check=True)
    return url


os.environ["DATABASE_URL"] = prepare_database()
os.environ.pop("CELERY_BROKER_URL", None)
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaguetable.settings")

import django  # noqa: E402

django.setup()

from decimal import Decimal  # noqa: E402

import numpy as np  # noqa: E402
from django.core.management import call_command  # noqa: E402
from django.db import connection  # noqa: E402

from metrics.imports.nof import import_nof  # noqa: E402
from metrics.imports.register import import_trusts  # noqa: E402
from metrics.models import (  # noqa: E402
    Domain,
    Framework,
    Metric,
    MetricDefinition,
    Observation,
    Quarter,
    Thresholds,
)
from releases.engine import compute_quarter  # noqa: E402
from releases.models import (  # noqa: E402
    MetricPeerStatistics,
    MetricResult,
    Release,
    TrustResult,
)
from releases.services import computation  # noqa: E402
from releases.services.drafts import draft_release, parse_quarter  # noqa: E402
from trusts.models import PeerGroup, Region, Trust  # noqa: E402

DATA = REPO / "data" / "nhs"


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def timed_release(release: Release) -> dict[str, float]:
    """Load, compute and write one release through the same functions the task uses."""
    # Peak memory is the process's peak RSS: tracemalloc would slow the Python parts 3-5x.
    started = time.perf_counter()
    loaded = computation.load_inputs(release)
    loaded_at = time.perf_counter()
    result = compute_quarter(loaded.quarter_input)
    computed_at = time.perf_counter()
    computation.write_results(release, loaded, result, computed_at - started)
    written_at = time.perf_counter()
    rows = (
        release.trust_results.count()
        + release.metric_results.count()
        + release.peer_statistics.count()
    )
    return {
        "load": loaded_at - started,
        "compute": computed_at - loaded_at,
        "write": written_at - computed_at,
        "total": written_at - started,
        "rows": rows,
        "copy": copy_floor(release),
    }


RESULT_TABLES = (TrustResult, MetricResult, MetricPeerStatistics)


def copy_floor(release: Release) -> float | None:
    """Seconds PostgreSQL's COPY takes to load the same rows into scratch copies of the result
    tables (same columns, defaults and indexes; no foreign keys): the floor for the write."""
    if connection.vendor != "postgresql":
        return None
    seconds = 0.0
    with connection.cursor() as cursor:
        raw = cursor.cursor
        for model in RESULT_TABLES:
            table = model._meta.db_table
            columns = ", ".join(f.column for f in model._meta.concrete_fields if not f.primary_key)
            data = bytearray()
            with raw.copy(
                f"COPY (SELECT {columns} FROM {table} WHERE release_id = %s) TO STDOUT",
                [release.pk],
            ) as copy:
                for chunk in copy:
                    data += chunk
            raw.execute(f"DROP TABLE IF EXISTS floor_{table}")
            raw.execute(
                f"CREATE TABLE floor_{table} "
                f"(LIKE {table} INCLUDING DEFAULTS INCLUDING IDENTITY INCLUDING INDEXES)"
            )
            started = time.perf_counter()
            with raw.copy(f"COPY floor_{table} ({columns}) FROM STDIN") as copy:
                copy.write(bytes(data))
            seconds += time.perf_counter() - started
            raw.execute(f"DROP TABLE floor_{table}")
    return seconds


def report(title: str, figures: dict[str, float], target: str) -> None:
    print(f"\n{title}")
    print(
        f"  load {figures['load']:.2f} s, compute {figures['compute']:.2f} s, "
        f"write {figures['write']:.2f} s, total {figures['total']:.2f} s  ({target})"
    )
    print(f"  rows written {figures['rows']:,}; process peak RSS so far {peak_rss_mb():.0f} MB")
    if figures.get("copy") is not None:
        print(
            f"  COPY of the same {figures['rows']:,} rows into scratch tables: "
            f"{figures['copy']:.2f} s; the write takes {figures['write'] / figures['copy']:.1f}x "
            "that (target: within 3x)"
        )


def real_quarter() -> None:
    import_trusts(DATA / "eric-2024-25-trust-data.csv")
    import_nof(DATA / "nof-2025-26-mental-health-community-trust-data.csv")
    release = draft_release(parse_quarter("Q4 2025/26"), "mental-health-community")
    release.replicates = 5000
    release.save()
    report(
        "Real quarter: 61 MH&C trusts, Q4 2025/26, 5,000 replicates",
        timed_release(release),
        "target < 0.2 s",
    )


def synthetic_national_quarter(
    providers: int = 10_000, metric_count: int = 40, replicates: int = 1_000
) -> None:
    rng = np.random.default_rng(42)
    group = PeerGroup.objects.create(
        slug="bench-national", name="Benchmark providers", trust_type_label="Benchmark provider"
    )
    region = Region.objects.first()
    trusts = Trust.objects.bulk_create(
        Trust(
            ods_code=f"B{i:05d}",
            name=f"Benchmark provider {i}",
            trust_type="BENCH",
            subtype="Benchmark",
            region=region,
            peer_group=group,
        )
        for i in range(providers)
    )
    quarter = Quarter.objects.get(year_start=2025, number=4)
    framework = Framework.objects.create(
        slug="bench",
        name="Benchmark framework",
        peer_group=group,
        status="active",
        use_supplied_scores=False,
    )
    framework.quarters.add(quarter)
    Thresholds.objects.create(framework=framework, quarter=quarter, method="quartiles")
    domains = [
        Domain.objects.create(
            framework=framework, slug=f"d{d}", name=f"Domain {d}", display_order=d
        )
        for d in range(5)
    ]
    metrics = Metric.objects.bulk_create(
        Metric(
            code=f"BM{j:03d}",
            name=f"Benchmark metric {j}",
            unit="%",
            direction="higher" if j % 2 else "lower",
            is_synthetic=True,
        )
        for j in range(metric_count)
    )
    MetricDefinition.objects.bulk_create(
        MetricDefinition(
            framework=framework, metric=m, domain=domains[j % 5], method="ranked", display_order=j
        )
        for j, m in enumerate(metrics)
    )
    values = rng.normal(50, 15, (providers, metric_count))
    missing = rng.random((providers, metric_count)) < 0.05
    Observation.objects.bulk_create(
        (
            Observation(
                trust=t,
                metric=m,
                quarter=quarter,
                value=Decimal(f"{values[i, j]:.3f}"),
                is_synthetic=True,
            )
            for i, t in enumerate(trusts)
            for j, m in enumerate(metrics)
            if not missing[i, j]
        ),
        batch_size=10_000,
    )
    if connection.vendor == "postgresql":
        # As the importers do after a large file: fresh planner statistics.
        with connection.cursor() as cursor:
            cursor.execute("ANALYZE trusts_trust")
            cursor.execute("ANALYZE metrics_observation")
    release = draft_release(quarter, group.slug)
    release.replicates = replicates
    release.save()
    vendor = connection.vendor
    report(
        f"Synthetic national quarter: {providers:,} providers x {metric_count} metrics, "
        f"{replicates:,} replicates, on {vendor}",
        timed_release(release),
        "target on PostgreSQL: < 4 s in all and < 600 MB",
    )


if __name__ == "__main__":
    call_command("migrate", verbosity=0)
    print(f"Database: {connection.vendor} ({connection.settings_dict['NAME']})")
    real_quarter()
    synthetic_national_quarter()
