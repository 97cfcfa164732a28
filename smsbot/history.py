"""Versioned rows, kept by django-simple-history: one version per real change.

Used for what operators edit and may need to look back on or compare: the
daily content and the periodic tasks (the daily schedule). Beat saves its
periodic tasks after every run (last run time, run count); those saves, and
any save that changes nothing tracked, add no version.
"""

from typing import Any

from django.db import models
from simple_history.models import HistoricalRecords


class ChangesOnlyHistory(HistoricalRecords):
    def post_save(
        self, instance: models.Model, created: bool, using: str | None = None, **kwargs: Any
    ) -> None:
        if not created and self.unchanged(instance, using):
            return
        super().post_save(instance, created, using=using, **kwargs)

    def unchanged(self, instance: models.Model, using: str | None) -> bool:
        latest = getattr(instance, self.manager_name).using(using).first()
        return latest is not None and all(
            getattr(latest, field.attname) == getattr(instance, field.attname)
            for field in self.fields_included(instance)
        )
