class FileRefused(Exception):
    """The whole file is refused (nothing was stored); the message says why
    and what to do."""

    def __init__(self, message):
        super().__init__(message)
        self.message = message
