"""Kapacitor's configuration overrides (`/kapacitor/v1/config`) as domain logic.

`ConfigService` answers GET and POST on the config API for one organization at a time over an
`OverrideStore` port, and resolves the effective handler configuration; `SECTIONS` holds the schemas."""

from chalicelib.overrides.sections import SECTIONS, Section, default_base
from chalicelib.overrides.service import BASE_PATH, ConfigService, OverrideStore

__all__ = ["BASE_PATH", "SECTIONS", "ConfigService", "OverrideStore", "Section", "default_base"]
