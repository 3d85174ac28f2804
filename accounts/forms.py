from django import forms
from django.contrib.auth.forms import UserCreationForm
from django.utils.translation import gettext_lazy as _
from phonenumber_field.formfields import PhoneNumberField

from .models import User


class SignupForm(UserCreationForm):
    email = forms.EmailField(help_text=_("Order updates and receipts go here."))
    phone = PhoneNumberField(required=False, help_text=_("For SMS order updates, e.g. +447911123456."),
                             widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email", "phone")

    def clean_email(self):
        # Whether the address has an account is not said here (that would tell anyone who has one):
        # accounts.signup emails the owner instead.
        return self.cleaned_data["email"].strip()

    def validate_unique(self):
        """The model's unique email check would say the address has an account: leave it to
        accounts.signup (which emails the owner); usernames are still checked here."""
        exclude = self._get_validation_exclusions()
        exclude.add("email")
        try:
            self.instance.validate_unique(exclude=exclude)
        except forms.ValidationError as exc:
            self._update_errors(exc)
