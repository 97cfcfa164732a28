from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("messaging", "0012_reply_mutes")]

    operations = [
        migrations.AddField(
            model_name="broadcast",
            name="fanout_moved_at",
            field=models.DateTimeField(blank=True, null=True),
        ),
    ]
