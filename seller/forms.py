"""Forms for the seller's order actions, return handling and branding."""
from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from catalog.models import Store
from notify_site.text import validate_single_line
from orders.carriers import CARRIER_CHOICES

DATE_INPUT = forms.DateInput(attrs={"type": "date"})


class PlainLabels:
    """Labels without Django's trailing colon (the dashboards' style)."""

    def __init__(self, *args, **kwargs):
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)


class ReasonForm(PlainLabels, forms.Form):
    reason = forms.CharField(max_length=200, widget=forms.TextInput(attrs={"placeholder": "Reason"}),
                             error_messages={"required": "Give a reason: the customer sees it."})


class HoldForm(ReasonForm):
    reason = forms.CharField(max_length=200,
                             widget=forms.TextInput(attrs={"placeholder": "e.g. Waiting for stock / address check"}),
                             error_messages={"required": "Give a reason for the hold: the customer sees it."})


class CancelForm(ReasonForm):
    reason = forms.CharField(max_length=200,
                             widget=forms.TextInput(attrs={"placeholder": "e.g. Item discontinued"}),
                             error_messages={"required": "Give a reason for cancelling: the customer sees it."})


def _not_in_past(value):
    if value and value < timezone.localdate():
        raise forms.ValidationError("This date is in the past.")
    return value


class ShipForm(PlainLabels, forms.Form):
    carrier = forms.ChoiceField(choices=CARRIER_CHOICES, initial="royalmail")
    tracking_number = forms.CharField(max_length=64, error_messages={"required": "Enter the tracking number."})
    eta = forms.DateField(label="Estimated delivery", required=False, widget=DATE_INPUT)

    def clean_tracking_number(self):
        value = "".join(self.cleaned_data["tracking_number"].split())
        if len(value) < 4:
            raise forms.ValidationError("That tracking number looks too short.")
        return value

    def clean_eta(self):
        return _not_in_past(self.cleaned_data.get("eta"))

    @property
    def carrier_name(self) -> str:
        return dict(CARRIER_CHOICES).get(self.cleaned_data["carrier"], self.cleaned_data["carrier"])


class BackorderForm(PlainLabels, forms.Form):
    expected = forms.DateField(label="New expected date", widget=DATE_INPUT,
                               error_messages={"required": "Enter when the items are expected."})
    note = forms.CharField(max_length=200, required=False,
                           widget=forms.TextInput(attrs={"placeholder": "Optional note for the customer"}))

    def clean_expected(self):
        value = self.cleaned_data["expected"]
        if value <= timezone.localdate():
            raise forms.ValidationError("The expected date must be after today.")
        return value


class BrandingForm(PlainLabels, forms.ModelForm):
    class Meta:
        model = Store
        fields = ["sender_name", "accent_colour", "sign_off", "logo", "support_email", "return_address"]
        widgets = {"accent_colour": forms.TextInput(attrs={"type": "color"}),
                   "return_address": forms.Textarea(attrs={"rows": 3})}
        help_texts = {
            "sender_name": "Shown as the From name of your customers' emails.",
            "sign_off": "The last line of every customer email.",
            "logo": "PNG, JPEG or GIF, up to 1 MB. Shown at the top of your emails.",
            "return_address": "Where customers send returns. Approved returns carry it; needed to approve one.",
        }

    def clean_sender_name(self):
        value = self.cleaned_data.get("sender_name", "")
        validate_single_line(value)  # it becomes the From header
        return value

    def clean_logo(self):
        logo = self.cleaned_data.get("logo")
        if logo and hasattr(logo, "size") and logo.size > 1024 * 1024:
            raise forms.ValidationError("The logo must be 1 MB or smaller.")
        return logo


class MessageForm(PlainLabels, forms.Form):
    personal_note = forms.CharField(required=False, max_length=500, label="Personal note",
                                    widget=forms.Textarea(attrs={
                                        "rows": 4,
                                        "placeholder": "e.g. We pack every order by hand. Thank you for shopping small!"}))
    discount_code = forms.CharField(required=False, max_length=40, label="Discount code (optional)",
                                    widget=forms.TextInput(attrs={"placeholder": "e.g. THANKS10", "autocomplete": "off"}))


class RestockForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=100000, label="Units received")
    note = forms.CharField(required=False, max_length=200)


class StockEditForm(forms.Form):
    stock_on_hand = forms.IntegerField(min_value=-100000, max_value=1000000, label="Stock")
    low_stock_threshold = forms.IntegerField(min_value=0, max_value=10000, label="Alert at")
    restock_lead_days = forms.IntegerField(min_value=0, max_value=365, label="Lead time (days)")


class ProductUpdateForm(forms.Form):
    kind = forms.ChoiceField(choices=[("version", "New version"), ("material", "New material"),
                                      ("design", "New design"), ("other", "Other change")])
    note = forms.CharField(max_length=300, widget=forms.TextInput(attrs={"placeholder": "What changed, in a sentence"}))


WEEKDAYS = [(str(n), _(name)) for n, name in enumerate(("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"), start=1)]
TIME_INPUT = forms.TimeInput(attrs={"type": "time"}, format="%H:%M")


class ShippingDeadlineForm(PlainLabels, forms.ModelForm):
    """The store's shipping deadline and business calendar (orders.sla explains how hours count)."""

    working_days = forms.MultipleChoiceField(choices=WEEKDAYS, widget=forms.CheckboxSelectMultiple,
                                             error_messages={"required": _("Choose at least one day you ship on.")})

    class Meta:
        model = Store
        fields = ["sla_ship_within_hours", "sla_escalate_after_hours", "working_days", "opens_at", "closes_at",
                  "country", "time_zone", "closed_dates"]
        labels = {"sla_ship_within_hours": _("Ship within (business hours)"),
                  "sla_escalate_after_hours": _("Tell platform staff after (more business hours)"),
                  "opens_at": _("Shipping day starts"), "closes_at": _("Shipping day ends"),
                  "country": _("Country (public holidays)"), "time_zone": _("Time zone"),
                  "closed_dates": _("Extra closure days")}
        widgets = {"opens_at": TIME_INPUT, "closes_at": TIME_INPUT,
                   "closed_dates": forms.Textarea(attrs={"rows": 2, "placeholder": "2030-12-24\n2030-12-31"}),
                   "country": forms.TextInput(attrs={"maxlength": 10, "size": 7, "autocapitalize": "characters"})}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if not self.is_bound:
            self.initial["working_days"] = list(self.instance.working_days or "")

    def clean_working_days(self):
        return "".join(sorted(set(self.cleaned_data["working_days"])))

    def clean_country(self):
        from orders.sla import region_supported

        code = (self.cleaned_data["country"] or "").strip().upper()
        if not region_supported(code):
            raise forms.ValidationError(_("Unknown code: use a country such as GB, US or DE, or a region such as "
                                          "GB-ENG."))
        return code

    def clean_time_zone(self):
        import zoneinfo

        name = (self.cleaned_data["time_zone"] or "").strip()
        if name not in zoneinfo.available_timezones():
            raise forms.ValidationError(_("Use a time zone name such as Europe/London or America/New_York."))
        return name

    def clean_closed_dates(self):
        from orders.sla import parse_closed_dates

        dates, bad = parse_closed_dates(self.cleaned_data["closed_dates"])
        if bad:
            raise forms.ValidationError(_("Not a date (YYYY-MM-DD): %(dates)s.") % {"dates": ", ".join(bad[:3])})
        return "\n".join(d.isoformat() for d in sorted(dates))

    def clean(self):
        data = super().clean()
        opens, closes = data.get("opens_at"), data.get("closes_at")
        if opens and closes and closes <= opens:
            self.add_error("closes_at", _("The shipping day must end after it starts."))
        return data


class OrderMessageForm(PlainLabels, forms.Form):
    """A message about an order (the customer's question or the seller's message): plain text, no files."""

    body = forms.CharField(
        max_length=2000, min_length=2, label=_("Your message"), strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
        error_messages={"required": _("Write your message first."),
                        "min_length": _("Write your message first."),
                        "max_length": _("Keep it under %(limit_value)d characters.")})


class ShipmentUploadForm(PlainLabels, forms.Form):
    file = forms.FileField(label=_("CSV file"), error_messages={"required": _("Choose a CSV file to upload.")},
                           widget=forms.ClearableFileInput(attrs={"accept": ".csv,text/csv"}))

    def clean_file(self):
        from django.conf import settings

        upload = self.cleaned_data["file"]
        if upload.size > settings.SHIPMENT_UPLOAD_MAX_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(kb)s KB. Split it into smaller files.")
                % {"kb": settings.SHIPMENT_UPLOAD_MAX_BYTES // 1024})
        return upload


STATS_PRESETS = [("7", _("Last 7 days")), ("30", _("Last 30 days")), ("90", _("Last 90 days")),
                 ("365", _("Last 12 months"))]


class StatsFilterForm(PlainLabels, forms.Form):
    """The statistics page's date range (native date inputs, or a preset), bucket and filters."""

    preset = forms.ChoiceField(label=_("Range"), required=False, choices=[("", _("Custom"))] + STATS_PRESETS)
    start = forms.DateField(label=_("From"), required=False, widget=DATE_INPUT)
    end = forms.DateField(label=_("To"), required=False, widget=DATE_INPUT)
    bucket = forms.ChoiceField(label=_("Per"), required=False, choices=[("day", _("Day")), ("week", _("Week"))])
    channel = forms.ChoiceField(label=_("Channel"), required=False)
    event = forms.ChoiceField(label=_("Event"), required=False)

    def __init__(self, *args, **kwargs):
        from notifications.events import EVENTS, Channel

        super().__init__(*args, **kwargs)
        self.fields["channel"].choices = [("", _("All channels"))] + list(Channel.choices)
        self.fields["event"].choices = [("", _("All events"))] + [(code, e.label) for code, e in EVENTS.items()]

    def clean(self):
        import datetime

        from notifications.stats import MAX_RANGE_DAYS

        data = super().clean()
        today = timezone.localdate()
        preset = data.get("preset")
        if preset or not (data.get("start") or data.get("end")):
            days = int(preset or 30)
            data["start"], data["end"] = today - datetime.timedelta(days=days - 1), today
            data["preset"] = preset or "30"
        else:
            data["end"] = data.get("end") or today
            data["start"] = data.get("start") or data["end"] - datetime.timedelta(days=29)
        data["bucket"] = data.get("bucket") or ("week" if (data["end"] - data["start"]).days > 92 else "day")
        if data["start"] > data["end"]:
            self.add_error("end", _("The end date is before the start date."))
        elif (data["end"] - data["start"]).days >= MAX_RANGE_DAYS:
            self.add_error("start", _("Choose at most %(n)s days.") % {"n": MAX_RANGE_DAYS})
        return data
