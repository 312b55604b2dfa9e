"""Declarations of the InfluxDB v2 resource kinds. Each kind says what it is called, how its name is
unique, which sub-resources it has (labels, members, owners), how a request body becomes a stored
document, how a document is shown, what it belongs to, and the rules it adds to the generic
operations (hooks the generic `Tenancy` service calls). The service and the routes do everything else.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from chalicelib.kit.errors import INVALID, NOT_FOUND, TicklessError

if TYPE_CHECKING:
    from chalicelib.tenancy.principal import Principal
    from chalicelib.tenancy.service import Tenancy

Doc = dict[str, Any]
MEMBER, OWNER, LABEL = "member", "owner", "label"  # the relations between resources
ORGS = "orgs"  # the kind every org-owned document belongs to (through its `orgID`)
READ, WRITE = "read", "write"

# Hooks: rules a kind adds to the generic operations. Each gets the service, to use its public
# operations (`stored`, `documents`, `find`, `put`, `remove`, `create`, ...).
Prepare = Callable[["Tenancy", Doc, "Principal", Doc], Doc]
AfterSave = Callable[["Tenancy", Doc, "Doc | None", "Principal"], None]
Collect = Callable[["Tenancy", "str | None"], list[Doc]]
CheckDelete = Callable[[Doc], None]
Present = Callable[[Doc, list[Doc]], Doc]


def now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="microseconds").replace("+00:00", "Z")


@dataclass(frozen=True)
class Reference:
    """A request field naming a document of another kind: an authorization's `userID`, a DBRP
    mapping's `bucketID`, the `labelID` of a label mapping, the user `id` of a new member. The generic
    service resolves it for the caller before anything is stored: a well-formed ID (400), an existing
    document (`missing`), the caller's `rights` on it (401, influxd's text), and, when both are owned
    by orgs, the same org as the referring document (else `missing` again: it is not found there)."""

    field: str  # the request (and document) field holding the ID
    kind: str  # the name of the kind it names
    rights: tuple[str, ...] = (WRITE, READ)  # needed on the named document, checked in this order
    # (influxd's); read where the answer shows the named document (a user's name, a label)
    guards: bool = False  # every later action on the referring document needs the same right on the
    # named one (influxd: an authorization's user, a DBRP mapping's bucket), lists included
    missing: str = ""  # the message when it names nothing here (default "<what> not found")
    missing_code: str = NOT_FOUND


# The references of the generic sub-resources: a label mapping names a label of the resource's org,
# which the caller may read and write (influxd reads it, then checks the write); a member or owner
# names a user the caller may read (so adding one never shows a user the caller could not see).
LABEL_MAPPING = Reference("labelID", "labels", rights=(READ, WRITE))
MEMBERSHIP = Reference("id", "users", rights=(READ,), missing="user not found")


@dataclass(frozen=True)
class Listing:
    """A list with its own query, selection and answer, for a kind whose lists are not the generic
    filters and offset paging (tasks: influxd's filters, `after`/`limit` paging and links). The
    service still resolves `org` and keeps only what the caller may read, before `select`."""

    # (query parameters, the org ID an `org` name resolved to, the caller's user ID) -> a filter,
    # raising with the kind's words on a bad parameter
    parse: Callable[[Mapping[str, str], str | None, str | None], Any]
    select: Callable[[list[Doc], Any], list[Doc]]  # (readable documents, filter) -> the page
    # (page, filter, labels of a document ID as shown) -> the list response
    answer: Callable[[list[Doc], Any, Callable[[str], list[Doc]]], Doc]
    id_params: tuple[str, ...] = ()  # the query parameters taking an ID (400 when malformed)


@dataclass(frozen=True)
class Kind:
    # -- what it is --------------------------------------------------------------------------------
    name: str  # storage kind and (unless `permission_type`) permission resource type, e.g. "buckets"
    path: str  # collection URL, e.g. "/api/v2/buckets"
    id_param: str  # URL parameter of one item, e.g. "bucketID"
    list_key: str  # key of the list in list responses
    create: Callable[[Doc, Doc], Doc]  # (request body, context) -> new document fields
    update: Callable[[Doc, Doc], Doc]  # (current document, patch body) -> updated document
    links: Callable[[Doc], dict[str, str]] | None  # None: shown without links (dbrps)
    what: str = ""  # singular name used in messages, e.g. "bucket"
    permission_type: str = ""  # the permission resource type when it is not `name`
    unique: str | None = None  # "org": names unique per org; "global": across the instance
    unique_field: str = "name"  # the field that must be unique
    org_owned: bool = True  # has an `orgID`, is listed per org, goes with its org
    belongs_to: Mapping[str, str] = field(default_factory=dict)  # other kind -> field naming one of
    # them: the document is removed with it (every org-owned kind also belongs to "orgs" by `orgID`)
    namespace: bool = False  # its ID names a storage namespace (a bucket's points), purged with it
    references: tuple[Reference, ...] = ()  # fields naming other documents (see `Reference`)
    aliases: tuple[str, ...] = ()  # other collection URLs serving the same routes
    # -- sub-resources and lists --------------------------------------------------------------------
    labels: bool = False
    members: bool = False  # members and owners; lists can then be filtered by `userID` (membership)
    filters: Mapping[str, str] = field(default_factory=dict)  # query parameter -> document field
    listed_per_org: bool = False  # a list needs `org` or `orgID` and read permission on the kind in
    # that org, checked once (influxd's dbrps); otherwise a list shows what the caller may read
    paged: bool = True  # lists take offset/limit/after and carry paging links; otherwise a list is
    # every document (influxd pages orgs, users and buckets only)
    id_context: Mapping[str, str] = field(default_factory=dict)  # query or body parameter -> the
    # words influxd puts before a malformed ID's error there (dbrps: `invalid org ID "x": ...`)
    self_readable: bool = False  # a principal may read its own document (users)
    listing: Listing | None = None  # lists of its own shape (see `Listing`), in place of `filters`,
    # `paged` and `list_key`
    # -- how one is shown ---------------------------------------------------------------------------
    hidden: tuple[str, ...] = ()  # stored fields never shown
    wrap_one: str | None = None  # a single item is returned as {wrap_one: item, "links": links}
    wrap_created: bool = True  # False: the created item is returned bare even with `wrap_one`
    present: Present | None = None  # (document, its labels as shown) -> the document as shown, in
    # place of its fields and `links` (tasks: influxd's task JSON, labels inside)
    # -- hooks ---------------------------------------------------------------------------------------
    prepare: Prepare | None = None  # (service, body, principal, context) -> the create context,
    # after the org is resolved and before `create`: checks and derived fields
    after_save: AfterSave | None = None  # (service, saved doc, previous doc or None when created,
    # principal): rules that span documents (a database's one default mapping, an org's buckets)
    collect: Collect | None = None  # (service, org ID or None) -> the documents as listed, when
    # they are not just the stored ones (dbrps: plus virtual mappings derived from buckets)
    check_delete: CheckDelete | None = None  # raises when a document may not be deleted directly
    decode: Callable[[Any], object] | None = None  # checks a create body before anything is looked
    # up (influxd decodes first), in the kind's words, in place of the generic JSON-object check
    decodes_patch: bool = False  # `update` checks a patch body itself (any JSON value), in its words

    @property
    def paths(self) -> tuple[str, ...]:
        return (self.path, *self.aliases)

    @property
    def resource_type(self) -> str:
        """The permission resource type its documents are checked against."""
        return self.permission_type or self.name

    @property
    def parents(self) -> dict[str, str]:
        """Kind name -> the field naming the document this one is removed with."""
        return {**({ORGS: "orgID"} if self.org_owned else {}), **self.belongs_to}

    @property
    def id_params(self) -> tuple[str, ...]:
        """The query parameters of its lists that take an ID (400 `invalid` when malformed): the
        filters on `id` or an `...ID` field, `orgID` when org-owned, `userID` when it has members."""
        if self.listing is not None:
            return self.listing.id_params
        params = {p for p, f in self.filters.items() if f == "id" or f.endswith("ID")}
        params |= {"orgID"} if self.org_owned else set()
        params |= {"userID"} if self.members else set()
        return tuple(sorted(params))

    @property
    def relations(self) -> tuple[str, ...]:
        """The relations a document of this kind can be the source of."""
        return ((LABEL,) if self.labels else ()) + ((MEMBER, OWNER) if self.members else ())

    def unique_key(self, doc: Doc) -> tuple[str, str] | None:
        if self.unique is None:
            return None
        return (doc.get("orgID", "") if self.unique == "org" else "", doc[self.unique_field])

    def show(self, doc: Doc) -> Doc:
        """The document without its hidden fields, without links."""
        return {k: v for k, v in doc.items() if k not in self.hidden}

    def render(self, doc: Doc, labels: list[Doc] | None = None) -> Doc:
        """The document as an item of a list (`labels`: its labels as shown, for `present`)."""
        if self.present is not None:
            return self.present(doc, labels or [])
        shown = self.show(doc)
        if self.links is not None:
            shown["links"] = self.links(doc)
        return shown

    def render_one(self, doc: Doc, *, created: bool = False, labels: list[Doc] | None = None) -> Doc:
        """The document as the answer to a create, get or patch."""
        shown = self.render(doc, labels)
        if self.present is not None or self.wrap_one is None or (created and not self.wrap_created):
            return shown
        links = shown.pop("links", None)
        return {self.wrap_one: shown} if links is None else {self.wrap_one: shown, "links": links}


def text(body: Doc, key: str, *, required: bool = False, what: str = "") -> str | None:
    value = body.get(key)
    if value is None:
        if required:
            raise TicklessError(INVALID, f"{what or key} is required")
        return None
    if not isinstance(value, str):
        raise TicklessError(INVALID, f"{key} must be a string")
    return value


def status(body: Doc, default: str | None = "active") -> str | None:
    value = body.get("status", default)
    if value is not None and value not in ("active", "inactive"):
        raise TicklessError(INVALID, f'status must be "active" or "inactive", not {value!r}')
    return value


def merge(current: Doc, patch: Doc, allowed: tuple[str, ...]) -> Doc:
    updated = dict(current)
    for key in allowed:
        if key in patch and patch[key] is not None:
            updated[key] = patch[key]
    updated["updatedAt"] = now_iso()
    return updated
