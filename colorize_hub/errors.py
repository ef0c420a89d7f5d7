"""The one error type users see for bad input, bad checkpoints and bad settings."""


class ColorizationError(ValueError):
    """Raised for input the library cannot colorize or load.

    The message always says what is wrong and what to do about it.
    """
