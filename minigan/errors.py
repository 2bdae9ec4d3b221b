"""The error a user's bad input raises, below every module that may raise it.

``OptionError``: a bad option value, config or argument; its message is ONE line naming the option, the value
and what is expected, and the command line turns it into exit status 2 with nothing written.
"""


class OptionError(ValueError):
    """A bad option value: the message names the option, the value and what is expected."""
