"""The account's SES sending rate, for the send-rate limiter.

sesv2 GetAccount's SendQuota.MaxSendRate is how many e-mails a second SES takes
from this account (1 in the sandbox); read once an hour. When SES cannot be
asked, SANDBOX_RATE: slow, but never above what any account allows.
"""

import logging

from botocore.exceptions import BotoCoreError, ClientError
from django.core.cache import cache

from smsbot import aws

log = logging.getLogger(__name__)

# Provider.SES, named here without importing models: the rate limiter is imported by
# processes before Django is set up.
SES = "ses"
SANDBOX_RATE = 1.0
CACHE_KEY = "ses:max-send-rate"
CACHE_SECONDS = 3600


def max_send_rate() -> float:
    rate = cache.get(CACHE_KEY)
    if rate is None:
        try:
            quota = aws.client("sesv2").get_account().get("SendQuota", {})
            rate = float(quota.get("MaxSendRate") or SANDBOX_RATE)
        except (BotoCoreError, ClientError) as exc:
            log.warning("could not read the SES sending rate (%s); using %s/s", exc, SANDBOX_RATE)
            rate = SANDBOX_RATE
        cache.set(CACHE_KEY, rate, CACHE_SECONDS)
    return rate
