from releases.management.release_file import ReleaseFileCommand
from releases.models import Release
from releases.selectors import trust_data_csv


class Command(ReleaseFileCommand):
    help = (
        "Write a release as NHS England's trust data file (every metric's value and score, the "
        "domain scores and segments and the summary rows): the current published revision when "
        "there is one, otherwise the latest computation."
    )

    def render(self, release: Release) -> str:
        return trust_data_csv(release)
