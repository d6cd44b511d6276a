"""The notes plugin's one table: free-text notes, optionally on a core case."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from kefu.api.tables import CASE_ID, Base


class Note(Base):
    """A note someone wrote, on a case or on nothing in particular."""

    __tablename__ = "notes_items"

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int | None] = mapped_column(ForeignKey(CASE_ID, ondelete="CASCADE"), index=True)
    author: Mapped[str] = mapped_column(String(64), default="")
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime]
