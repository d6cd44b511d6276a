"""Staff: synchronising ``[staff.people]`` into the database so history can name them."""

from __future__ import annotations

from sqlalchemy import select

from kefu.app import App
from kefu.db.engine import transaction
from kefu.db.models import StaffMember


def sync_staff(app: App) -> int:
    """Insert or update every configured person; people no longer configured become inactive."""
    people = app.settings.staff.people
    with transaction(app.sessions) as session:
        existing = {m.key: m for m in session.scalars(select(StaffMember))}
        for key, person in people.items():
            row = existing.get(key)
            if row is None:
                session.add(StaffMember(key=key, name=person.name, email=person.email, phone=person.phone))
            else:
                row.name, row.email, row.phone, row.active = person.name, person.email, person.phone, True
        for key, row in existing.items():
            if key not in people:
                row.active = False
    return len(people)
