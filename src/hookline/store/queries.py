"""Named SQL statements kept in query files, one file per component.

A component keeps its SQL in `queries.sql` next to its modules (`hookline/pipeline/queries.sql`,
`hookline/providers/aircall/queries.sql`...). Each statement starts with a `-- name: <name>` line;
the comment lines right after it say why the statement is shaped the way it is. Where an engine needs
other text, `queries.sqlite.sql` or `queries.postgresql.sql` holds a statement of the same name, and
that text wins on that engine. Statements keep the `?` placeholders of `store.engine`.

    Q = load_queries(__package__)          # once, at import
    conn.fetchall(Q.pending_jobs, (limit,))  # Connection picks the engine's text

A name that is not in the file fails at the first use with the file and the name, and
`Queries.names()` lists what a file holds (the schema test runs every file through both engines).

Statements over a table named at run time (store/tables.py, the engine's bulk insert) keep `{slot}`s
for identifiers and lists the code composes; `Q.name.fill(table=quote(t))` gives the statement to run.
Slots take only what code gives (quoted names, placeholder lists), never a request's text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources

DIALECTS = ("sqlite", "postgresql")
_NAME = re.compile(r"^--\s*name:\s*([A-Za-z_][A-Za-z0-9_]*)\s*$")
SLOT = re.compile(r"\{([a-z_]+)\}")  # `{table}`: filled by Query.fill


@dataclass(frozen=True)
class Query:
    """One named statement: its text on each engine (the same text unless a dialect file overrides it)."""

    name: str
    sqlite: str
    postgresql: str

    def text(self, dialect: str) -> str:
        return self.postgresql if dialect == "postgresql" else self.sqlite

    def fill(self, **slots: str) -> Query:
        """The statement with its `{slot}`s filled on both engines' texts; a slot left empty is an error."""

        def text(sql: str) -> str:
            def put(match: re.Match[str]) -> str:
                if match[1] not in slots:
                    raise KeyError(f"query {self.name!r} needs slot {match[1]!r}")
                return slots[match[1]]

            return SLOT.sub(put, sql)

        return replace(self, sqlite=text(self.sqlite), postgresql=text(self.postgresql))

    def __str__(self) -> str:  # a Query passed where text is expected is a bug: say which one
        raise TypeError(f"query {self.name!r} must go through Connection.execute, not str()")


def compose(*parts: Query | str, sep: str = " ") -> Query:
    """Dynamic SQL: named pieces (`*_clause`, `*_fragment`) and plain joiners (`WHERE`, `AND`, a mark
    list) joined into one Query, each engine's text from each piece's text on that engine."""
    texts = {d: sep.join(p if isinstance(p, str) else p.text(d) for p in parts) for d in DIALECTS}
    names = "+".join(p.name for p in parts if not isinstance(p, str))
    return Query(names or "composed", texts["sqlite"], texts["postgresql"])


def marks(count: int) -> str:
    """`?, ?, ?`: the placeholders of an IN list of `count` values."""
    return ", ".join("?" * count)


def parse(text: str, origin: str) -> dict[str, str]:
    """The statements of one query file by name; a repeated name or text before the first name is an error."""
    found: dict[str, str] = {}
    current: str | None = None
    lines: list[str] = []

    def finish() -> None:
        if current is not None:
            sql = "\n".join(line for line in lines if not line.lstrip().startswith("--")).strip()
            found[current] = sql.removesuffix(";").strip()

    for number, line in enumerate(text.splitlines(), 1):
        match = _NAME.match(line.strip())
        if match:
            finish()
            current, lines = match[1], []
            if current in found:
                raise ValueError(f"{origin}:{number}: query {current!r} is defined twice")
            continue
        if current is None:
            if line.strip() and not line.lstrip().startswith("--"):
                raise ValueError(f"{origin}:{number}: SQL before the first '-- name:' line")
            continue
        lines.append(line)
    finish()
    for name, sql in found.items():
        if not sql:
            raise ValueError(f"{origin}: query {name!r} is empty")
    return found


class Queries:
    """The named statements of one component; attribute access returns a `Query`."""

    def __init__(self, origin: str, base: dict[str, str], overrides: dict[str, dict[str, str]]) -> None:
        self._origin = origin
        self._queries: dict[str, Query] = {}
        for dialect, texts in overrides.items():
            unknown = set(texts) - set(base)
            if unknown:
                raise ValueError(f"{origin}: {dialect} overrides unknown queries: {', '.join(sorted(unknown))}")
        for name, sql in base.items():
            self._queries[name] = Query(
                name,
                overrides.get("sqlite", {}).get(name, sql),
                overrides.get("postgresql", {}).get(name, sql),
            )

    def __getattr__(self, name: str) -> Query:
        if name.startswith("_"):
            raise AttributeError(name)
        try:
            return self._queries[name]
        except KeyError:
            raise AttributeError(f"{self._origin} has no query named {name!r}") from None

    def __getitem__(self, name: str) -> Query:
        return self.__getattr__(name)

    def names(self) -> list[str]:
        return sorted(self._queries)


@cache
def load_queries(package: str | None, stem: str = "queries") -> Queries:
    """The query file `<stem>.sql` of `package` with its per-dialect overrides."""
    if not package:
        raise ValueError("load_queries needs the package name (pass __package__)")
    root = resources.files(package)
    origin = f"{package.replace('.', '/')}/{stem}.sql"
    base = parse((root / f"{stem}.sql").read_text(encoding="utf-8"), origin)
    overrides: dict[str, dict[str, str]] = {}
    for dialect in DIALECTS:
        path = root / f"{stem}.{dialect}.sql"
        if path.is_file():
            overrides[dialect] = parse(path.read_text(encoding="utf-8"), origin.replace(".sql", f".{dialect}.sql"))
    return Queries(origin, base, overrides)

