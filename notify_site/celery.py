import os

from celery import Celery

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "notify_site.settings.local")

app = Celery("notify_site")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@app.task(name="notify_site.ping")
def ping(value=None):
    """A no-op task: the liveness check and the benchmark baseline."""
    return value
