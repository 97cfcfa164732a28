"""Prices per destination country, seeded with the prices every estimate used so far.

DevOps edit them in the admin (the "DevOps" group may add and change them; the
"Operations Manager" group may read them).
"""

from decimal import Decimal

from django.contrib.auth.management import create_permissions
from django.db import migrations, models

# (provider, channel, country, price, WhatsApp template price); "" = every other country.
SEED = [
    ("sns", "sms", "US", "0.00645", None),
    ("sns", "sms", "", "0.00645", None),
    ("twilio", "sms", "US", "0.0083", None),
    ("twilio", "sms", "", "0.0083", None),
    ("twilio", "whatsapp", "US", "0.005", "0.025"),
    ("twilio", "whatsapp", "", "0.005", "0.025"),
]
GRANTS = {"Operations Manager": ["view"], "DevOps": ["view", "add", "change"]}


def seed(apps, schema_editor):
    CountryPrice = apps.get_model("messaging", "CountryPrice")
    for provider, channel, country, price, template in SEED:
        CountryPrice.objects.get_or_create(
            provider=provider,
            channel=channel,
            country=country,
            defaults={
                "price_usd": Decimal(price),
                "template_price_usd": Decimal(template) if template else None,
            },
        )


def grant(apps, schema_editor):
    # Permissions are made after migrate by a post_migrate handler: make them now.
    config = apps.get_app_config("messaging")
    config.models_module = True
    create_permissions(config, apps=apps, verbosity=0)
    config.models_module = None
    Group = apps.get_model("auth", "Group")
    Permission = apps.get_model("auth", "Permission")
    for name, actions in GRANTS.items():
        group = Group.objects.filter(name=name).first()
        if group is None:
            continue
        for action in actions:
            group.permissions.add(
                Permission.objects.get(
                    content_type__app_label="messaging", codename=f"{action}_countryprice"
                )
            )


class Migration(migrations.Migration):

    dependencies = [
        ('messaging', '0006_local_time_waves'),
        ('subscribers', '0003_i3_groups'),
    ]

    operations = [
        migrations.CreateModel(
            name='CountryPrice',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('provider', models.CharField(choices=[('sns', 'AWS SNS'), ('twilio', 'Twilio')], max_length=10)),
                ('channel', models.CharField(choices=[('sms', 'SMS'), ('whatsapp', 'WhatsApp')], default='sms', max_length=10)),
                ('country', models.CharField(blank=True, help_text='ISO 3166 code of the destination (e.g. US, CA, GB); blank: every country without a row of its own.', max_length=2)),
                ('price_usd', models.DecimalField(decimal_places=5, help_text='Per SMS segment; for WhatsApp, per message inside the 24-hour window.', max_digits=10, verbose_name='price (USD)')),
                ('template_price_usd', models.DecimalField(blank=True, decimal_places=5, help_text='WhatsApp only: per approved-template message (outside the 24-hour window).', max_digits=10, null=True, verbose_name='template price (USD)')),
                ('updated_at', models.DateTimeField(auto_now=True)),
            ],
            options={
                'verbose_name': 'price per country',
                'verbose_name_plural': 'prices per country',
                'ordering': ['provider', 'channel', 'country'],
                'constraints': [models.UniqueConstraint(fields=('provider', 'channel', 'country'), name='countryprice_one_per_destination')],
            },
        ),
        migrations.RunPython(seed, migrations.RunPython.noop),
        migrations.RunPython(grant, migrations.RunPython.noop),
    ]
