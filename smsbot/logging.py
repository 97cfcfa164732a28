"""A logging filter that masks phone numbers and removes secrets from every record."""

import logging

from smsbot.redaction import redact, redact_data


class RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        # Render once, then redact the final text, so neither the format string
        # nor its arguments can leak a number or a token.
        try:
            message = record.getMessage()
        except Exception:  # noqa: BLE001 - a broken format must not drop the record
            message = str(record.msg)
        record.msg = redact(message)
        record.args = ()
        for key, value in list(record.__dict__.items()):
            if key not in _STANDARD_ATTRS and isinstance(value, str | dict | list):
                setattr(record, key, redact_data(value))
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            # Formatters render exc_info themselves; only the redacted text may remain.
            record.exc_text = redact(record.exc_text)
            record.exc_info = None
        return True


_STANDARD_ATTRS = set(vars(logging.LogRecord("", 0, "", 0, "", (), None))) | {"message", "asctime"}
