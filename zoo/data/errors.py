"""The one error every loader raises when its data cannot be found."""


class DataNotFoundError(FileNotFoundError):
    """Raised with a message that says where we looked and how to get the data."""
