from django.db import migrations

# What a manager needs in the admin to unlock a user: see the lockouts and
# lift them ("Unlock" asks for the delete permission).
MANAGER_PERMISSIONS = {
    "view_loginlockout": "Can view login lockout",
    "delete_loginlockout": "Can delete login lockout",
}


def _permissions(apps):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    # Permissions are normally created after migrate; the group needs them now.
    lockout_type, _ = ContentType.objects.get_or_create(app_label="accounts", model="loginlockout")
    return [
        Permission.objects.get_or_create(
            content_type=lockout_type, codename=codename, defaults={"name": name}
        )[0]
        for codename, name in MANAGER_PERMISSIONS.items()
    ]


def grant_managers_unlock(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    group, _ = Group.objects.get_or_create(name="Managers")
    group.permissions.add(*_permissions(apps))


def revoke_managers_unlock(apps, schema_editor):
    Group = apps.get_model("auth", "Group")
    for group in Group.objects.filter(name="Managers"):
        group.permissions.remove(*_permissions(apps))


class Migration(migrations.Migration):
    dependencies = [
        ("accounts", "0001_login_throttling"),
        # The Managers group is created there.
        ("leads", "0003_managers_group"),
    ]

    operations = [migrations.RunPython(grant_managers_unlock, revoke_managers_unlock)]
