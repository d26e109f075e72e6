"""Importer for NHS England's NHS Oversight Framework data file (long CSV).

It streams the file through `metrics.imports.base`, so it shares its guarantees: one
transaction per file, nothing saved if any row is invalid, every invalid row reported, bulk
writes audited by simple-history, and an ImportRun for every attempt.
"""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path
from typing import Any

from django.contrib.auth.base_user import AbstractBaseUser
from simple_history.utils import bulk_update_with_history

from metrics.imports.base import (
    BulkUpsert,
    FixedByRelease,
    ImportContext,
    ImportReport,
    KeyRegister,
    NotANumber,
    read_number,
    run_import,
    storable_decimal,
    with_columns,
)
from metrics.imports.supplied_scores import SuppliedScoreKept
from metrics.models import (
    QUARTER_LABEL,
    ImportRun,
    Metric,
    Observation,
    Quarter,
    TrustQuarterStatus,
    score_problem,
)
from trusts.models import Trust

# NOF outputs the portal computes itself (domain scores and segments, average score, segment
# and its overrides). Importing NHS England's figures would mix theirs with ours.
NOF_DERIVED = frozenset(
    {
        "OF4000",
        "OF4002",
        "OF4003",
        "OF4004",
        "OF4005",
        "OF4100",
        "OF4102",
        "OF4103",
        "OF4104",
        "OF4105",
        "OF5000",
        "OF5002",
        "OF5003",
        "OF5005",
    }
)
NOF_DERIVED_REASON = "derived by the portal, not imported"
# Flag rows that set TrustQuarterStatus rather than an Observation.
NOF_FLAGS = {
    "OF5004": "in_financial_deficit",
    "OF5007": "in_recovery_support",
}

NOF_QUARTER = "Quarter"
NOF_TRUST = "Trust_code"
NOF_METRIC = "Metric_ID"
NOF_PERIOD = "Reporting_date"
NOF_VALUE = "Value"
NOF_NAME = "Trust_name"
NOF_COLUMNS = (NOF_QUARTER, NOF_TRUST, NOF_METRIC, NOF_PERIOD, NOF_VALUE)

VALUE = "value"
SCORE = "supplied_score"


def import_nof(
    path: str | Path, user: AbstractBaseUser | None = None, run: ImportRun | None = None
) -> ImportReport:
    """Import an NHS Oversight Framework data file (NHS England's long CSV).

    Each row is one Metric_ID for one trust in one quarter:

    * a metric's `code` (OF0084) sets the Observation's value and reporting period; its
      `score_code` (OF1084) sets `supplied_score` on the same Observation. Score-only metrics
      (OF1080, whose code is its score code) put the number in `supplied_score`;
    * OF5004 and OF5007 set the trust's TrustQuarterStatus deficit and Recovery Support flags
      (flags absent from the file leave a stored status as it is);
    * the outputs the portal derives itself (NOF_DERIVED) are skipped and counted.

    Invalid rows: a quarter not written "Q1 2025/26", a trust not in the register, a Metric_ID
    not in the catalogue (metrics are never invented), a non-numeric value or one too large to
    store, the same trust, Metric_ID and quarter twice, and a value that changes while its
    stored supplied score would stay (the file must give the score too: `SuppliedScoreKept`).
    Quarters are created as the file names them. Values are rounded to the places the database
    stores. Raises ImportRejected if any row is invalid.
    """

    return run_import(
        ImportRun.Kind.NOF,
        path,
        user,
        with_columns(NOF_COLUMNS, _import_nof_rows, optional=(NOF_NAME,)),
        run,
    )


def _import_nof_rows(ctx: ImportContext, columns: dict[str, int]) -> None:
    report = ctx.report
    trusts = dict(Trust.objects.values_list("ods_code", "pk"))
    # Metric_ID -> (metric, field it sets, whether it sets the reporting period). The value
    # row owns the period; a score-only metric (code == score_code) has no value row.
    targets: dict[str, tuple[int, str, bool]] = {}
    metrics = {metric.pk: metric for metric in Metric.objects.all()}
    for metric_id, metric in metrics.items():
        code, score_code = metric.code.upper(), metric.score_code.upper()
        if score_code:
            targets[score_code] = (metric_id, SCORE, score_code == code)
        if code not in targets:
            targets[code] = (metric_id, VALUE, True)
    # Metrics published as a value row and a separate score row: one Observation for both.
    paired = {metric_id for metric_id, kind, _ in targets.values() if kind == SCORE} & {
        metric_id for metric_id, kind, _ in targets.values() if kind == VALUE
    }

    def complete(key: tuple[int, int, int], patch: dict[str, Any]) -> bool:
        return key[1] not in paired or (VALUE in patch and SCORE in patch)

    value_field = Observation._meta.get_field("value")
    score_field = Observation._meta.get_field("supplied_score")
    period_length = Observation._meta.get_field("reporting_period").max_length or 100
    stamp = {"import_run_id": ctx.run.pk}
    guard = FixedByRelease(NOF_TRUST, {pk: code for code, pk in trusts.items()})
    seen = KeyRegister()

    def score_given(key: tuple[int, int, int]) -> bool:
        quarter_id, metric_id, trust_id = key
        score_code = metrics[metric_id].score_code.upper()
        return bool(score_code) and seen.line_of((quarter_id, score_code, trust_id)) is not None

    observations = BulkUpsert(
        ctx,
        Observation,
        ("quarter_id", "metric_id", "trust_id"),
        stamp=stamp,
        line_field="source_line",
        guard=guard,
        complete=complete,
        check=SuppliedScoreKept(ctx, NOF_VALUE, _add_the_score_row, score_given),
    )
    statuses = BulkUpsert(
        ctx, TrustQuarterStatus, ("quarter_id", "trust_id"), stamp=stamp, guard=guard
    )
    quarter_ids: dict[str, int] = {}
    # Trust -> (quarter, name) as the file's latest quarter names it; one entry per trust.
    published_names: dict[int, tuple[int, str]] = {}

    for line, fields in ctx.complete_rows(columns):
        metric_code = fields[columns[NOF_METRIC]].strip().upper()
        if metric_code in NOF_DERIVED:
            report.skip(NOF_DERIVED_REASON)
            continue
        errors_before = report.error_count
        flag = NOF_FLAGS.get(metric_code)
        target = None if flag else targets.get(metric_code)
        if flag is None and target is None:
            report.add_error(
                line,
                NOF_METRIC,
                metric_code,
                "unknown metric: not in the metric catalogue, nor a NOF output the portal derives",
            )
        label = fields[columns[NOF_QUARTER]].strip()
        quarter_id = quarter_ids.get(label)
        if quarter_id is None:
            # Only valid labels are remembered: a file of junk must not grow this dict.
            quarter_id = _quarter_id(ctx, label)
            if quarter_id is not None:
                quarter_ids[label] = quarter_id
        if quarter_id is None:
            report.add_error(line, NOF_QUARTER, label, 'not a quarter like "Q1 2025/26"')
        trust_code = fields[columns[NOF_TRUST]].strip().upper()
        trust_id = trusts.get(trust_code)
        if trust_id is None:
            report.add_error(
                line, NOF_TRUST, trust_code, "unknown trust (not in the trust register)"
            )
        text = fields[columns[NOF_VALUE]].strip()
        try:
            number: Decimal | None = read_number(text)
        except NotANumber as problem:
            number = None
            report.add_error(line, NOF_VALUE, text, str(problem))
        period = " ".join(fields[columns[NOF_PERIOD]].split())
        if len(period) > period_length:
            report.add_error(line, NOF_PERIOD, period, f"longer than {period_length} characters")
        if quarter_id is not None and trust_id is not None and (flag or target):
            earlier = seen.first_line((quarter_id, metric_code, trust_id), line)
            if earlier:
                report.add_error(
                    line,
                    NOF_METRIC,
                    metric_code,
                    f"duplicate: trust {trust_code}, {metric_code} and {label} "
                    f"are already on line {earlier}",
                )
        if report.error_count > errors_before or number is None:
            continue
        name = " ".join(fields[columns[NOF_NAME]].split()) if NOF_NAME in columns else ""
        if name and published_names.get(trust_id, (-1, ""))[0] <= quarter_id:
            published_names[trust_id] = (quarter_id, name)
        if flag:
            if number not in (0, 1):
                report.add_error(line, NOF_VALUE, text, "a flag must be 0 or 1")
            elif not report.rejected:
                statuses.put((quarter_id, trust_id), {flag: number == 1}, line)
            continue
        assert target is not None
        metric_id, kind, owns_period = target
        problem = (
            metrics[metric_id].range_problem(number) if kind == VALUE else score_problem(number)
        )
        if problem:
            report.add_error(line, NOF_VALUE, text, f"{metric_code}: {problem}")
            continue
        fitted = storable_decimal(
            report, line, NOF_VALUE, text, number, value_field if kind == VALUE else score_field
        )
        if fitted is None:
            continue
        if report.rejected:
            continue
        patch: dict[str, Any] = {kind: fitted, "is_synthetic": False}
        if owns_period:
            patch["reporting_period"] = period
        observations.put((quarter_id, metric_id, trust_id), patch, line)
    if not report.rejected:
        _rename_trusts(ctx, {trust_id: name for trust_id, (_, name) in published_names.items()})


def _add_the_score_row(trust_code: str, metric: Metric, quarter: str, restated: bool) -> str:
    score_id = metric.score_code or "score"
    if restated:
        return (
            f"this file's {score_id} row for {trust_code} in {quarter} gives that score again; "
            "correct it to the score for the new value (if the old score does hold for the new "
            "value, change the value in the admin, Observations, and confirm the score there)"
        )
    return (
        f"add the {score_id} row for {trust_code} in {quarter} with the score for the new "
        "value to this file"
    )


def _rename_trusts(ctx: ImportContext, names: dict[int, str]) -> None:
    """Name trusts as NHS England's file does: it is newer than the ERIC register.

    Trusts are renamed between estates collections (TAH and RXY since ERIC 2024/25), and the
    league table NHS England publishes must carry the names it used. Recorded in the trust's
    history with the file as the reason.
    """
    renamed = []
    for trust in Trust.objects.filter(pk__in=names):
        if trust.name != names[trust.pk]:
            trust.name = names[trust.pk]
            renamed.append(trust)
    if renamed:
        bulk_update_with_history(
            renamed,
            Trust,
            ["name"],
            default_user=ctx.user,
            default_change_reason=f"Renamed as {ctx.run.file_name} names it",
        )
        ctx.report.counts_for("trusts renamed").updated += len(renamed)


def _quarter_id(ctx: ImportContext, label: str) -> int | None:
    if not QUARTER_LABEL.fullmatch(label.strip()):
        return None  # the file writes quarters as labels ("Q1 2025/26"), never as slugs
    try:
        year_start, number = Quarter.parse(label)
    except ValueError:
        return None
    return ctx.quarter_id(year_start, number)
