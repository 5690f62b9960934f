"""`hookline aircall recordings list|retry|sync|verify`: the recordings archive from the operator's side."""

from __future__ import annotations

import json
import time

import typer
from rich.table import Table

from hookline.clitools import bad_input, console, fail, open_database, time_option
from hookline.timeparse import iso

recordings_app = typer.Typer(
    help="The recordings archive (HOOKLINE_RECORDINGS_DIR): list, retry parked downloads, sync past calls,"
    " verify the files on disk.",
    no_args_is_help=True,
)


@recordings_app.command("list")
def recordings_list(
    failed: bool = typer.Option(False, "--failed", help="Only parked downloads (out of retries, with their error)"),
    state: str | None = typer.Option(None, "--state", help="pending, running, archived or parked"),
    account: str | None = typer.Option(None, "--account", help="Only this account's"),
    limit: int = typer.Option(50, "--limit", min=1, max=10_000, help="Most rows to show"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Recordings and voicemails wanted, archived or parked, newest first."""
    from hookline.providers.aircall import recordings

    if failed:
        if state not in (None, "parked"):
            bad_input("--failed and --state go one way or the other, not both")
        state = "parked"
    if state is not None and state not in recordings.STATES:
        bad_input(f"--state must be one of {', '.join(recordings.STATES)}")
    db = open_database()
    with db.connection() as conn:
        rows = recordings.list_recordings(conn, state=state, account=account, limit=limit)
    db.close()
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    now = time.time()
    table = Table("id", "account", "call", "kind", "state", "attempts", "file / next try", "error")
    for r in rows:
        if r["state"] == "archived":
            where = f"{r['path']} ({r['size']} B)"
        elif r["state"] == "parked":
            where = ""
        else:
            when = r["run_at"] - now
            where = f"in {when:.0f}s" if when > 0 else "due"
        table.add_row(
            str(r["id"]), r["account"], str(r["call_id"]), r["kind"], r["state"], str(r["attempts"]), where,
            (r["last_error"] or "")[:100],
        )
    console.print(table)
    if not rows:
        console.print("no parked recordings" if state == "parked" else "no recordings")


@recordings_app.command("retry")
def recordings_retry(
    ids: list[int] = typer.Argument(None, help="Parked recording ids to retry (from `recordings list --failed`)"),
    all_failed: bool = typer.Option(False, "--all-failed", help="Retry every parked recording"),
) -> None:
    """Queue parked downloads again, with a fresh attempt budget."""
    from hookline.providers.aircall import recordings

    if bool(ids) == all_failed:
        bad_input("give recording ids, or --all-failed")
    db = open_database()
    with db.connection() as conn:
        if ids:
            missing = [i for i in ids if (r := recordings.get(conn, i)) is None or r["state"] != "parked"]
            if missing:
                db.close()
                bad_input(f"not parked recordings: {', '.join(map(str, missing))} (see `hookline aircall recordings"
                     " list --failed`)")
        n = recordings.retry(conn, ids or None)
    db.close()
    console.print(f"{n} recordings queued again", highlight=False)


@recordings_app.command("sync")
def recordings_sync(
    since: str = typer.Option(..., "--since", help="Calls started from: ISO 8601 date-time or unix seconds"),
    until: str | None = typer.Option(None, "--until", help="Calls started until (default: now)"),
    account: str | None = typer.Option(None, "--account", help="Only this account's calls"),
) -> None:
    """Archive the recordings of past calls: every finished call already in hookline's tables (run
    `hookline aircall backfill` first for calls never received) whose recording or voicemail is not
    archived yet is queued for the archiver."""
    from hookline.providers.aircall import recordings
    from hookline.providers.aircall.settings import load_recordings_settings

    start = time_option(since, "--since")
    end = time_option(until, "--until") if until is not None else None
    if end is not None and end <= start:
        bad_input("--until must be after --since")
    if load_recordings_settings().dir is None:
        bad_input("set HOOKLINE_RECORDINGS_DIR first: without it nothing is archived")
    db = open_database()
    with db.connection() as conn:
        added = recordings.want_since(conn, start, end, account)
    db.close()
    window = f"{iso(start)} .. {iso(end) if end is not None else 'now'}"
    console.print(f"{added} recordings queued for calls started {window}; the archiver (in `serve` or"
                  " `hookline worker`) downloads them", highlight=False, soft_wrap=True)


@recordings_app.command("verify")
def recordings_verify(
    account: str | None = typer.Option(None, "--account", help="Only this account's recordings"),
    requeue: bool = typer.Option(False, "--requeue", help="Queue the missing and damaged ones for download again"),
    as_json: bool = typer.Option(False, "--json", help="Machine-readable output"),
) -> None:
    """Check every archived file against its row: present under HOOKLINE_RECORDINGS_DIR, with the
    recorded size and sha256. Exits 1 when any is missing or damaged; --requeue puts those back to
    pending so the archiver downloads them again (no file is ever deleted)."""
    from hookline.providers.aircall import recordings_verify as rv
    from hookline.providers.aircall.settings import load_recordings_settings

    root = load_recordings_settings().dir
    if root is None:
        bad_input("set HOOKLINE_RECORDINGS_DIR first: it is the directory the archived files are checked in")
    if not root.is_dir():
        # Most likely an unmounted disk or a moved directory: every file would be reported missing
        # (and, with --requeue, downloaded again), so say so rather than guess.
        fail(f"HOOKLINE_RECORDINGS_DIR {root} is not a directory: mount or restore it; if the files are lost"
             " for good, create it empty and run `verify --requeue` to download them all again", 2)
    db = open_database()
    try:
        if account is not None:
            with db.connection() as conn:
                if not rv.known_account(conn, account):
                    bad_input(f"no Aircall account named {account!r} and no recordings for it")
        report = rv.verify(db, root, account)
        if requeue and report.problems:
            with db.connection() as conn:
                report.requeued = rv.requeue(conn, report.problems)
    finally:
        db.close()
    if as_json:
        print(json.dumps(report.as_dict(), indent=2))
    else:
        for p in report.problems:
            console.print(f"{p.problem}: recording {p.id} ({p.account}, call {p.call_id}, {p.kind}): {p.detail}",
                          highlight=False, soft_wrap=True)
        console.print(f"checked {report.checked}: {report.ok} ok, {report.missing} missing, {report.damaged} damaged",
                      highlight=False)
        if requeue and report.problems:
            console.print(f"{report.requeued} recordings queued for download again; the archiver (in `serve`"
                          " or `hookline worker`) fetches them", highlight=False, soft_wrap=True)
        elif report.problems:
            console.print("run again with --requeue to download them again", highlight=False)
    if report.problems:
        raise typer.Exit(1)
