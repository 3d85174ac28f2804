"""Delivery statistics with charts: a seller's own store, and the whole platform for staff."""
import datetime

from django.contrib.admin.views.decorators import staff_member_required
from django.shortcuts import render
from django.utils import timezone
from django.views.decorators.http import require_GET

from notifications.stats import stats_report

from ..access import seller_required
from ..forms import StatsFilterForm


def _report_context(request, *, store) -> tuple[dict, int]:
    form = StatsFilterForm(request.GET or None)
    if form.is_bound and form.is_valid():
        data, status = form.cleaned_data, 200
        # Show the dates a preset stands for in the date inputs.
        form = StatsFilterForm(initial=data)
    else:
        # Unbound (first visit) or invalid: show the last 30 days, with the form's errors if any.
        today = timezone.localdate()
        data = {"start": today - datetime.timedelta(days=29), "end": today, "bucket": "day",
                "channel": "", "event": ""}
        status = 400 if form.is_bound else 200
        if not form.is_bound:
            form = StatsFilterForm(initial={**data, "preset": "30"})
    report = stats_report(store=store, start=data["start"], end=data["end"], channel=data.get("channel") or "",
                          event=data.get("event") or "", bucket=data.get("bucket") or "day")
    return {"form": form, "report": report, "range": data}, status


@require_GET
@seller_required
def statistics(request):
    context, status = _report_context(request, store=request.store)
    return render(request, "seller/statistics.html", {**context, "section": "statistics"}, status=status)


@require_GET
@staff_member_required
def platform_statistics(request):
    context, status = _report_context(request, store=None)
    return render(request, "stats/platform.html", context, status=status)
