"""monday.com on the dashboard's operations page: per account, its board webhooks and the last event
received."""

from __future__ import annotations

from hookline.store.engine import Database
from hookline.store.events import last_received
from hookline.web.dashboard.ui import AccountRow, Dashboard


def account_rows(db: Database) -> list[AccountRow]:
    with db.connection() as conn:
        names = [r[0] for r in conn.fetchall("SELECT name FROM monday_accounts ORDER BY name")]
        hooks = {a: (int(n), int(b)) for a, n, b in conn.fetchall(
            "SELECT account, count(*), count(DISTINCT board_id) FROM monday_webhooks GROUP BY account")}
        rows = []
        for name in names:
            count, boards = hooks.get(name, (0, 0))
            rows.append(AccountRow(
                name, f"{count} webhook{'s' if count != 1 else ''} on {boards} board{'s' if boards != 1 else ''}",
                "active" if count else "no webhook", last_received(conn, "monday", name),
            ))
    return rows


def register(ui: Dashboard) -> None:
    db = ui.runtime.db
    ui.add_accounts_section("monday.com accounts", lambda: account_rows(db), "Webhooks",
                            "No monday.com account: hookline monday account add.")
