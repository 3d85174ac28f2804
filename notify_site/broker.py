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


# --- Redis: one client per channel --------------------------------------------------------------

from kombu.transport import redis as kombu_redis  # noqa: E402


class RedisChannel(kombu_redis.Channel):
    """kombu's Redis channel, reusing one redis-py client (over the channel's connection pool) for
    its plain commands instead of building one per command.

    Stock kombu builds a new ``redis.Redis`` for every publish and every ack (``conn_or_acquire``),
    and redis-py fills ~170 response callbacks into each new client: about a third of the CPU of
    publishing a task (bench/README.md). A redis-py client is safe to share: each command takes a
    connection from the pool and gives it back. The consumer's own (asynchronous) client is
    unchanged."""

    _shared_client = None

    def _create_client(self, asynchronous=False):
        if asynchronous:
            return super()._create_client(asynchronous=True)
        client = self._shared_client
        if client is None or client.connection_pool is not self.pool:
            client = self._shared_client = super()._create_client()
        return client


class RedisTransport(kombu_redis.Transport):
    Channel = RedisChannel
