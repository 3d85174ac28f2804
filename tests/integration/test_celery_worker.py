import pytest


@pytest.mark.services
def test_real_worker_runs_a_task_on_the_real_broker(celery_worker_process):
    app, queue = celery_worker_process
    result = app.send_task("notify_site.ping", args=["pong"], queue=queue)
    assert result.get(timeout=30) == "pong"
