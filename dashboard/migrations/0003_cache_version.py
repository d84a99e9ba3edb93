from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ("dashboard", "0002_cache_bypass_per_scope"),
    ]

    operations = [
        migrations.CreateModel(
            name="CacheVersion",
            fields=[
                ("scope", models.CharField(max_length=32, primary_key=True, serialize=False)),
                ("version", models.BigIntegerField()),
            ],
        ),
    ]
