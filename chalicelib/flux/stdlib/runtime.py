"""The `runtime` package: `runtime.version()`, the Flux version tickless answers as."""

from __future__ import annotations

from chalicelib.flux.stdlib.library import package

package("runtime", "version")(lambda interp: "v0.194.5")
