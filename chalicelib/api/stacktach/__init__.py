"""The StackTach surface (StackTach.v3's API): importing this package registers its routes."""

from chalicelib.api.stacktach import routes
from chalicelib.api.stacktach.blueprint import stacktach

__all__ = ["routes", "stacktach"]
