"""Reads for the customer's account pages (security activity)."""
from .models import AccountEvent, LoginActivity

RECENT_LOGINS = 20
RECENT_EVENTS = 20


def security_activity(*, user, current_session_key: str = "") -> dict:
    """Recent sign-ins (device, network, whether it is this browser, still signed in) and the
    account's security timeline. Two queries whatever the history."""
    logins = list(LoginActivity.objects.filter(user=user)
                  .only("id", "created_at", "ip_address", "device", "network", "succeeded", "new_device",
                        "session_key", "ended_at", "user_agent").order_by("-created_at", "-id")[:RECENT_LOGINS])
    rows = [{
        "at": lg.created_at, "ip": lg.ip_address or "unknown", "device": lg.device or "Unknown device",
        "network": lg.network, "succeeded": lg.succeeded, "new_device": lg.new_device,
        "current": bool(current_session_key) and lg.session_key == current_session_key,
        "signed_out": lg.ended_at is not None,
    } for lg in logins]
    events = list(AccountEvent.objects.filter(user=user).order_by("-created_at", "-id")[:RECENT_EVENTS])
    return {"logins": rows, "events": [{"at": e.created_at, "label": e.get_kind_display(), "ip": e.ip_address or "",
                                        "device": e.device, "detail": _detail(e)} for e in events]}


def _detail(event) -> str:
    data = event.data or {}
    if event.kind == AccountEvent.Kind.UNUSUAL_ORDER:
        return f"Order {data.get('order', '')}: " + "; ".join(data.get("reasons", []))
    if event.kind == AccountEvent.Kind.SIGNED_OUT_EVERYWHERE:
        return f"{data.get('sessions', 0)} session(s) ended"
    return data.get("reason", "")
