from django.db import migrations


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    # Permissions are normally created after migrate; the group needs this one now.
    content_type, _ = ContentType.objects.get_or_create(app_label="leads", model="leadchange")
    permission, _ = Permission.objects.get_or_create(
        content_type=content_type, codename="view_leadchange",
        defaults={"name": "Can view lead change"})
    group, _ = Group.objects.get_or_create(name="Managers")
    group.permissions.add(permission)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    group = Group.objects.filter(name="Managers").first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(
            content_type__app_label="leads", codename="view_leadchange"))


class Migration(migrations.Migration):
    dependencies = [
        ("leads", "0014_lead_history"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
