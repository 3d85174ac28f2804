"""kombu's filesystem transport (the embedded broker of `make run`), with atomic message files.

The stock transport creates the message file and then writes into it; a worker listing the
folder in between moves and reads an empty file and dies (JSONDecodeError: an unrecoverable
error for the consumer). Here each message is written to a temporary name the consumer ignores
and renamed into place, so a reader only ever sees whole messages.
"""
import os
import uuid
from time import monotonic

from kombu.exceptions import ChannelError
from kombu.transport import filesystem
from kombu.utils.json import dumps


class Channel(filesystem.Channel):
    def _put(self, queue, payload, **kwargs):
        filename = os.path.join(self.data_folder_out,
                                f"{int(round(monotonic() * 1000))}_{uuid.uuid4()}.{queue}.msg")
        partial = filename + ".part"  # not "<queue>.msg": _get skips it
        try:
            with open(partial, "wb", buffering=0) as f:
                f.write(dumps(payload).encode())
            os.replace(partial, filename)  # atomic on the same file system
        except OSError as exc:
            raise ChannelError(f"Cannot add file {filename!r} to directory") from exc


class FilesystemTransport(filesystem.Transport):
    Channel = Channel
