"""Issue 9, item 10: the embedded filesystem broker never hands a worker half a message."""
import json
import os

from kombu import Connection


def test_filesystem_broker_writes_whole_messages_atomically(tmp_path, monkeypatch):
    import notify_site  # noqa: F401  (registers the transport)
    from notify_site.broker import Channel

    seen = []
    real_replace = os.replace

    def spy(src, dst):
        # While the message is being written it is not under a name the consumer reads.
        assert not src.endswith(".msg") and dst.endswith(".msg")
        assert json.loads(open(src).read())
        seen.append(dst)
        real_replace(src, dst)

    monkeypatch.setattr(os, "replace", spy)
    options = {"data_folder_in": str(tmp_path), "data_folder_out": str(tmp_path), "store_processed": False,
               "control_folder": str(tmp_path / "control")}
    with Connection("filesystem://", transport_options=options) as conn:
        assert isinstance(conn.default_channel, Channel)
        queue = conn.SimpleQueue("demo")
        queue.put({"hello": "world"})
        assert queue.get(timeout=1).payload == {"hello": "world"}
        queue.close()
    assert seen and all(name.endswith(".demo.msg") for name in seen)
