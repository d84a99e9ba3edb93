from django.db import migrations, models


def forget_whole_cache_bypasses(apps, schema_editor):
    # The single row bypassed every dashboard. It guarded entries under the
    # versioned keys, which this release never reads: nothing left to bypass.
    apps.get_model("dashboard", "CacheBypass").objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("dashboard", "0001_cache_bypass"),
    ]

    operations = [
        migrations.RunPython(forget_whole_cache_bypasses, migrations.RunPython.noop),
        migrations.AddField(
            model_name="cachebypass",
            name="scope",
            field=models.CharField(default="", max_length=32, unique=True),
            preserve_default=False,
        ),
    ]
