"""Pages and the API list cost the same number of queries with 10 trusts as with 200."""

import pytest
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext

from metrics.models import Observation
from releases.models import TrustResult
from tests.factories import computed_release, make_trusts, quarter
from tests.public.conftest import publish

pytestmark = pytest.mark.django_db


def queries_for(client, url: str) -> int:
    cache.clear()  # measure the work, not the cache
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200, url
    return len(captured)


def test_query_counts_do_not_grow_with_the_number_of_trusts(client):
    small = publish(computed_release(trust_count=10, quarter_number=4, replicates=50))
    small_trust = TrustResult.objects.filter(release=small).select_related("trust").first().trust

    # 190 more trusts, reporting only in Q3: a 200-trust table whose trusts are not in Q4.
    make_trusts(190, prefix="U")
    q3 = quarter(3)
    assert not Observation.objects.filter(quarter=q3).exists()
    large = computed_release(trust_count=200, quarter_number=3, replicates=50)
    assert large.trust_results.count() == 200
    large_trust = (
        TrustResult.objects.filter(release=large, trust__ods_code__startswith="U")
        .select_related("trust")
        .first()
        .trust
    )

    def measure(release, trust) -> tuple[int, ...]:
        return (
            queries_for(client, release.get_absolute_url()),
            queries_for(client, release.get_absolute_url() + "?region=london&sort=-average"),
            queries_for(client, trust.get_absolute_url()),
            queries_for(client, f"/api/v1/releases/{release.pk}/rows/?limit=500"),
        )

    # Each measured while it is the only published table, so both take the same paths.
    with_10 = measure(small, small_trust)
    with_200 = measure(publish(large), large_trust)
    assert with_10 == with_200
    assert max(with_10) <= 16, with_10
