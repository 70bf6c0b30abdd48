"""Every SQL query of the package, one ``.sql`` file each, read by one loader.

Queries take their values as bound DuckDB parameters (``$week``, ``?``), never by string
formatting. Stage queries (aggregate) and warehouse queries (report, investigate, taxonomy
maintenance) live side by side: a file's first comment says who runs it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources


@cache
def load(name: str) -> str:
    """The text of ``pipeline/sql/<name>.sql``."""
    return resources.files(__name__).joinpath(f"{name}.sql").read_text("utf-8")
