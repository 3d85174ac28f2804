import re

import phonenumbers
from django import forms
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from orders.checkout import MAX_QUANTITY_PER_LINE
from orders.models import Order, Payment
from orders.payments import InvalidCardNumber, card_digits

COUNTRIES = [
    ("GB", "United Kingdom"), ("IE", "Ireland"), ("FR", "France"), ("DE", "Germany"), ("NL", "Netherlands"),
    ("BE", "Belgium"), ("ES", "Spain"), ("IT", "Italy"), ("PT", "Portugal"), ("AT", "Austria"),
    ("DK", "Denmark"), ("SE", "Sweden"), ("NO", "Norway"), ("FI", "Finland"), ("PL", "Poland"),
    ("CH", "Switzerland"), ("US", "United States"), ("CA", "Canada"), ("AU", "Australia"), ("NZ", "New Zealand"),
]
UK_POSTCODE = re.compile(r"^([A-Z]{1,2}[0-9][A-Z0-9]?) ?([0-9][A-Z]{2})$")
CARD_HELP = "Test gateway: 4242 4242 4242 4242 is accepted; a number ending in 0002 is declined."


class QuantityForm(forms.Form):
    quantity = forms.IntegerField(min_value=1, max_value=MAX_QUANTITY_PER_LINE, initial=1,
                                  widget=forms.NumberInput(attrs={"class": "qty", "inputmode": "numeric"}))


class CartUpdateForm(forms.Form):
    quantity = forms.IntegerField(min_value=0, max_value=MAX_QUANTITY_PER_LINE,
                                  help_text="0 removes the item.")


class BackInStockForm(forms.Form):
    email = forms.EmailField(label="Your email",
                             widget=forms.EmailInput(attrs={"autocomplete": "email", "placeholder": "you@example.com"}))


def _card_field():
    field = forms.CharField(
        label="Card number", required=False, max_length=23, help_text=CARD_HELP,
        widget=forms.TextInput(attrs={"inputmode": "numeric", "autocomplete": "cc-number",
                                      "placeholder": "4242 4242 4242 4242"}))
    field.required_when = "card"  # required for card payments: the form checks it, the label doesn't say optional
    return field


def _payment_field():
    choices = [(m.value, m.label) for m in (Payment.Method.CARD, Payment.Method.COD)]  # not "received by the store"
    return forms.ChoiceField(label="Pay by", choices=choices, initial=Payment.Method.CARD,
                             widget=forms.RadioSelect)


class _PaymentMixin:
    def clean_card_number_for(self, cleaned):
        if cleaned.get("payment_method") == Payment.Method.CARD:
            number = cleaned.get("card_number", "")
            if not number:
                self.add_error("card_number", "Enter your card number, or choose cash on delivery.")
            else:
                try:
                    cleaned["card_number"] = card_digits(number)
                except InvalidCardNumber as exc:
                    self.add_error("card_number", str(exc))
        else:
            cleaned["card_number"] = ""


class CheckoutForm(_PaymentMixin, forms.Form):
    email = forms.EmailField(help_text="Your receipt and order updates go here.",
                             widget=forms.EmailInput(attrs={"autocomplete": "email"}))
    name = forms.CharField(label="Full name", max_length=120, widget=forms.TextInput(attrs={"autocomplete": "name"}))
    line1 = forms.CharField(label="Address line 1", max_length=200,
                            widget=forms.TextInput(attrs={"autocomplete": "address-line1"}))
    line2 = forms.CharField(label="Address line 2", max_length=200, required=False,
                            widget=forms.TextInput(attrs={"autocomplete": "address-line2"}))
    city = forms.CharField(label="Town or city", max_length=100,
                           widget=forms.TextInput(attrs={"autocomplete": "address-level2"}))
    postcode = forms.CharField(max_length=20, widget=forms.TextInput(attrs={"autocomplete": "postal-code"}))
    country = forms.ChoiceField(choices=COUNTRIES, initial="GB",
                                widget=forms.Select(attrs={"autocomplete": "country"}))
    phone = PhoneNumberField(
        label="Mobile number", required=False, region="GB",
        help_text="Needed for SMS updates. UK numbers like 07911 123456 or international like +33 6 12 34 56 78.",
        widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))
    sms_opt_in = forms.BooleanField(label="Text me updates about this order (dispatch, delivery day)", required=False)
    whatsapp_opt_in = forms.BooleanField(label=_("Send me updates about this order on WhatsApp"), required=False)
    marketing_opt_in = forms.BooleanField(
        label="Email me offers and news from Notify Market", required=False, initial=False,
        help_text="Optional. You can unsubscribe from any marketing email in one click.")
    shipping_method = forms.ChoiceField(label="Delivery", choices=Order.ShippingMethod.choices,
                                        initial=Order.ShippingMethod.STANDARD, widget=forms.RadioSelect)
    payment_method = _payment_field()
    card_number = _card_field()

    def clean_postcode(self):
        return self.cleaned_data["postcode"].strip().upper()

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("country") == "GB" and cleaned.get("postcode"):
            match = UK_POSTCODE.match(cleaned["postcode"])
            if not match:
                self.add_error("postcode", "Enter a UK postcode such as SW1A 1AA.")
            else:
                cleaned["postcode"] = f"{match.group(1)} {match.group(2)}"
        phone = cleaned.get("phone")
        if cleaned.get("sms_opt_in"):
            if not phone:
                if "phone" not in self.errors:
                    self.add_error("phone", "Enter a mobile number to get SMS updates, or untick SMS updates.")
            elif phonenumbers.number_type(phone) not in (phonenumbers.PhoneNumberType.MOBILE,
                                                         phonenumbers.PhoneNumberType.FIXED_LINE_OR_MOBILE):
                self.add_error("phone", "SMS updates need a mobile number.")
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
