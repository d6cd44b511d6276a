"""The revision graph read from the revision files' text, without importing Alembic.

Alembic (with Mako and Pygments) costs a third of `kefu run`'s start-up, so the
start-up check and ``kefu db current`` read each file's ``revision``,
``down_revision`` and ``depends_on`` with :mod:`ast` and decide here what the rows
of ``alembic_version`` mean. Alembic keeps one row per head it cannot infer: a
plugin revision that depends on core revision 0001 stands for 0001 too, so a row
is read as itself and everything below it (parents and dependencies).
"""

from __future__ import annotations

import ast
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

from kefu.db.branches import Branch


class MigrationError(RuntimeError):
    """The schema cannot be checked or upgraded; the message says why and what to do."""


class UnreadableRevision(MigrationError):
    """A revision file whose identifiers are not plain literals (or that names an unknown one)."""


@dataclass(frozen=True)
class Revision:
    """One revision file: its id, its branch, and the revisions it stands on."""

    id: str
    branch: str
    parents: tuple[str, ...]
    depends_on: tuple[str, ...]
    path: Path


@dataclass
class Graph:
    """Every revision of the given branches, by id."""

    revisions: dict[str, Revision] = field(default_factory=dict)

    def heads(self, branch: str) -> list[str]:
        """The newest revision(s) of ``branch`` (one, unless two were written on the same parent)."""
        mine = {rid for rid, rev in self.revisions.items() if rev.branch == branch}
        below = {p for rid in mine for p in self.revisions[rid].parents}
        return sorted(mine - below)

    def applied(self, rows: Iterable[str]) -> set[str]:
        """Every revision the ``alembic_version`` rows stand for (unknown rows are left out)."""
        done: set[str] = set()
        todo = [row for row in rows if row in self.revisions]
        while todo:
            rid = todo.pop()
            if rid in done:
                continue
            done.add(rid)
            rev = self.revisions[rid]
            todo.extend(r for r in (*rev.parents, *rev.depends_on) if r in self.revisions)
        return done

    def current(self, branch: str, rows: Iterable[str]) -> list[str]:
        """The newest applied revision(s) of ``branch`` (empty when none is applied)."""
        mine = {rid for rid in self.applied(rows) if self.revisions[rid].branch == branch}
        below = {p for rid in mine for p in self.revisions[rid].parents}
        return sorted(mine - below)

    def unknown(self, rows: Iterable[str]) -> list[str]:
        """Rows no given branch ships (a newer kefu's, or a plugin no longer installed)."""
        return sorted(row for row in rows if row not in self.revisions)


def read_graph(branches: Iterable[Branch]) -> Graph:
    """Read the revision files of ``branches`` (no module is imported)."""
    graph = Graph()
    for branch in branches:
        for path in sorted(branch.folder.glob("*.py")):
            if path.name == "__init__.py":
                continue
            rev = _read(path, branch.name)
            if rev is not None:
                if rev.id in graph.revisions:
                    other = graph.revisions[rev.id].path
                    raise UnreadableRevision(f"{path}: revision {rev.id!r} is also in {other}")
                graph.revisions[rev.id] = rev
    for rev in graph.revisions.values():
        missing = [r for r in (*rev.parents, *rev.depends_on) if r not in graph.revisions]
        if missing:
            raise UnreadableRevision(
                f"{rev.path}: revision {rev.id!r} stands on {', '.join(missing)}, which no "
                "installed branch ships (depends_on must name a revision id)"
            )
    return graph


def _read(path: Path, branch: str) -> Revision | None:
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UnreadableRevision(f"{path}: {exc}") from exc
    # The identifiers come before upgrade(): parsing only that head keeps the start-up
    # check cheap (a whole initial revision is most of the parse). A file laid out
    # otherwise is parsed whole.
    values = _identifiers(_head_of(source), path)
    if "revision" not in values:
        values = _identifiers(source, path)
    if "revision" not in values:
        return None  # not a revision file (a helper module beside them)
    rid = values["revision"]
    if not isinstance(rid, str):
        raise UnreadableRevision(f"{path}: revision must be a string")
    return Revision(
        id=rid,
        branch=branch,
        parents=_ids(values.get("down_revision"), path),
        depends_on=_ids(values.get("depends_on"), path),
        path=path,
    )


def _head_of(source: str) -> str:
    """The text before the first top-level function or class."""
    ends = [source.find(marker) for marker in ("\ndef ", "\nclass ", "\nasync def ")]
    return source[: min((end for end in ends if end != -1), default=len(source))]


def _identifiers(source: str, path: Path) -> dict[str, object]:
    try:
        tree = ast.parse(source, filename=str(path))
    except SyntaxError as exc:
        raise UnreadableRevision(f"{path}: {exc}") from exc
    values: dict[str, object] = {}
    for node in tree.body:
        target, value = _assignment(node)
        if target in ("revision", "down_revision", "depends_on") and value is not None:
            try:
                values[target] = ast.literal_eval(value)
            except ValueError as exc:
                raise UnreadableRevision(f"{path}: {target} must be a literal string, tuple or None") from exc
    return values


def _assignment(node: ast.stmt) -> tuple[str | None, ast.expr | None]:
    # Both `revision = "x"` and `revision: str = "x"` (the typed template) are assignments.
    if isinstance(node, ast.Assign) and len(node.targets) == 1 and isinstance(node.targets[0], ast.Name):
        return node.targets[0].id, node.value
    if isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name):
        return node.target.id, node.value
    return None, None


def _ids(value: object, path: Path) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, (tuple, list)) and all(isinstance(v, str) for v in value):
        return tuple(value)
    raise UnreadableRevision(f"{path}: expected a revision id, a tuple of them or None, got {value!r}")
