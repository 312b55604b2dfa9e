"""Who may write to Kapacitor: Kapacitor with authentication enabled takes Basic credentials, `u`/`p` and
a bearer token; here those are InfluxDB's credentials (v1 and v2: a token, a legacy authorization's
password, a session), read as InfluxDB's v1 routes read them, and answered in Kapacitor's words.

Points written to Kapacitor feed stream tasks without being stored in any bucket, so no bucket permission
maps onto them: the caller must be allowed to write every bucket of its organization (an all-access or
operator token; see docs/DECISIONS.md)."""

from __future__ import annotations

from chalice.app import Request

from chalicelib.api.influxdb.auth import authenticate, presents_credentials
from chalicelib.kit.errors import FORBIDDEN, UNAUTHORIZED, TicklessError
from chalicelib.tenancy.principal import Principal


def writer(request: Request) -> Principal:
    """The caller, if it may write points to Kapacitor: 401 without valid credentials, 403 without the
    right to write the organization's buckets."""
    principal = _caller(request)
    if not principal.can("write", "buckets", org_id=principal.org_id):
        raise TicklessError(FORBIDDEN, "insufficient permissions for write")
    return principal


def _caller(request: Request) -> Principal:
    """Whoever the request's credentials name, in Kapacitor's words when they name nobody."""
    if not presents_credentials(request, v1=True):
        raise TicklessError(UNAUTHORIZED, "unable to parse authentication credentials")
    try:
        return authenticate(request, v1=True)
    except TicklessError as exc:
        if exc.code == UNAUTHORIZED:
            raise TicklessError(UNAUTHORIZED, "authorization failed") from exc
        raise


def task_manager(request: Request, action: str) -> Principal:
    """The caller, if it may `action` (read or write) its organization's tasks: Kapacitor's tasks and
    templates are the organization's tasks here (docs/DECISIONS.md)."""
    principal = _caller(request)
    if principal.org_id is None or not principal.can(action, "tasks", org_id=principal.org_id):
        raise TicklessError(FORBIDDEN, f"insufficient permissions to {action} tasks")
    return principal
