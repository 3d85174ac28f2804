from django import forms
from django.contrib.auth.forms import UserCreationForm
from phonenumber_field.formfields import PhoneNumberField

from .models import User


class SignupForm(UserCreationForm):
    email = forms.EmailField(help_text="Order updates and receipts go here.")
    phone = PhoneNumberField(required=False, help_text="For SMS order updates, e.g. +447911123456.",
                             widget=forms.TextInput(attrs={"type": "tel", "autocomplete": "tel"}))

    class Meta(UserCreationForm.Meta):
        model = User
        fields = ("username", "email", "phone")

    def clean_email(self):
        email = self.cleaned_data["email"].strip()
        if User.objects.filter(email__iexact=email).exists():
            raise forms.ValidationError("An account with this email already exists. Log in instead.")
        return email
