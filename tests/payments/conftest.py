import pytest


@pytest.fixture
def commit(django_capture_on_commit_callbacks):
    """Run the block as if its transaction committed: on_commit callbacks (delivery) execute."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


@pytest.fixture(autouse=True)
def _fresh_caches():
    from accounts.dashboard.status_page import local_cache
    from notifications.rendering import DB_TEMPLATES

    local_cache.clear()
    DB_TEMPLATES.invalidate()
    yield
    local_cache.clear()
    DB_TEMPLATES.invalidate()
