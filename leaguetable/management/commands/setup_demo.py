"""Everything `make run` needs after migrating: real data, demo values, accounts, releases.

Running it again is quick and loses nothing: files already imported (same checksum) are
skipped, existing accounts are kept, and releases whose inputs are unchanged are not recomputed.
"""

import secrets
from pathlib import Path
from typing import Any

from django.apps import apps
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandParser
from django.test.utils import override_settings

from leaguetable import roles
from metrics import input_locks
from metrics.default_frameworks import install_domain_thresholds
from metrics.imports.ae import import_ae
from metrics.imports.base import file_checksum
from metrics.imports.complaints import import_complaints
from metrics.imports.nof import import_nof
from metrics.imports.register import import_trusts
from metrics.imports.survey import import_patient_survey
from metrics.models import ImportRun, Observation, Quarter
from metrics.synthetic import load_synthetic_values
from releases.models import Release
from releases.services import computation, lifecycle
from releases.services.drafts import draft_release
from trusts.models import BoardMembership, PeerGroup, Trust

DATA = Path(settings.BASE_DIR) / "data" / "nhs"
DEMO_BOARD_TRUST = "RYY"  # Kent Community Health NHS Foundation Trust

# Left awaiting the approver's decision, so the admin opens on a real to-do item.
DEMO_AWAITING_APPROVAL = ("ambulance", 4)

DEMO_ACCOUNTS = [
    ("analyst", roles.ANALYST, "Regulator analyst (prepares and submits releases)"),
    ("approver", roles.APPROVER, "Regulator approver (approves and publishes)"),
    ("board", roles.BOARD_MEMBER, f"Trust board member of {DEMO_BOARD_TRUST}"),
]


class Command(BaseCommand):
    help = "Load the real NHS data, synthetic demo values and demo accounts; compute releases."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--no-compute", action="store_true")

    def handle(self, *args: Any, **options: Any) -> None:
        self.load(DATA / "eric-2024-25-trust-data.csv", import_trusts)
        self.load(DATA / "nof-2025-26-mental-health-community-trust-data.csv", import_nof)
        self.load(DATA / "ae-monthly-sitrep-2026-05.csv", import_ae)
        self.load(DATA / "ko41a-written-complaints-2024-25-org-level.csv", import_complaints)
        self.load(
            DATA / "cqc-adult-inpatient-survey-2022-trust-benchmark.ods", import_patient_survey
        )
        if not Observation.objects.filter(is_synthetic=True).exists():
            self.stdout.write(str(load_synthetic_values()))
        self.create_accounts()
        domain_thresholds = install_domain_thresholds(apps, _fixed_by_a_release)
        if domain_thresholds:
            self.stdout.write(
                f"Domain thresholds: {domain_thresholds} set (MH&C: reproducing NHS England's "
                "published domain segments; acute and ambulance: quartiles)"
            )
        if not options["no_compute"]:
            # The demo's own notifications would bury the logins printed below.
            with override_settings(EMAIL_BACKEND="django.core.mail.backends.locmem.EmailBackend"):
                # Quarter by quarter, so each table's movement is against a published one.
                for quarter in Quarter.objects.filter(frameworks__isnull=False).distinct():
                    self.compute_releases(quarter)
                    self.publish_releases(quarter)
        self.print_accounts()

    def load(self, path: Path, importer: Any) -> None:
        checksum = file_checksum(path)
        if ImportRun.objects.filter(checksum=checksum, status=ImportRun.Status.IMPORTED).exists():
            self.stdout.write(f"{path.name}: already imported")
            return
        self.stdout.write(str(importer(path)))

    def create_accounts(self) -> None:
        User = get_user_model()
        created = self.created_accounts = []
        for username, role, description in DEMO_ACCOUNTS:
            existing = User.objects.filter(username=username).first()
            if existing is not None:
                if role == roles.BOARD_MEMBER and existing.is_staff:
                    # Earlier demos made the board account staff; board members never are.
                    existing.is_staff = False
                    existing.save(update_fields=["is_staff"])
                continue
            password = secrets.token_urlsafe(12)
            user = User.objects.create_user(
                username=username,
                password=password,
                # Regulators work in the admin; a board member only in the trust area.
                is_staff=role != roles.BOARD_MEMBER,
                email=f"{username}@example.org",
            )
            user.groups.add(Group.objects.get(name=role))
            if role == roles.BOARD_MEMBER:
                BoardMembership.objects.create(
                    user=user,
                    trust=Trust.objects.get(ods_code=DEMO_BOARD_TRUST),
                    role_title="Chief executive",
                )
            created.append((username, password, description))

    def print_accounts(self) -> None:
        if not self.created_accounts:
            self.stdout.write(
                "Demo accounts already exist (their passwords were printed when they were "
                "created; reset one with `manage.py changepassword NAME`)."
            )
            return
        self.stdout.write(self.style.WARNING("\nDemo accounts (shown once, store them now):"))
        for username, password, description in self.created_accounts:
            self.stdout.write(f"  {username:10s} {password}   {description}")
        self.stdout.write("Regulators sign in at /admin/, the board member at /trust-area/.\n")

    def compute_releases(self, quarter: Quarter) -> None:
        for peer_group in PeerGroup.objects.filter(
            trusts__observations__quarter=quarter, frameworks__quarters=quarter
        ).distinct():
            latest = (
                Release.objects.filter(quarter=quarter, peer_group=peer_group)
                .order_by("-revision")
                .first()
            )
            if latest is not None and latest.status != Release.Status.DRAFT:
                continue
            release = draft_release(quarter, peer_group.slug)
            if not release.domain_thresholds:
                # A draft made before its framework's domain thresholds were set takes them now.
                computation.apply_framework_domain_thresholds(release)
                release.save(update_fields=["domain_thresholds"])
            outcome = computation.compute(release.pk)
            self.stdout.write(f"{release}: {outcome}")

    def publish_releases(self, quarter: Quarter) -> None:
        """Take each computed demo release through maker-checker: the analyst submits, the
        approver approves and publishes; one is left awaiting approval."""
        User = get_user_model()
        analyst = User.objects.get(username="analyst")
        approver = User.objects.get(username="approver")
        drafts = (
            Release.objects.filter(
                quarter=quarter,
                status=Release.Status.DRAFT,
                computation=Release.Computation.COMPUTED,
                submitted_at__isnull=True,
                supersedes__isnull=True,
            )
            .select_related("quarter", "peer_group")
            .order_by("quarter__year_start", "quarter__number")
        )
        for release in drafts:
            release = lifecycle.submit(release, analyst, "Demo release prepared by make run.")
            if (release.peer_group.slug, release.quarter.number) == DEMO_AWAITING_APPROVAL:
                self.stdout.write(f"{release}: submitted, awaiting the approver")
                continue
            release = lifecycle.approve(release, approver, "Checked (demo).")
            release = lifecycle.publish_now(release, approver)
            self.stdout.write(f"{release}: published")


def _fixed_by_a_release(framework: Any, quarter: Any) -> bool:
    return bool(input_locks.releases_fixing_thresholds(framework.pk, quarter.pk))
