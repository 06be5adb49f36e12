"""CLI group 'kb': ingest documents, search, statistics and reset of the knowledge store."""

from __future__ import annotations

from pathlib import Path

import typer

app = typer.Typer(no_args_is_help=True, help="The knowledge base: docs, code and lessons for the agents.")


@app.command("ingest")
def ingest(
    ctx: typer.Context,
    paths: list[Path] = typer.Argument(..., help="Files or directories (md, txt, rst, pdf, v, sv, vh)."),
    kind: str | None = typer.Option(None, "--kind", help="doc or code (default: by file type)."),
    json_out: bool = typer.Option(False, "--json", help="Print the ingest report as JSON."),
) -> None:
    """Add files to the knowledge store; unchanged files are skipped, changed ones replaced."""
    from veriloop import ui
    from veriloop.knowledge.store import KnowledgeStore, open_store

    out = ui.mode(ctx, json_out)
    KnowledgeStore.expand(paths)  # bad input is reported before the store is touched
    store = open_store(ui.settings(ctx))
    report = store.ingest(paths, kind=kind, progress=not out.json)
    if out.json:
        ui.print_json(report)
        return
    c = out.console
    c.print(
        f"[bold]{report.files_seen}[/] files: {report.files_added} added, {report.files_updated} updated, "
        f"{report.files_unchanged} unchanged; {report.chunks_added} chunks indexed, "
        f"{report.chunks_removed} replaced ({report.seconds:.1f}s)."
    )
    for failed in report.files_failed:
        out.err_console.print(f"[yellow]skipped:[/] {failed}", highlight=False)


@app.command("search")
def search(
    ctx: typer.Context,
    query: str = typer.Argument(..., help="What to look for (a question, a term, or a raw error message)."),
    k: int = typer.Option(5, "-k", "--top", min=1, max=100, help="How many results."),
    mode: str = typer.Option("hybrid", "--mode", help="hybrid, dense or lexical."),
    kind: str | None = typer.Option(None, "--kind", help="doc, code or lesson."),
    tool: str | None = typer.Option(
        None, "--tool", help="Only chunks about this tool (iverilog, verilator...)."
    ),
    json_out: bool = typer.Option(False, "--json", help="Print hits as JSON."),
) -> None:
    """Search the knowledge store (the built-in corpus is ingested on first use)."""
    from veriloop import ui
    from veriloop.errors import InputError
    from veriloop.knowledge.store import open_store

    out = ui.mode(ctx, json_out)
    if mode not in ("hybrid", "dense", "lexical"):
        raise InputError(f"Unknown search mode '{mode}'.", hint="Use hybrid, dense or lexical.")
    store = open_store(ui.settings(ctx))
    store.ensure_corpus(progress=not out.json)
    hits = store.search(query, k=k, kind=kind, where={"tool": tool} if tool else None, mode=mode)  # type: ignore[arg-type]
    if out.json:
        ui.print_json(
            [h.model_dump(exclude={"metadata"}) | {"heading": h.metadata.get("heading", "")} for h in hits]
        )
        return
    if not hits:
        out.console.print("No results.")
        return
    from rich.table import Table

    table = Table(show_lines=True, title=f"{mode} search: {query[:60]}")
    table.add_column("#", justify="right")
    table.add_column("score", justify="right")
    table.add_column("source")
    table.add_column("snippet", overflow="fold")
    for i, h in enumerate(hits, 1):
        table.add_row(str(i), f"{h.score:.4f}", h.citation(), h.snippet(300))
    out.console.print(table)


@app.command("stats")
def stats(
    ctx: typer.Context,
    json_out: bool = typer.Option(False, "--json", help="Print statistics as JSON."),
) -> None:
    """Show what the knowledge store holds."""
    from veriloop import ui
    from veriloop.knowledge.store import open_store

    out = ui.mode(ctx, json_out)
    st = open_store(ui.settings(ctx), create=False).stats()
    if out.json:
        ui.print_json(st)
        return
    c = out.console
    c.print(f"[bold]store[/]      {st.path}")
    c.print(f"[bold]embedding[/]  {st.embedding}")
    c.print("[bold]chunks[/]     " + ", ".join(f"{n} {name}" for name, n in st.counts.items()))
    c.print(f"[bold]sources[/]    {st.sources}")
    c.print(f"[bold]BM25 index[/] {st.lexical_index}")


@app.command("reset")
def reset(
    ctx: typer.Context,
    yes: bool = typer.Option(False, "--yes", "-y", help="Do not ask for confirmation."),
) -> None:
    """Delete everything in the knowledge store (docs, code and lessons)."""
    import sys

    from veriloop import ui
    from veriloop.errors import InputError, StoreError
    from veriloop.knowledge.store import open_store, wipe_store

    out = ui.mode(ctx)
    settings = ui.settings(ctx)
    path = settings.knowledge_path
    if not path.exists():
        out.console.print(f"No knowledge store at {path}; nothing to reset.")
        return
    if not yes and not sys.stdin.isatty():
        raise InputError(
            f"Refusing to reset the knowledge store at {path} without confirmation.",
            hint="Pass --yes to confirm; nothing was changed.",
        )
    if not yes and not typer.confirm(f"Delete every document and lesson in {path}?", default=False):
        out.console.print("Nothing was changed.")
        raise typer.Exit(1)
    try:
        open_store(settings, create=False).reset()
    except StoreError:
        # A corrupt or mismatched store cannot be opened: remove its files instead (the user asked).
        import chromadb

        chromadb.api.client.SharedSystemClient.clear_system_cache()
        wipe_store(path)
    out.console.print(f"Knowledge store at {path} reset.")
