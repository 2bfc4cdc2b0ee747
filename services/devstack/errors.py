"""The one error the harness raises, worded for the person who has to fix it."""


class HarnessError(RuntimeError):
    """A prerequisite is missing or a component did not come up; the message says which."""
