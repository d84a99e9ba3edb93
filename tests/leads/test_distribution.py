from datetime import timedelta

import pytest
from django.contrib.auth.models import Group
from django.utils import timezone

from leads.distribution import (
    DistributionError,
    load_horizon,
    normalize_rule,
    open_loads,
    plan_owners,
)
from leads.models import LeadStatus, OwnerChange
from tests.factories import LeadFactory, ManagerFactory, UserFactory

pytestmark = pytest.mark.django_db


def _names(plan, users):
    by_id = {user.pk: user.username for user in users}
    return [by_id[pk] for pk in plan.owner_ids]


def test_normalize_rule_accepts_both_spellings_and_refuses_others():
    assert normalize_rule("round_robin") == "round-robin"
    assert normalize_rule("least-loaded") == "least-loaded"
    assert normalize_rule("user") == "manual"
    with pytest.raises(DistributionError, match="Unknown distribution rule 'random'"):
        normalize_rule("random")


def test_round_robin_turns_by_username_and_skips_inactive_and_non_members():
    a, b, c = UserFactory(username="a"), UserFactory(username="b"), UserFactory(username="c")
    gone = UserFactory(username="gone", is_active=False)
    boss = ManagerFactory(username="boss")
    outsider = UserFactory(username="outsider")
    outsider.groups.remove(Group.objects.get(name="Telecallers"))
    plan = plan_owners(5, rule="round-robin", users=[c, gone, a, boss, b, outsider])
    assert _names(plan, [a, b, c]) == ["a", "b", "c", "a", "b"]
    assert plan.skipped_users == ["boss", "gone", "outsider"]
    assert plan.left_over == 0


def test_round_robin_continues_after_the_last_receiver():
    a, b, c = UserFactory(username="a"), UserFactory(username="b"), UserFactory(username="c")
    lead = LeadFactory(creator=b)
    OwnerChange.objects.create(lead=lead, from_user=None, to_user=b, rule="round-robin")
    plan = plan_owners(4, rule="round-robin", users=[a, b, c])
    assert _names(plan, [a, b, c]) == ["c", "a", "b", "c"]


def test_everyone_who_can_own_leads_by_default():
    UserFactory(username="x", is_active=False)
    y = UserFactory(username="y")
    ManagerFactory(username="m")
    plan = plan_owners(2, rule="round-robin")
    assert plan.owner_ids == [y.pk, y.pk]


def test_nobody_eligible_is_an_error_naming_them():
    gone = UserFactory(username="gone", is_active=False)
    with pytest.raises(DistributionError, match=r"\(gone cannot own leads\)"):
        plan_owners(3, rule="round-robin", users=[gone])


def test_one_user_rule_needs_exactly_one_user():
    a, b = UserFactory(username="a"), UserFactory(username="b")
    with pytest.raises(DistributionError, match="exactly one user"):
        plan_owners(1, rule="manual", users=[a, b])
    assert plan_owners(2, rule="manual", users=[b]).owner_ids == [b.pk, b.pk]


def test_least_loaded_counts_open_leads_due_within_seven_days_and_breaks_ties_by_name():
    now = timezone.now()
    a, b, c = UserFactory(username="a"), UserFactory(username="b"), UserFactory(username="c")
    # a: overdue + unscheduled = 2; one beyond the horizon and one closed do not count.
    LeadFactory(creator=a, followup_date=now - timedelta(days=3))
    LeadFactory(creator=a, followup_date=None)
    LeadFactory(creator=a, followup_date=load_horizon() + timedelta(minutes=1))
    LeadFactory(creator=a, status=LeadStatus.COMPLETED, followup_date=now)
    # b: 1 due within the week (just before the horizon).
    LeadFactory(creator=b, followup_date=load_horizon() - timedelta(minutes=1))
    assert open_loads([a.pk, b.pk, c.pk]) == {a.pk: 2, b.pk: 1, c.pk: 0}
    plan = plan_owners(5, rule="least-loaded", users=[a, b, c])
    # c (0) -> b and c tie at 1: b by name -> c (2 vs b 2, a 2: a by name) ...
    assert _names(plan, [a, b, c]) == ["c", "b", "c", "a", "b"]


def test_daily_cap_counts_what_they_received_today_and_leaves_the_rest():
    a, b = UserFactory(username="a"), UserFactory(username="b")
    lead = LeadFactory(creator=a)
    OwnerChange.objects.create(lead=lead, to_user=a, rule="manual")
    # Yesterday's assignment does not count against today's cap.
    OwnerChange.objects.create(lead=lead, to_user=b, rule="manual",
                               changed_at=timezone.now() - timedelta(days=2))
    plan = plan_owners(6, rule="round-robin", users=[a, b], daily_cap=2)
    assert _names(plan, [a, b]) == ["a", "b", "b"]
    assert plan.left_over == 3
    least = plan_owners(6, rule="least-loaded", users=[a, b], daily_cap=2)
    assert sorted(_names(least, [a, b])) == ["a", "b", "b"]
    assert least.left_over == 3


def test_a_cap_below_one_is_refused():
    with pytest.raises(DistributionError, match="at least 1"):
        plan_owners(1, rule="round-robin", users=[UserFactory()], daily_cap=0)


def test_a_plan_takes_a_constant_number_of_statements(django_assert_max_num_queries):
    users = [UserFactory(username=f"u{n:02d}") for n in range(25)]
    with django_assert_max_num_queries(3):
        plan = plan_owners(10_000, rule="round-robin", users=users, daily_cap=1000)
    assert len(plan.owner_ids) == 10_000
    with django_assert_max_num_queries(3):
        plan = plan_owners(10_000, rule="least-loaded", users=users, daily_cap=1000)
    assert len(plan.owner_ids) == 10_000
