import pytest

from leads.models import LeadChange
from tests.factories import LeadFactory
from timeline.benchmark import lead_with_history
from timeline.selectors import lead_timeline

pytestmark = pytest.mark.django_db


def test_lead_with_history_gives_the_oldest_lead_its_events_once():
    first, _ = LeadFactory(), LeadFactory()
    lead, events = lead_with_history(events=90)
    assert lead == first
    # 30 of each kind on top of the creation.
    assert events == 91
    assert LeadChange.objects.filter(lead_id=lead.pk, kind="changed").count() == 30
    assert lead_with_history(events=90) == (first, 91)
    page, has_next = lead_timeline(lead, page=1)
    assert (len(page), has_next) == (50, True)
