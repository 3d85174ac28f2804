from django import forms

CANCEL_REASONS = [
    ("Changed my mind", "I changed my mind"),
    ("Ordered by mistake", "I ordered by mistake"),
    ("Found it cheaper elsewhere", "I found it cheaper elsewhere"),
    ("Delivery takes too long", "Delivery takes too long"),
    ("Other", "Other"),
]


class CustomerCancelForm(forms.Form):
    reason = forms.ChoiceField(choices=CANCEL_REASONS, initial="Changed my mind", label="Why are you cancelling?")

    def reason_text(self) -> str:
        return f"Cancelled by the customer: {self.cleaned_data['reason']}"


class ReturnForm(forms.Form):
    lines = forms.MultipleChoiceField(widget=forms.CheckboxSelectMultiple, label="Items to return",
                                      error_messages={"required": "Choose at least one item to return."})
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 2}), label="Why are you returning them?",
                             error_messages={"required": "Tell the shop why you are returning the items."})

    def __init__(self, *args, returnable: list[tuple[int, str]], **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["lines"].choices = [(str(pk), label) for pk, label in returnable]

    def line_ids(self) -> list[int]:
        return [int(x) for x in self.cleaned_data["lines"]]
