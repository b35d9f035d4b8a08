"""Dataset loaders with offline defaults and clear errors."""
from zoo.data.errors import DataNotFoundError

__all__ = ["DataNotFoundError"]
