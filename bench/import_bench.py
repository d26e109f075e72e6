"""How fast the NOF importer is, and whether its memory stays flat as files grow.

Generates a synthetic file in NHS England's NOF layout (Q1..Q4 quarters, every trust in the
database, every metric's value and score IDs, the deficit flag and a derived row the importer
skips), imports it with `import_nof`, and prints seconds, rows/s and peak RSS. Each size runs in
a fresh child process, so each peak RSS (getrusage ru_maxrss, a high-water mark) is that
import's own; "baseline" is the RSS just before the import started.

Run from the repository root against a scratch database, e.g.:

    createdb -h 127.0.0.1 -U postgres leaguetable_imp
    export DATABASE_URL=postgresql://postgres@127.0.0.1:5432/leaguetable_imp
    .venv/bin/python manage.py migrate
    .venv/bin/python bench/import_bench.py --rows 100000 1000000 --reimport

The synthetic quarters start in 1900/01 so they cannot collide with real data; they and
everything imported into them are deleted afterwards unless --keep is given. If the database
has no trusts, the real ERIC file is imported first. DEBUG is switched off in the child, as in
production: with DEBUG on, Django keeps the SQL of the last 9,000 queries, and bulk inserts of
2,000 rows make that log, not the importer, the largest thing in memory.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
FIRST_YEAR = 1900
HEADER = [
    "Quarter", "Region", "Trust_type", "Trust_subtype", "Trust_code", "Trust_name", "Domain",
    "Sub-domain", "Metric_ID", "Metric_description", "Reporting_date", "Units", "Value",
    "Median_value", "Lower_quartile", "Upper_quartile", "Rank",
]  # fmt: skip


def rss_now_mb() -> float:
    with open("/proc/self/statm") as statm:
        pages = int(statm.read().split()[1])
    return pages * os.sysconf("SC_PAGE_SIZE") / 2**20


def cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def peak_rss_mb() -> float:
    # ru_maxrss is in kilobytes on Linux.
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def setup_django(debug: bool) -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "leaguetable.settings")
    os.environ["DEBUG"] = "True" if debug else "False"
    import django

    django.setup()


def write_file(path: Path, rows: int) -> int:
    """Write `rows` data rows, ordered as NHS England orders them; return quarters used."""
    from metrics.models import Metric
    from trusts.models import Trust

    trusts = list(Trust.objects.order_by("ods_code").values_list("ods_code", "name"))
    metric_ids: list[tuple[str, str]] = []
    for code, score_code, unit in Metric.objects.order_by("code").values_list(
        "code", "score_code", "unit"
    ):
        if code != score_code:
            metric_ids.append((code, unit or "%"))
        if score_code:
            metric_ids.append((score_code, "score"))
    metric_ids += [("OF5004", "flag"), ("OF5002", "score")]
    # NHS England's order: every value ID of a quarter, then every score ID, then the summary,
    # so a value and its score are ~2,000 rows apart and often fall in different chunks.
    metric_ids.sort()
    rng = random.Random(20260501)
    written = 0
    quarter_index = 0
    with path.open("w", encoding="utf-8-sig", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(HEADER)
        while written < rows:
            year = FIRST_YEAR + quarter_index // 4
            label = f"Q{quarter_index % 4 + 1} {year}/{(year + 1) % 100:02d}"
            for metric_id, unit in metric_ids:
                for code, name in trusts:
                    if written == rows:
                        break
                    if unit == "flag":
                        value = f"{rng.random() < 0.25:d}.0"
                    elif unit == "score":
                        value = f"{rng.uniform(1, 4):.2f}"
                    else:
                        value = f"{rng.uniform(0, 100):.2f}"
                    writer.writerow([
                        label, "Midlands", "Synthetic", "Synthetic", code, name, "Domain",
                        "Sub-domain", metric_id, "Synthetic metric", label, unit, value,
                        "", "", "", "",
                    ])  # fmt: skip
                    written += 1
            quarter_index += 1
    return quarter_index


def clean_up(run_ids: list[int]) -> None:
    """Delete the synthetic quarters and all imported into them, in plain SQL.

    QuerySet.delete() would load every row to send signals, and simple-history would answer
    each signal with a new history row: a million of them.
    """
    from django.db import connection, transaction

    from metrics.models import ImportRun, Observation, Quarter, TrustQuarterStatus

    quarter_ids = list(Quarter.objects.filter(year_start__lt=2000).values_list("pk", flat=True))
    if not quarter_ids:
        return
    with transaction.atomic(), connection.cursor() as cursor:
        marks = ", ".join(["%s"] * len(quarter_ids))
        for model in (Observation, TrustQuarterStatus):
            for table in (model.history.model._meta.db_table, model._meta.db_table):
                cursor.execute(f"DELETE FROM {table} WHERE quarter_id IN ({marks})", quarter_ids)
        Quarter.objects.filter(pk__in=quarter_ids).delete()
        ImportRun.objects.filter(pk__in=run_ids).delete()


def _history_rows() -> int:
    from metrics.models import Observation, TrustQuarterStatus

    return sum(
        model.history.filter(quarter__year_start__lt=2000).count()
        for model in (Observation, TrustQuarterStatus)
    )


def child(rows: int, reimport: bool, keep: bool, debug: bool, chunk: int) -> dict[str, Any]:
    setup_django(debug)
    from django.db import connection

    from metrics.imports import base as importing

    if chunk:
        importing.CHUNK_SIZE = chunk

    from metrics.imports.nof import import_nof
    from metrics.imports.register import import_trusts
    from trusts.models import Trust

    if not Trust.objects.exists():
        import_trusts(ROOT / "data" / "nhs" / "eric-2024-25-trust-data.csv")
    clean_up([])
    result: dict[str, Any] = {
        "rows": rows,
        "database": connection.vendor,
        "chunk": importing.CHUNK_SIZE,
    }
    with tempfile.TemporaryDirectory() as directory:
        path = Path(directory) / "nof-synthetic.csv"
        started = time.perf_counter()
        result["quarters"] = write_file(path, rows)
        result["generate_s"] = time.perf_counter() - started
        result["file_mb"] = path.stat().st_size / 2**20
        result["baseline_rss_mb"] = rss_now_mb()
        started, cpu_started = time.perf_counter(), cpu_s()
        report = import_nof(path)
        result["import_s"] = time.perf_counter() - started
        # Python's own CPU time: on a busy machine, wall-clock time also measures the others.
        result["import_cpu_s"] = cpu_s() - cpu_started
        result["peak_rss_mb"] = peak_rss_mb()
        result["created"] = report.created
        result["merged"] = report.changes["observations"].merged
        result["history_rows"] = _history_rows()
        run_ids = [report.import_run_id]
        if reimport:
            started = time.perf_counter()
            again = import_nof(path)
            result["reimport_s"] = time.perf_counter() - started
            result["reimport_changed"] = again.created + again.updated
            result["peak_rss_after_reimport_mb"] = peak_rss_mb()
            run_ids.append(again.import_run_id)
    if not keep:
        clean_up([run_id for run_id in run_ids if run_id is not None])
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[100_000, 1_000_000])
    parser.add_argument("--reimport", action="store_true", help="also time a second import")
    parser.add_argument("--keep", action="store_true", help="keep the imported data")
    parser.add_argument("--debug", action="store_true", help="run with DEBUG on")
    parser.add_argument("--chunk-size", type=int, default=0, help="records per chunk")
    parser.add_argument("--child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        result = child(
            args.child,
            args.reimport,
            args.keep,
            args.debug,
            args.chunk_size,
        )
        print(json.dumps(result))
        return

    options = {
        "--reimport": args.reimport,
        "--keep": args.keep,
        "--debug": args.debug,
    }
    flags = [flag for flag, on in options.items() if on]
    if args.chunk_size:
        flags += ["--chunk-size", str(args.chunk_size)]
    for rows in args.rows:
        done = subprocess.run(
            [sys.executable, __file__, "--child", str(rows), *flags],
            check=True, capture_output=True, text=True,
        )  # fmt: skip
        r = json.loads(done.stdout.strip().splitlines()[-1])
        line = (
            f"{r['database']}, chunks of {r['chunk']:,}: {r['rows']:>9,} rows "
            f"({r['file_mb']:.0f} MB, {r['quarters']} "
            f"quarters) imported in {r['import_s']:.1f} s = {r['rows'] / r['import_s']:,.0f} "
            f"rows/s (importer CPU {r['import_cpu_s']:.1f} s); {r['created']:,} records created, "
            f"{r['merged']:,} completed by a later "
            f"chunk, {r['history_rows']:,} history rows; RSS baseline "
            f"{r['baseline_rss_mb']:.0f} MB, peak {r['peak_rss_mb']:.0f} MB"
        )
        if "reimport_s" in r:
            line += (
                f"; re-import {r['reimport_s']:.1f} s = {r['rows'] / r['reimport_s']:,.0f} "
                f"rows/s, {r['reimport_changed']} changed, peak "
                f"{r['peak_rss_after_reimport_mb']:.0f} MB"
            )
        print(line, flush=True)


if __name__ == "__main__":
    main()
