from django.db import migrations

# Managers maintain the templates in admin and may look at the sends.
PERMISSIONS = {
    ("whatsapptemplate", "add_whatsapptemplate"): "Can add WhatsApp template",
    ("whatsapptemplate", "change_whatsapptemplate"): "Can change WhatsApp template",
    ("whatsapptemplate", "delete_whatsapptemplate"): "Can delete WhatsApp template",
    ("whatsapptemplate", "view_whatsapptemplate"): "Can view WhatsApp template",
    ("whatsappsend", "view_whatsappsend"): "Can view whatsapp send",
}


def grant(apps, schema_editor):
    ContentType = apps.get_model("contenttypes", "ContentType")
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    # Permissions are normally created after migrate; the group needs them now.
    permissions = []
    for (model, codename), name in PERMISSIONS.items():
        content_type, _ = ContentType.objects.get_or_create(app_label="whatsapp", model=model)
        permissions.append(Permission.objects.get_or_create(
            content_type=content_type, codename=codename, defaults={"name": name})[0])
    group, _ = Group.objects.get_or_create(name="Managers")
    group.permissions.add(*permissions)


def revoke(apps, schema_editor):
    Permission = apps.get_model("auth", "Permission")
    Group = apps.get_model("auth", "Group")
    group = Group.objects.filter(name="Managers").first()
    if group is not None:
        group.permissions.remove(*Permission.objects.filter(
            content_type__app_label="whatsapp",
            codename__in=[codename for _, codename in PERMISSIONS]))


class Migration(migrations.Migration):
    dependencies = [
        ("whatsapp", "0001_whatsapp_templates_and_sends"),
        ("leads", "0003_managers_group"),
        ("auth", "0012_alter_user_first_name_max_length"),
        ("contenttypes", "0002_remove_content_type_name"),
    ]

    operations = [migrations.RunPython(grant, revoke)]
