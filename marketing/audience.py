"""Who a promotion goes to, as SQL the database runs a chunk at a time.

A customer is in the audience of a channel when their latest marketing consent record for that
channel (accounts.ConsentRecord, marketing_email / marketing_sms) is a grant, the account is
active and not deleted, they have an address on that channel, and the address is not on the
suppression list. An unsubscribe (link, RFC 8058 POST, STOP, the preference grid) is a newer
record that withdraws, so it takes the customer out without a separate list.

``insert_chunk`` writes one chunk's outbox rows with a single ``INSERT … SELECT … ON CONFLICT DO
NOTHING`` over a range of user ids: no row is built in Python, and the unique constraint
(event_key × address × channel = promotion × recipient × channel) makes a chunk that runs again
write nothing.
"""
from django.conf import settings
from django.db import connection

from accounts.models import ConsentRecord, User
from notifications.events import Audience, Category, Channel, SubjectKind
from notifications.models import Notification, Suppression

CONSENT_KIND = {Channel.EMAIL: ConsentRecord.Kind.MARKETING_EMAIL, Channel.SMS: ConsentRecord.Kind.MARKETING_SMS}
LEGAL_BASIS_PREFIX = {Channel.EMAIL: "consent: marketing email, record #", Channel.SMS: "consent: marketing SMS, record #"}
# Every promotion row's own context is {"shared": "promotion", "first_name": …}: a pointer to the
# promotion's one shared context (marketing.delivery fills in the rest when the row is sent).


def _t(model) -> str:
    return connection.ops.quote_name(model._meta.db_table)


def _address_sql(channel: str) -> str:
    return "LOWER(u.email)" if channel == Channel.EMAIL else "u.phone"


def _from_where(channel: str) -> str:
    """FROM/WHERE of the audience over ``u.id`` in (%s, %s]: params (kind, low, high, channel)."""
    users, consents, supp = _t(User), _t(ConsentRecord), _t(Suppression)
    latest = (f"SELECT c2.id, c2.granted FROM {consents} c2 WHERE c2.user_id = u.id AND c2.kind = %s"
              f" ORDER BY c2.created_at DESC, c2.id DESC LIMIT 1")
    if connection.vendor == "postgresql":
        # LATERAL: one index probe per user of the chunk (a join on the subquery's id would make the
        # planner hash the whole consent table for every chunk).
        joined = f"FROM {users} u CROSS JOIN LATERAL ({latest}) c"
    else:
        joined = f"FROM {users} u JOIN {consents} c ON c.id = (SELECT id FROM ({latest}))"
    return (
        f"{joined}"
        f" WHERE u.id > %s AND u.id <= %s AND u.is_active AND u.deleted_at IS NULL AND c.granted"
        f" AND {_address_sql(channel)} <> ''"
        f" AND NOT EXISTS (SELECT 1 FROM {supp} s WHERE s.channel = %s AND s.address = {_address_sql(channel)})"
    )


def _row_context_sql() -> str:
    name = "COALESCE(NULLIF(u.first_name, ''), u.username)"
    if connection.vendor == "postgresql":
        return f"jsonb_build_object('shared', 'promotion', 'first_name', {name})"
    return f"json_object('shared', 'promotion', 'first_name', {name})"


def withdrawn(notification_ids: list[int]) -> list[int]:
    """Of these promotion rows, the ones whose recipient's latest consent for the row's channel is
    no longer a grant (one query for a whole tick of the pump)."""
    from django.db.models import OuterRef, Q, Subquery

    def latest(kind):
        return Subquery(ConsentRecord.objects.filter(user_id=OuterRef("recipient_id"), kind=kind)
                        .order_by("-created_at", "-id").values("granted")[:1])

    rows = (Notification.objects.filter(pk__in=notification_ids)
            .annotate(email_ok=latest(CONSENT_KIND[Channel.EMAIL]), sms_ok=latest(CONSENT_KIND[Channel.SMS]))
            .filter(Q(channel=Channel.EMAIL) & ~Q(email_ok=True) | Q(channel=Channel.SMS) & ~Q(sms_ok=True)))
    return list(rows.values_list("id", flat=True))


def count(channel: str, low: int = 0, high: int | None = None) -> int:
    high = high if high is not None else 2 ** 62
    with connection.cursor() as cur:
        cur.execute(f"SELECT COUNT(*) {_from_where(channel)}", [CONSENT_KIND[channel], low, high, channel])
        return cur.fetchone()[0]


def insert_chunk(*, promotion, channel: str, low: int, high: int, now, parked_until) -> int:
    """Write the rows of users (low, high] on ``channel``; returns how many were new."""
    fields = [f for f in Notification._meta.concrete_fields if not f.primary_key]
    at = connection.ops.adapt_datetimefield_value
    exprs = {
        "event": ("%s", ["promotion.launched"]),
        "event_key": ("%s", [promotion.event_key]),
        "audience": ("%s", [Audience.CUSTOMER]),
        "recipient_id": ("u.id", []),
        "recipient_address": (_address_sql(channel), []),
        "channel": ("%s", [channel]),
        "category": ("%s", [Category.MARKETING]),
        "language": ("COALESCE(NULLIF(u.language, ''), %s)", [settings.LANGUAGE_CODE]),
        "status": ("%s", [Notification.Status.QUEUED]),
        "store_id": ("%s", [promotion.store_id]),
        "subject_type": ("%s", [SubjectKind.PROMOTION]),
        "subject_id": ("%s", [promotion.pk]),
        # The row's own context: the pointer to the shared one, and the first name (so delivery
        # needs no read of the user for an email).
        "context": (_row_context_sql(), []),
        "legal_basis": ("%s || CAST(c.id AS TEXT)", [LEGAL_BASIS_PREFIX[channel]]),
        # Parked: the pacing pump releases rows at the channel's rate (send_after = now).
        "send_after": ("%s", [at(parked_until)]),
        "created_at": ("%s", [at(now)]),
        "updated_at": ("%s", [at(now)]),
    }
    columns, select, params = [], [], []
    for f in fields:
        sql, p = exprs.get(f.attname, ("%s", [f.get_db_prep_save(f.get_default(), connection)]))
        columns.append(connection.ops.quote_name(f.column))
        select.append(sql)
        params.extend(p)
    sql = (f"INSERT INTO {_t(Notification)} ({', '.join(columns)}) SELECT {', '.join(select)} "
           f"{_from_where(channel)} ORDER BY u.id "
           f"ON CONFLICT (event_key, recipient_address, channel) DO NOTHING")
    params += [CONSENT_KIND[channel], low, high, channel]
    with connection.cursor() as cur:
        cur.execute(sql, params)
        return max(cur.rowcount, 0)
