from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from seller.forms import PlainLabels

CANCEL_REASONS = [
    ("Changed my mind", "I changed my mind"),
    ("Ordered by mistake", "I ordered by mistake"),
    ("Found it cheaper elsewhere", "I found it cheaper elsewhere"),
    ("Delivery takes too long", "Delivery takes too long"),
    ("Other", "Other"),
]


class CustomerCancelForm(PlainLabels, forms.Form):
    reason = forms.ChoiceField(choices=CANCEL_REASONS, initial="Changed my mind", label=_("Why are you cancelling?"))

    def reason_text(self) -> str:
        # Just the reason: messages and the timeline say who cancelled ("Cancelled by you: …").
        return self.cleaned_data["reason"]


class FeedbackForm(PlainLabels, forms.Form):
    rating = forms.TypedChoiceField(choices=[(n, str(n)) for n in range(5, 0, -1)], coerce=int,
                                    widget=forms.RadioSelect, label=_("Your rating (5 is best)"),
                                    error_messages={"required": _("Choose a rating from 1 to 5.")})
    comment = forms.CharField(required=False, max_length=2000, label=_("Anything to tell the shop? (optional)"),
                              widget=forms.Textarea(attrs={"rows": 3}))


class ReturnForm(PlainLabels, forms.Form):
    lines = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label=_("Items to return"),
                                      error_messages={"required": _("Choose at least one item to return.")})
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}), label=_("Why are you returning them?"),
                             error_messages={"required": _("Tell the shop why you are returning the items.")})

    def __init__(self, *args, returnable: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = [(str(pk), label) for pk, label in returnable]

    def line_ids(self) -> list[int]:
        return [int(x) for x in self.cleaned_data["lines"]]


def _time_zone_choices():
    import zoneinfo

    zones = sorted(z for z in zoneinfo.available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/")))
    return [("UTC", "UTC")] + [(z, z.replace("_", " ")) for z in zones]


class ProfileForm(PlainLabels, forms.Form):
    """Phone, SMS opt-in, language, time zone and SMS quiet hours on the preferences page."""

    phone = PhoneNumberField(required=False, label=_("Mobile number"),
                             help_text=_("For SMS updates, in international format, e.g. +447911123456."),
                             widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
    sms_opt_in = forms.BooleanField(required=False, label=_("Send me order updates by SMS"))
    whatsapp_opt_in = forms.BooleanField(required=False, label=_("Send me order updates by WhatsApp"))
    language = forms.ChoiceField(choices=settings.LANGUAGES)
    time_zone = forms.ChoiceField(choices=_time_zone_choices, help_text=_("Times in messages and quiet hours use it."))
    quiet_enabled = forms.BooleanField(required=False, label=_("Hold optional SMS (shipping updates, offers) during quiet hours"))
    quiet_start = forms.TimeField(required=False, label=_("From"), widget=forms.TimeInput(attrs={"type": "time"}))
    quiet_end = forms.TimeField(required=False, label=_("Until"), widget=forms.TimeInput(attrs={"type": "time"}))

    def clean(self):
        data = super().clean()
        if data.get("sms_opt_in") and not data.get("phone"):
            self.add_error("phone", _("Add a mobile number to get SMS updates."))
        if data.get("whatsapp_opt_in") and not data.get("phone"):
            self.add_error("phone", _("Add a mobile number to get WhatsApp updates."))
        if data.get("quiet_enabled"):
            start, end = data.get("quiet_start"), data.get("quiet_end")
            if start is None or end is None:
                self.add_error("quiet_start", _("Give both a start and an end time for quiet hours."))
            elif start == end:
                self.add_error("quiet_end", _("Quiet hours need a start and end that differ."))
        return data
