"""Downloads of a release: NHS England's league-table CSV and the portal's own formats."""

from __future__ import annotations

from collections.abc import Callable

from django.http import Http404, HttpRequest, HttpResponse

from public import exports, selectors
from public.caching import cached_public
from public.views.methods import read_only
from releases.models import Release
from releases.selectors import league_table_csv, trust_data_csv
from releases.synthetic import synthetic_values

# File name -> (content type, builder from a readable release to bytes).
FORMATS: dict[str, tuple[str, Callable[[Release], bytes]]] = {
    "league-table.csv": (
        "text/csv; charset=utf-8",
        lambda release: league_table_csv(release).encode("utf-8"),
    ),
    "trust-data.csv": (
        "text/csv; charset=utf-8",
        lambda release: trust_data_csv(release).encode("utf-8"),
    ),
    "data.csv": (
        "text/csv; charset=utf-8",
        lambda release: exports.long_csv(exports.release_data(release)).encode("utf-8"),
    ),
    "league-table.xlsx": (
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        lambda release: exports.release_xlsx(exports.release_data(release)),
    ),
    "league-table.json": (
        "application/json",
        lambda release: exports.release_json(exports.release_data(release)).encode("utf-8"),
    ),
    "metadata.json": (
        "application/json",
        lambda release: exports.metadata_json(exports.release_data(release)).encode("utf-8"),
    ),
}


def attachment_name(release: Release, filename: str, synthetic: bool = False) -> str:
    """The saved file's name: which table, which revision, and whether it holds synthetic
    values, so that even NHS England's league-table CSV, which has nowhere inside to say so,
    is not taken for real data once saved."""
    stem, _, extension = filename.rpartition(".")
    revision = f"-revision-{release.revision}" if release.revision > 1 else ""
    marked = "-synthetic" if synthetic else ""
    return f"{release.peer_group.slug}-{release.quarter.slug}{revision}-{stem}{marked}.{extension}"


@read_only
@cached_public
def download(
    request: HttpRequest,
    peer_group: str,
    quarter: str,
    filename: str,
    revision: int | None = None,
) -> HttpResponse:
    if filename not in FORMATS:
        raise Http404("No such download.")
    try:
        release = selectors.release_at(peer_group, quarter, revision)
    except selectors.ReleaseWithdrawn as withdrawn:
        notice = withdrawn.release
        return HttpResponse(
            f"{notice} was withdrawn and its data are no longer available.\n"
            f"Reason: {notice.withdrawal_reason}\n",
            status=410,
            content_type="text/plain; charset=utf-8",
        )
    content_type, build = FORMATS[filename]
    response = HttpResponse(build(release), content_type=content_type)
    name = attachment_name(release, filename, synthetic_values(release).release)
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Link"] = (
        "<https://www.nationalarchives.gov.uk/doc/open-government-licence/version/3/>; "
        'rel="license"'
    )
    return response
