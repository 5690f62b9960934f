"""Help in words, not types: `--port PORT` and `TOKEN` where typer would print `--port <int>` and
`{token}`, and nothing after a flag (`--no-worker`, not `--no-worker <bool>`)."""

from __future__ import annotations

from typing import Any


def plain_metavars(command: Any) -> Any:
    """Give every parameter of a click command tree a placeholder named for what it holds (unless
    the command set one: `--api-url URL`); returns the command. Duck-typed: typer ships its own
    copy of click."""
    for param in command.params:
        if param.metavar is not None:
            continue
        option = param.param_type_name == "option"
        if option and (getattr(param, "is_flag", False) or getattr(param, "count", False)):
            param.metavar = ""
        elif option and _choices(param):
            continue  # its choices are the placeholder
        elif option:
            param.metavar = max(param.opts, key=len).lstrip("-").replace("-", "_").upper()
        else:
            _plain_argument(param)
    if hasattr(command, "rich_markup_mode"):
        # Markdown: `code` reads as code, and a "[default: ...]" in a help text is not taken for a
        # rich markup tag (and dropped).
        command.rich_markup_mode = "markdown"
    original = command.get_help_option

    def help_option(ctx: Any) -> Any:
        found = original(ctx)
        if found is not None and found.metavar is None:
            found.metavar = ""
        return found

    command.get_help_option = help_option
    for sub in getattr(command, "commands", {}).values():
        plain_metavars(sub)
    return command


def _choices(param: Any) -> bool:
    kind = getattr(param, "type_descriptor", None) or getattr(param, "type", None)
    return bool(getattr(kind, "is_choice", False) or getattr(kind, "choices", None))


def _plain_argument(param: Any) -> None:
    """NAME in the usage line (typer writes {name}), [NAME]... when optional or repeated, and no
    type after it in the Arguments panel."""
    name = (param.name or "value").upper()
    param.metavar = name

    def usage() -> str:
        shown = name if param.required else f"[{name}]"
        return shown + ("..." if param.nargs != 1 else "")

    param._usage_display_name = usage
    param.display_type_rich = lambda ctx: None
