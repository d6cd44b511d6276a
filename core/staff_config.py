"""``[staff]``: people, roles and duty rotas (值班表) that escalations are sent to."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class Person(BaseModel):
    """One member of staff; reached by email, SMS or both."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str
    email: str | None = None
    phone: str | None = None


class StaffSection(BaseModel):
    """All staff by key, roles naming people or rotas, and the rotas themselves."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    people: dict[str, Person] = Field(default_factory=dict)
    roles: dict[str, list[str]] = Field(default_factory=dict)
