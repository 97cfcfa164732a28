"""kombu's filesystem transport with atomic writes.

kombu creates a message file and only then writes into it; a worker polling
the folder can move and read the file in between, get an empty payload and
stop with a JSONDecodeError. Here a message is written under a name no reader
picks up (it does not end in ".msg") and renamed into place when complete.
"""

import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.encoding import str_to_bytes
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue: str, payload: dict, **kwargs: object) -> None:
        name = f"{round(monotonic() * 1000)}_{uuid.uuid4()}.{queue}.msg"
        final = os.path.join(self.data_folder_out, name)
        partial = final + ".part"
        try:
            with open(partial, "wb") as f:
                f.write(str_to_bytes(dumps(payload)))
            os.replace(partial, final)
        except OSError as exc:
            raise ChannelError(f"Cannot add file {final!r} to directory") from exc


# The worker's loop checks for a shutdown between waits for a message; it asks to
# wait 2 s, which made a stop (Ctrl-C under make run) take longer than honcho allows.
MAX_WAIT_SECONDS = 0.25


class Transport(filesystem.Transport):
    Channel = Channel

    def drain_events(self, connection: object, timeout: float | None = None) -> None:
        if timeout is not None:
            timeout = min(timeout, MAX_WAIT_SECONDS)
        return super().drain_events(connection, timeout=timeout)

    @property
    def default_connection_params(self) -> dict:
        # A folder has no host: without this, kombu warns "No hostname was supplied.
        # Reverting to default 'localhost'" for a plain filesystem:// URL, each time
        # a process connects.
        return {}
