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


class OrderMessageForm(PlainLabels, forms.Form):
    """A message about an order (the customer's question or the seller's message): plain text, no files."""

    body = forms.CharField(
        max_length=2000, min_length=2, label=_("Your message"), strip=True,
        widget=forms.Textarea(attrs={"rows": 3, "maxlength": 2000}),
        error_messages={"required": _("Write your message first."),
                        "min_length": _("Write your message first."),
                        "max_length": _("Keep it under %(limit_value)d characters.")})
