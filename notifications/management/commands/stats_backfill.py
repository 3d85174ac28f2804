"""Rebuild the delivery statistics rollup for a range of days (after a deploy, or for old data).

    manage.py stats_backfill                       # every day that has notifications
    manage.py stats_backfill --days 30             # the last 30 UTC days
    manage.py stats_backfill --start 2026-01-01 --end 2026-03-31
"""
import datetime
import time

from django.core.management.base import BaseCommand, CommandError
from django.db.models import Max, Min
from django.utils import timezone

from notifications.models import Notification
from notifications.stats import stats_rollup

UTC = datetime.timezone.utc


class Command(BaseCommand):
    help = "Rebuild the delivery statistics rollup (NotificationStatsDaily) for a range of UTC days."

    def add_arguments(self, parser):
        parser.add_argument("--start", type=datetime.date.fromisoformat, help="First day (YYYY-MM-DD).")
        parser.add_argument("--end", type=datetime.date.fromisoformat, help="Last day (YYYY-MM-DD), included.")
        parser.add_argument("--days", type=int, help="The last N days instead of --start/--end.")
        parser.add_argument("--chunk-days", type=int, default=7, help="Days rebuilt per transaction (default 7).")

    def handle(self, *args, start=None, end=None, days=None, chunk_days=7, **options):
        today = timezone.now().astimezone(UTC).date()
        if days:
            start, end = today - datetime.timedelta(days=days - 1), today
        elif not start or not end:
            bounds = Notification.objects.aggregate(first=Min("created_at"), last=Max("created_at"))
            if bounds["first"] is None:
                self.stdout.write("No notifications: nothing to roll up.")
                return
            start = start or bounds["first"].astimezone(UTC).date()
            end = end or bounds["last"].astimezone(UTC).date()
        if end < start:
            raise CommandError("--end is before --start.")
        began, rows, day = time.monotonic(), 0, start
        while day <= end:
            last = min(end, day + datetime.timedelta(days=max(1, chunk_days) - 1))
            rows += stats_rollup(start=day, end=last)
            self.stdout.write(f"  {day}..{last}: {rows} rows so far")
            day = last + datetime.timedelta(days=1)
        self.stdout.write(self.style.SUCCESS(
            f"Rolled up {start}..{end}: {rows} rows in {time.monotonic() - began:.1f} s."))
