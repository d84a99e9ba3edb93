from django.db import migrations

GROUP = "Telecallers"  # leads.people.TELECALLERS_GROUP, frozen here


def create_telecallers_group(apps, schema_editor):
    """The group of people who own leads, with today's telecallers in it:
    every user who is neither staff nor superuser."""
    Group = apps.get_model("auth", "Group")
    User = apps.get_model("auth", "User")
    group, _ = Group.objects.get_or_create(name=GROUP)
    telecallers = User.objects.filter(is_staff=False, is_superuser=False)
    group.user_set.add(*telecallers.values_list("pk", flat=True))


def remove_telecallers_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name=GROUP).delete()


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0009_not_closed_and_work_kind_indexes"),
        ("auth", "0012_alter_user_first_name_max_length"),
    ]

    operations = [migrations.RunPython(create_telecallers_group, remove_telecallers_group)]
