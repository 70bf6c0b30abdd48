"""Every SQL query of the package, one ``.sql`` file each, read by one loader.

Queries take their values as bound DuckDB parameters (``$week``, ``?``), never by string
formatting. Stage queries (aggregate) and warehouse queries (report, investigate, taxonomy
maintenance) live side by side: a file's first comment says who runs it.
"""

from __future__ import annotations

from functools import cache
from importlib import resources
from typing import Any


@cache
def load(name: str) -> str:
    """The text of ``pipeline/sql/<name>.sql``."""
    return resources.files(__name__).joinpath(f"{name}.sql").read_text("utf-8")


def frame(con: Any, name: str, **params: Any):
    """The result of ``<name>.sql`` on a DuckDB connection as a pandas frame, ``params`` bound."""
    return con.execute(load(name), params).df()
