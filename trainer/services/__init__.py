"""Services: the only code that writes to the database.

Each public function takes explicit arguments (the acting user, the objects, the data),
checks permissions and rules, runs one transaction and records an audit event.
"""


class ServiceError(Exception):
    """A rule stopped the action; the message is shown to the person as it is."""


class NotFound(ServiceError):
    """The object does not exist or the actor may not know it exists (shown as a 404)."""


class Forbidden(ServiceError):
    """The actor may see the object but not do this to it."""
