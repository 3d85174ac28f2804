import pytest


@pytest.fixture
def memory_broker():
    """The Celery app on kombu's in-memory transport (reachable, measurable, private to the test)."""
    from notify_site.celery import app

    before = app.conf.broker_url
    app.conf.broker_url = "memory://"  # readiness and metrics open their own connections from it
    try:
        yield app
    finally:
        app.conf.broker_url = before
