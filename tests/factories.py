from datetime import timedelta

import factory
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group
from django.utils import timezone

from leads.models import FollowupSnapshot, Lead, LeadStatus, WorkedLead


class UserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = get_user_model()
        django_get_or_create = ("username",)
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"telecaller{n}")
    password = factory.django.Password("password")
    is_active = True

    class Params:
        staff = factory.Trait(is_staff=True)
        superuser = factory.Trait(is_staff=True, is_superuser=True)

    @factory.post_generation
    def telecallers_group(obj, create, extracted, **kwargs):
        # As migration 0010 did: users who are neither staff nor superuser own leads.
        if create and not (obj.is_staff or obj.is_superuser):
            obj.groups.add(Group.objects.get_or_create(name="Telecallers")[0])


class ManagerFactory(UserFactory):
    username = factory.Sequence(lambda n: f"manager{n}")
    is_staff = True

    @factory.post_generation
    def managers_group(obj, create, extracted, **kwargs):
        if create:
            obj.groups.add(Group.objects.get(name="Managers"))


class LeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Lead

    customer_name = factory.Sequence(lambda n: f"Customer {n}")
    mobile = factory.Sequence(lambda n: f"98{n:08d}")
    car_registration = factory.Sequence(lambda n: f"RJ14AB{n % 10000:04d}")
    status = LeadStatus.NEEDS_FOLLOWUP
    followup_date = factory.LazyFunction(lambda: timezone.now() + timedelta(days=1))
    creator = factory.SubFactory(UserFactory)

    class Params:
        no_followup = factory.Trait(followup_date=None)


class WorkedLeadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkedLead

    lead = factory.SubFactory(LeadFactory)
    user = factory.SelfAttribute("lead.creator")
    work_date = factory.LazyFunction(timezone.localdate)
    old_followup_date = factory.LazyFunction(timezone.now)
    new_followup_date = factory.LazyFunction(lambda: timezone.now() + timedelta(days=2))


class FollowupSnapshotFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = FollowupSnapshot

    user = factory.SubFactory(UserFactory)
    date = factory.LazyFunction(timezone.localdate)
    initial_count = 0


class CallLogFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = "calls.CallLog"

    lead = factory.SubFactory(LeadFactory)
    user = factory.LazyAttribute(lambda call: call.lead.creator)
    outcome = "no_answer"
    called_at = factory.LazyFunction(timezone.now)
