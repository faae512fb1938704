"""A Keras 3 experiment suite for controlled studies of training dynamics."""

__version__ = "0.1.0"


class SuiteError(Exception):
    """A user-facing error: the CLI prints its message on one line and exits with `exit_code`.

    Args:
        message: what went wrong and how to fix it.
        exit_code: process exit status. Defaults to `2`.
    """

    def __init__(self, message, exit_code=2):
        super().__init__(message)
        self.exit_code = exit_code
