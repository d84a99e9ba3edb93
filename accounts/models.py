from django.db import models

# Long enough for any IPv6 text form (an IPv4-mapped one included).
ADDRESS_LENGTH = 45
USERNAME_LENGTH = 150  # django.contrib.auth's User.username


class LoginFailure(models.Model):
    """One failed login: the username tried, the client address, when.

    Only the throttling window's rows matter (accounts/throttling.py); older
    ones are deleted as new failures arrive.
    """

    username = models.CharField(max_length=USERNAME_LENGTH)
    address = models.CharField(max_length=ADDRESS_LENGTH)
    at = models.DateTimeField()

    class Meta:
        indexes = [
            # The pair rule counts (address, username) in the window; the
            # address rule counts the address's rows, a prefix of the same
            # index (few: recording stops once the address is locked).
            models.Index(fields=["address", "username", "at"], name="login_failure_pair"),
            # Pruning: everything older than the window.
            models.Index(fields=["at"], name="login_failure_at"),
        ]

    def __str__(self):
        return f"{self.username!r} from {self.address} at {self.at.isoformat()}"


class LoginLockout(models.Model):
    """Logins refused until `until`: for one username from one address, or
    (username None) for every username from the address."""

    # None, not "": an empty username is a username like any other.
    username = models.CharField(max_length=USERNAME_LENGTH, null=True, blank=True)  # noqa: DJ001
    address = models.CharField(max_length=ADDRESS_LENGTH)
    started_at = models.DateTimeField()
    until = models.DateTimeField()
    failures = models.PositiveIntegerField(help_text="Failures counted when the lockout began.")

    class Meta:
        # Checked before every login: the address's lockouts still running.
        indexes = [models.Index(fields=["address", "until"], name="login_lockout_address")]
        ordering = ["-started_at"]

    def __str__(self):
        who = "every username" if self.username is None else repr(self.username)
        return f"{who} from {self.address} until {self.until.isoformat()}"

    @property
    def covers_address(self):
        return self.username is None
