"""The league table scoring engine: plain Python and NumPy, no Django.

Kept free of Django so it can be tested and benchmarked on its own; a thin layer builds a
QuarterInput from the ORM and writes the QuarterResult back in bulk.
"""

from releases.engine.bootstrap import PeerGroupScores, likely_ranges
from releases.engine.league_table_file import (
    LeagueTableRow,
    format_number,
    format_range,
    league_table_csv,
)
from releases.engine.quarter import compute_quarter
from releases.engine.scoring import (
    banded_scores,
    categorical_scores,
    lookup_scores,
    metric_scores,
    ranked_scores,
)
from releases.engine.segments import (
    competition_ranks,
    metric_peer_statistics,
    quartile_thresholds,
    round_half_up,
)
from releases.engine.types import (
    Direction,
    FrameworkIncomplete,
    MetricRule,
    ProgressCallback,
    QuarterInput,
    QuarterResult,
    ScoringMethod,
)

__all__ = [
    "Direction",
    "FrameworkIncomplete",
    "LeagueTableRow",
    "MetricRule",
    "PeerGroupScores",
    "ProgressCallback",
    "QuarterInput",
    "QuarterResult",
    "ScoringMethod",
    "banded_scores",
    "categorical_scores",
    "competition_ranks",
    "compute_quarter",
    "format_number",
    "format_range",
    "league_table_csv",
    "likely_ranges",
    "lookup_scores",
    "metric_peer_statistics",
    "metric_scores",
    "quartile_thresholds",
    "ranked_scores",
    "round_half_up",
]
