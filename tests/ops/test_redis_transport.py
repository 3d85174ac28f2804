"""notify_site.broker.RedisTransport: kombu's Redis transport with one redis-py client per channel."""
import uuid

import pytest
from kombu import Connection, Exchange, Queue

from notify_site.broker import RedisChannel, RedisTransport
from tests.services import redis_url


def test_redis_urls_use_the_shared_client_transport():
    import notify_site.celery  # noqa: F401  (registers the aliases)

    for url in ("redis://127.0.0.1:6379/15", "rediss://127.0.0.1:6380/0"):
        assert Connection(url).get_transport_cls() is RedisTransport


@pytest.mark.services
def test_publishing_and_acking_reuse_one_client_and_every_message_arrives():
    url = redis_url()
    queue = Queue(f"test-transport-{uuid.uuid4().hex[:8]}", Exchange("", type="direct"), routing_key=None)
    with Connection(url) as conn:
        channel = conn.default_channel
        assert isinstance(channel, RedisChannel)
        clients = []
        with conn.Producer() as producer:
            for i in range(20):
                producer.publish({"n": i}, routing_key=queue.name, declare=[queue])
                clients.append(channel._create_client())
        assert all(c is clients[0] for c in clients)  # one client for every publish (stock kombu makes one each time)
        received = []
        with conn.Consumer(queue, callbacks=[lambda body, message: (received.append(body["n"]), message.ack())]):
            while len(received) < 20:
                conn.drain_events(timeout=5)
        assert sorted(received) == list(range(20))
        queue(channel).delete()
