from django import forms
from django.core.validators import MaxValueValidator, MinValueValidator
from django.utils import timezone

from leads.models import FIRST_DAY, LAST_DAY


class DashboardForm(forms.Form):
    """The dashboard's query string: `date`, `user`, `page` and `team_page`.

    Cleaned values: `date` (a date, default today in TIME_ZONE), `user` (None
    for the team view, else {"id", "username"} of the user whose leads are
    shown), `page` (the due list's page, an int, default 1) and `team_page`
    (the HTML page's team table page, an int, default 1).

    `active_users` ([{"id", "username"}]) are the users a manager may pick
    (besides their own id);
    pass None for anyone else, who always sees their own leads: their own id
    is accepted, any other id is an error with code "forbidden" (the views
    answer it with 403, not 400).
    """

    date = forms.DateField(
        required=False,
        input_formats=["%Y-%m-%d"],
        validators=[
            MinValueValidator(FIRST_DAY, message="Choose a day from 2000-01-01 to 2100-12-31."),
            MaxValueValidator(LAST_DAY, message="Choose a day from 2000-01-01 to 2100-12-31."),
        ],
        error_messages={"invalid": "Enter a real date as YYYY-MM-DD."},
    )
    user = forms.IntegerField(
        required=False, min_value=1, error_messages={"invalid": "Enter a user id."}
    )
    page = forms.IntegerField(
        required=False, min_value=1, error_messages={"invalid": "Enter a page number."}
    )

    team_page = forms.IntegerField(
        required=False, min_value=1, error_messages={"invalid": "Enter a page number."}
    )

    def __init__(self, data, *, viewer, active_users=None):
        super().__init__(data)
        self.viewer = viewer
        self.active_users = active_users

    def clean_date(self):
        return self.cleaned_data["date"] or timezone.localdate()

    def clean_page(self):
        return self.cleaned_data["page"] or 1

    def clean_team_page(self):
        return self.cleaned_data["team_page"] or 1

    def clean_user(self):
        user_id = self.cleaned_data["user"]
        if self.active_users is None:
            if user_id not in (None, self.viewer.pk):
                raise forms.ValidationError(
                    "You can only see your own dashboard.", code="forbidden"
                )
            return {"id": self.viewer.pk, "username": self.viewer.get_username()}
        if user_id is None:
            return None
        if self.viewer is not None and user_id == self.viewer.pk:  # not in the pick list
            return {"id": self.viewer.pk, "username": self.viewer.get_username()}
        for user in self.active_users:
            if user["id"] == user_id:
                return {"id": user["id"], "username": user["username"]}
        raise forms.ValidationError("Choose an active user.", code="invalid_choice")
