"""A page of a list: which window of rows, and the rows mapped onto their model."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, TypeVar

from pydantic import BaseModel
from sqlalchemy import Connection, Select

from hub import models
from hub.services import queries

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class Window:
    limit: int = 50
    offset: int = 0


def mapped_page(
    conn: Connection, query: Select[Any], model: type[M], window: Window
) -> models.Page[M]:
    """One page of rows that map field for field onto ``model``."""
    rows, total, exact = queries.counted_page(conn, query, window.limit, window.offset)
    return models.Page[M](
        items=[model.model_validate(r._mapping) for r in rows],
        total=total,
        limit=window.limit,
        offset=window.offset,
        total_exact=exact,
    )
