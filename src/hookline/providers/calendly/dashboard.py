"""Calendly on the dashboard's operations page: per account, its webhook subscriptions' state and the
last event received."""

from __future__ import annotations

from collections import defaultdict

from hookline.store.engine import Database
from hookline.store.events import last_received
from hookline.web.dashboard.ui import AccountRow, Dashboard


def account_rows(db: Database) -> list[AccountRow]:
    with db.connection() as conn:
        names = [r[0] for r in conn.fetchall("SELECT name FROM calendly_accounts ORDER BY name")]
        states: dict[str, list[str]] = defaultdict(list)
        for account, state in conn.fetchall("SELECT account, state FROM calendly_subscriptions ORDER BY uri"):
            states[account].append(state)
        rows = []
        for name in names:
            subs = states.get(name, [])
            state = "no webhook" if not subs else ("active" if all(s == "active" for s in subs) else "disabled")
            rows.append(AccountRow(
                name, f"{len(subs)} subscription{'s' if len(subs) != 1 else ''}", state,
                last_received(conn, "calendly", name), ", ".join(sorted(set(subs))),
            ))
    return rows


def register(ui: Dashboard) -> None:
    db = ui.runtime.db
    ui.add_accounts_section("Calendly accounts", lambda: account_rows(db), "Subscriptions",
                            "No Calendly account: hookline calendly account add.")
