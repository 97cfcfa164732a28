"""The portal's settings plus the inbound bench's floor view (bench/inbound_urls.py)."""

from smsbot.settings import *  # noqa: F403

ROOT_URLCONF = "bench.inbound_urls"
