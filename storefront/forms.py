import re

import phonenumbers
from django import forms
from django.conf import settings
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from orders.checkout import MAX_QUANTITY_PER_LINE
from orders.models import Order, Payment
from orders.payments import InvalidCardNumber, card_digits

COUNTRIES = [
    ("GB", _("United Kingdom")), ("IE", _("Ireland")), ("FR", _("France")), ("DE", _("Germany")),
    ("NL", _("Netherlands")), ("BE", _("Belgium")), ("ES", _("Spain")), ("IT", _("Italy")), ("PT", _("Portugal")),
    ("AT", _("Austria")), ("DK", _("Denmark")), ("SE", _("Sweden")), ("NO", _("Norway")), ("FI", _("Finland")),
    ("PL", _("Poland")), ("CH", _("Switzerland")), ("US", _("United States")), ("CA", _("Canada")),
    ("AU", _("Australia")), ("NZ", _("New Zealand")),
]
UK_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
CARD_HELP = _("Test gateway: 4242 4242 4242 4242 is accepted; a number ending in 0002 is declined.")


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY_PER_LINE, initial=1,
                                  widget=forms.NumberInput(attrs={"class": "qty", "inputmode": "numeric"}))


class CartUpdateForm(forms.Form):
    quantity = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY_PER_LINE,
                                  help_text=_("0 removes the item."))


class BackInStockForm(forms.Form):
    email = forms.EmailField(label=_("Your email"),
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "you@example.com"}))


def _card_field():
    field = forms.CharField(
        label=_("Card number"), required=False, max_length=23, help_text=CARD_HELP,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number",
                                      "placeholder": "4242 4242 4242 4242"}))
    field.required_when = "card"  # required for card payments: the form checks it, the label doesn't say optional
    return field


def _payment_field():
    choices = [(m.value, m.label) for m in (Payment.Method.CARD, Payment.Method.COD)]  # not "received by the store"
    return forms.ChoiceField(label=_("Pay by"), choices=choices, initial=Payment.Method.CARD,
                             widget=forms.RadioSelect)


HOSTED_CARD_LABEL = _("Card (you pay on Stripe's secure page)")


class _PaymentMixin:
    """Card or cash on delivery; with a hosted gateway (Stripe Checkout) no card number is asked here."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.setup_payment_fields()

    def setup_payment_fields(self):
        from orders.payments.hosted import card_is_hosted

        self.hosted = card_is_hosted()
        if self.hosted:
            field = self.fields["payment_method"]
            field.choices = [(v, HOSTED_CARD_LABEL if v == Payment.Method.CARD else label) for v, label in field.choices]

    def clean_card_number_for(self, cleaned):
        if getattr(self, "hosted", False):
            cleaned["card_number"] = ""
        elif cleaned.get("payment_method") == Payment.Method.CARD:
            number = cleaned.get("card_number", "")
            if not number:
                self.add_error("card_number", _("Enter your card number, or choose cash on delivery."))
            else:
                try:
                    cleaned["card_number"] = card_digits(number)
                except InvalidCardNumber as exc:
                    self.add_error("card_number", str(exc))
        else:
            cleaned["card_number"] = ""


class CheckoutForm(_PaymentMixin, forms.Form):
    email = forms.EmailField(label=_("Email"), help_text=_("Your receipt and order updates go here."),
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    name = forms.CharField(label=_("Full name"), max_length=120, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    line1 = forms.CharField(label=_("Address line 1"), max_length=200,
                            widget=forms.TextInput(attrs={"autocomplete": "address-line1"}))
    line2 = forms.CharField(label=_("Address line 2"), max_length=200, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "address-line2"}))
    city = forms.CharField(label=_("Town or city"), max_length=100,
                           widget=forms.TextInput(attrs={"autocomplete": "address-level2"}))
    postcode = forms.CharField(label=_("Postcode"), max_length=20, widget=forms.TextInput(attrs={"autocomplete": "postal-code"}))
    country = forms.ChoiceField(label=_("Country"), choices=COUNTRIES, initial="GB",
                                widget=forms.Select(attrs={"autocomplete": "country"}))
    phone = PhoneNumberField(
        label=_("Mobile number"), required=False, region="GB",
        help_text=_("Needed for SMS updates. UK numbers like 07911 123456 or international like +33 6 12 34 56 78."),
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
    sms_opt_in = forms.BooleanField(label=_("Text me updates about this order (dispatch, delivery day)"), required=False)
    whatsapp_opt_in = forms.BooleanField(label=_("Send me updates about this order on WhatsApp"), required=False)
    marketing_opt_in = forms.BooleanField(
        label=_("Email me offers and news from Notify Market"), required=False, initial=False,
        help_text=_("Optional. You can unsubscribe from any marketing email in one click."))
    shipping_method = forms.ChoiceField(label=_("Delivery"), choices=Order.ShippingMethod.choices,
                                        initial=Order.ShippingMethod.STANDARD, widget=forms.RadioSelect)
    payment_method = _payment_field()
    card_number = _card_field()
    # Preselected from the browser (Accept-Language, or the language already chosen on the site).
    language = forms.ChoiceField(label=_("Language for your messages"), choices=settings.LANGUAGES, required=False,
                                 help_text=_("Order updates by email and SMS are written in this language."))

    def clean_postcode(self):
        return self.cleaned_data["postcode"].strip().upper()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("country") == "GB" and cleaned.get("postcode"):
            match = UK_POSTCODE.match(cleaned["postcode"])
            if not match:
                self.add_error("postcode", _("Enter a UK postcode such as SW1A 1AA."))
            else:
                cleaned["postcode"] = f"{match.group(1)} {match.group(2)}"
        phone = cleaned.get("phone")
        if cleaned.get("sms_opt_in"):
            if not phone:
                if "phone" not in self.errors:
                    self.add_error("phone", _("Enter a mobile number to get SMS updates, or untick SMS updates."))
            elif phonenumbers.number_type(phone) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                         phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
                self.add_error("phone", _("SMS updates need a mobile number."))
        if cleaned.get("whatsapp_opt_in") and not phone and "phone" not in self.errors:
            self.add_error("phone", _("Enter a mobile number to get WhatsApp updates, or untick WhatsApp updates."))
        self.clean_card_number_for(cleaned)
        return cleaned

    def address(self) -> dict:
        return {key: self.cleaned_data[key] for key in ("name", "line1", "line2", "city", "postcode", "country")}

    def phone_e164(self) -> str:
        phone = self.cleaned_data.get("phone")
        return phone.as_e164 if phone else ""


class RetryPaymentForm(_PaymentMixin, forms.Form):
    payment_method = _payment_field()
    card_number = _card_field()

    def clean(self):
        cleaned = super().clean()
        self.clean_card_number_for(cleaned)
        return cleaned
