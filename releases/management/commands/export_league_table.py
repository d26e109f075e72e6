from releases.management.release_file import ReleaseFileCommand
from releases.models import Release
from releases.selectors import league_table_csv


class Command(ReleaseFileCommand):
    help = (
        "Write a release as NHS England's league-table CSV: the current published revision "
        "when there is one, otherwise the latest computation."
    )

    def render(self, release: Release) -> str:
        return league_table_csv(release)
