"""MkDocs hook: render the help of every ``lookalike`` command into the CLI reference page.

The page holds the marker ``<!-- lookalike-cli -->``; the hook replaces it with the help text
that ``lookalike COMMAND --help`` prints, taken from the Typer app itself, so the reference
cannot drift from the code.
"""

from __future__ import annotations

from typing import Any

MARKER = "<!-- lookalike-cli -->"
WIDTH = 100


def render_cli() -> str:
    """Markdown with the help of the ``lookalike`` group and of each of its commands, in order."""
    import typer.main

    from lookalike.cli import app

    group = typer.main.get_command(app)
    context_class = group.context_class
    root = context_class(group, info_name="lookalike", terminal_width=WIDTH, max_content_width=WIDTH)
    parts = ["## lookalike", "", "```text", group.get_help(root).rstrip(), "```", ""]
    for name in group.list_commands(root):  # type: ignore[attr-defined]
        command = group.get_command(root, name)  # type: ignore[attr-defined]
        if command is None or command.hidden:
            continue
        context = context_class(command, info_name=name, parent=root, terminal_width=WIDTH,
                                max_content_width=WIDTH)
        parts += [f"## lookalike {name}", "", "```text", command.get_help(context).rstrip(), "```", ""]
    return "\n".join(parts)


def on_page_markdown(markdown: str, page: Any, **_: Any) -> str:
    if MARKER in markdown:
        return markdown.replace(MARKER, render_cli())
    return markdown
