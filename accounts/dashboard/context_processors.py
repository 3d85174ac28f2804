"""The header bell's unread count (base.html includes partials/bell.html for logged-in users)."""
from django.utils.functional import SimpleLazyObject


def inbox(request):
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def count():
        from notifications.selectors import unread_count

        return unread_count(user)

    # Lazy: the query runs only on pages that actually show the bell.
    return {"inbox_unread": SimpleLazyObject(count)}
