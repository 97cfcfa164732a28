"""Every door of the admin, found on the admin site itself: pages and actions.

A door is a named URL of the admin site (its own pages, each ModelAdmin's
standard and custom views, reversed with a sample object where it needs one),
or an action a ModelAdmin offers. Nothing here is a hand-kept list: a view or
action added anywhere shows up.
"""

from dataclasses import dataclass
from typing import Any

from django.contrib import admin
from django.contrib.contenttypes.models import ContentType
from django.db import models
from django.urls import URLPattern, URLResolver, reverse

# Patterns Django adds without a name: a redirect to the change page and the
# catch-all that answers 404 (or the login page) for unknown admin URLs.
UNNAMED_BUILTINS = {"<path:object_id>/", "(?P<url>.*)$"}


@dataclass(frozen=True)
class Page:
    key: str  # the URL name, plus the app for app_list
    path: str
    model: type[models.Model] | None


@dataclass(frozen=True)
class Action:
    key: str  # "action:<app_label.Model>:<name>"
    model: type[models.Model]
    name: str


def _arguments(
    pattern: URLPattern,
    model: type[models.Model] | None,
    sample: Any,
    samples: dict[type[models.Model], models.Model] | None = None,
) -> tuple[list[Any], dict[str, Any]]:
    regex = pattern.pattern.regex
    named = set(regex.groupindex)
    values: dict[str, Any] = {}
    if sample is not None:
        values = {"object_id": sample.pk, "pk": sample.pk, "id": sample.pk}
    for name in named - set(values):
        # "<export_id>": the sample of the model whose name ends with "export".
        stem = name.removesuffix("_id")
        found = [s for m, s in (samples or {}).items() if m._meta.model_name.endswith(stem)]
        if len(found) == 1:
            values[name] = found[0].pk
    if "content_type_id" in named and sample is not None:
        values["content_type_id"] = ContentType.objects.get_for_model(model).pk
    positional: list[Any] = []
    unnamed = regex.groups - len(named)
    if unnamed:
        # django-simple-history's version page: (object id, version id).
        # The instance's own history manager: a version's pk is its history_id.
        versions = getattr(sample, model._meta.simple_history_manager_attribute)
        positional = [sample.pk, versions.latest("history_date").pk][:unnamed]
    return positional, {name: values[name] for name in named}


def pages(samples: dict[type[models.Model], models.Model]) -> list[Page]:
    site = admin.site
    found: list[Page] = []
    for pattern in site.get_urls():
        if isinstance(pattern, URLResolver):
            continue
        if pattern.name is None:
            assert str(pattern.pattern) in UNNAMED_BUILTINS, f"unnamed admin URL {pattern.pattern}"
        elif pattern.name == "app_list":
            for app_label in sorted({m._meta.app_label for m in site._registry}):
                path = reverse("admin:app_list", kwargs={"app_label": app_label})
                found.append(Page(f"app_list:{app_label}", path, None))
        elif pattern.name == "view_on_site":
            # Any object: "View on site" redirects to its get_absolute_url().
            model, sample = next(iter(samples.items()))
            _, kwargs = _arguments(pattern, model, sample)
            found.append(Page(pattern.name, reverse(f"admin:{pattern.name}", kwargs=kwargs), None))
        else:
            found.append(Page(pattern.name, reverse(f"admin:{pattern.name}"), None))
    for model, model_admin in site._registry.items():
        for pattern in model_admin.get_urls():
            if pattern.name is None:
                assert str(pattern.pattern) in UNNAMED_BUILTINS, (
                    f"{model._meta.label}: name the admin URL {pattern.pattern}"
                )
                continue
            regex = pattern.pattern.regex
            sample = samples[model] if regex.groups else None
            args, kwargs = _arguments(pattern, model, sample, samples)
            path = reverse(f"admin:{pattern.name}", args=args, kwargs=kwargs)
            found.append(Page(pattern.name, path, model))
    return found


def actions() -> list[Action]:
    found = []
    for model, model_admin in admin.site._registry.items():
        if model_admin.actions is None:
            continue  # actions turned off: a screen of its own, not a list
        for _func, name, _description in model_admin._get_base_actions():
            found.append(Action(f"action:{model._meta.label}:{name}", model, name))
    return found
