"""Who is calling and what they may do: the permissions of a token, a v1 password or a session."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chalicelib.kit.errors import FORBIDDEN, UNAUTHORIZED, TicklessError
from chalicelib.tenancy.permissions import Permission, allows


def unauthorized(message: str = "unauthorized access") -> TicklessError:
    return TicklessError(UNAUTHORIZED, message)


@dataclass
class Principal:
    """Who is calling and what they may do."""

    permissions: list[Permission]
    user_id: str | None = None
    org_id: str | None = None  # the token's organization: where v1 databases and buckets live
    authorization_id: str | None = None
    session: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def can(self, action: str, type: str, *, id: str | None = None, org_id: str | None = None) -> bool:
        return allows(self.permissions, action, type, id=id, org_id=org_id)

    def require(self, action: str, type: str, *, id: str | None = None, org_id: str | None = None) -> None:
        if not self.can(action, type, id=id, org_id=org_id):
            raise unauthorized(f"{action}:{_permission_path(type, id, org_id)} is unauthorized")

    def require_write(self, bucket_id: str, org_id: str) -> None:
        """The write path's check: points go to a bucket only with write permission on it (403, worded
        as InfluxDB's write and delete endpoints word it)."""
        if not self.can("write", "buckets", id=bucket_id, org_id=org_id):
            raise TicklessError(FORBIDDEN, "insufficient permissions for write")


def _permission_path(type: str, id: str | None, org_id: str | None) -> str:
    path = f"{type}/{id}" if id else type
    return f"orgs/{org_id}/{path}" if org_id else path
