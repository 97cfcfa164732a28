"""The confirmation token: which stored file a preview may import, for whom, until when.

The preview page carries only this token. It is signed (django.core.signing,
with a salt per admin) and names the stored file, the file's own name, its
format and resource, the user who previewed it and the admin it belongs to;
redeem() refuses any token this user did not get from this admin's preview
within settings.IMPORT_CONFIRM_MINUTES.
"""

from dataclasses import asdict, dataclass

from django.conf import settings
from django.core import signing


class ImportTokenRefused(Exception):
    """The token cannot be used; the message says why, for the operator."""


@dataclass(frozen=True)
class StoredUpload:
    """A previewed file the portal stored, and what its confirmation needs to import it."""

    stored_name: str  # the random name in the private directory (smsbot.imports.files)
    original_name: str  # the name the operator's file had
    format: int  # index into the admin's import formats
    resource: int  # index into the admin's import resources


def _salt(admin_label: str) -> str:
    return f"smsbot.imports.confirm:{admin_label}"


def issue(upload: StoredUpload, user_id: int, admin_label: str) -> str:
    payload = {**asdict(upload), "user": user_id, "admin": admin_label}
    return signing.dumps(payload, salt=_salt(admin_label), compress=True)


def redeem(token: str, user_id: int, admin_label: str) -> StoredUpload:
    try:
        payload = signing.loads(
            token or "", salt=_salt(admin_label), max_age=settings.IMPORT_CONFIRM_MINUTES * 60
        )
    except signing.SignatureExpired as exc:
        raise ImportTokenRefused(
            f"This preview is older than {settings.IMPORT_CONFIRM_MINUTES} minutes. "
            "Upload the file again."
        ) from exc
    except signing.BadSignature as exc:
        raise ImportTokenRefused(
            "This confirmation does not come from a preview of this page. Upload the file again."
        ) from exc
    if payload.get("admin") != admin_label or payload.get("user") != user_id:
        raise ImportTokenRefused(
            "This preview was made by someone else. Upload the file yourself to import it."
        )
    try:
        return StoredUpload(
            stored_name=str(payload["stored_name"]),
            original_name=str(payload["original_name"]),
            format=int(payload["format"]),
            resource=int(payload["resource"]),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise ImportTokenRefused(
            "This confirmation is not complete. Upload the file again."
        ) from exc
