import pytest
from django.core import mail

from notifications.channels import sms as sms_channel


@pytest.fixture(autouse=True)
def _clean_outboxes():
    sms_channel.outbox.clear()
    mail.outbox = []
    yield
    sms_channel.outbox.clear()


@pytest.fixture
def sms_outbox():
    return sms_channel.outbox


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run the block as if its transaction committed: on_commit callbacks (delivery) execute."""
    return lambda: django_capture_on_commit_callbacks(execute=True)

