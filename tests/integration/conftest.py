"""A real Celery worker process on a real broker (Redis and RabbitMQ), sharing the test database."""
import uuid

import pytest
from django.conf import settings

from tests.services import broker_url, redis_url, require_postgres

from .workers import Worker, point_app_at


@pytest.fixture(params=["redis", "amqp"])
def celery_worker_process(request, transactional_db, tmp_path):
    """Start `celery worker` (2 prefork processes) on a private queue of each broker; yield (app, queue)."""
    require_postgres()
    broker = broker_url(request.param)
    results = redis_url()
    queue = f"test-{request.param}-{uuid.uuid4().hex[:8]}"
    worker = Worker(broker=broker, queue=queue, log_path=tmp_path / "worker.log",
                    env={"CELERY_RESULT_BACKEND": results})
    restore = point_app_at(broker, queue)
    from notify_site.celery import app

    app.conf.result_backend = results
    try:
        worker.start()
        yield app, queue
    finally:
        worker.stop()
        restore()
        app.conf.result_backend = settings.CELERY_RESULT_BACKEND
