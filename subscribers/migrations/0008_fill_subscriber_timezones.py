"""Give every existing subscriber the timezone of its number, a batch at a time.

Not atomic: each batch commits on its own, so a large table is not held in one
transaction, and a migration stopped half-way resumes at the first row still
blank. The DynamoDB copies get the new attribute at the next write or
`sync_dynamodb`.
"""

from django.db import migrations

from subscribers.phones import timezone_for

BATCH = 1000


def fill(apps, schema_editor):
    Subscriber = apps.get_model("subscribers", "Subscriber")
    last = 0
    while True:
        batch = list(
            Subscriber.objects.filter(id__gt=last, timezone="").order_by("id").only("id", "phone")[
                :BATCH
            ]
        )
        if not batch:
            return
        for subscriber in batch:
            subscriber.timezone = timezone_for(subscriber.phone)
        Subscriber.objects.bulk_update(batch, ["timezone"])
        last = batch[-1].id


class Migration(migrations.Migration):
    atomic = False

    dependencies = [("subscribers", "0007_delivery_windows")]

    operations = [migrations.RunPython(fill, migrations.RunPython.noop)]
