from django.db import migrations

MANAGER_PERMISSIONS = {
    "view_team_dashboard": "Can view the whole team's dashboard",
    "view_lead": "Can view lead",
    "change_lead": "Can change lead",
}


def create_managers_group(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    # Permissions are normally created after migrate; this group needs them now.
    lead_type, _ = ContentType.objects.get_or_create(app_label="leads", model="lead")
    permissions = [
        Permission.objects.get_or_create(
            content_type=lead_type, codename=codename, defaults={"name": name}
        )[0]
        for codename, name in MANAGER_PERMISSIONS.items()
    ]
    group, _ = Group.objects.get_or_create(name="Managers")
    group.permissions.add(*permissions)


def remove_managers_group(apps, schema_editor):
    apps.get_model("auth", "Group").objects.filter(name="Managers").delete()


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0002_dashboard_indexes"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(create_managers_group, remove_managers_group)]
