"""The ``tsrnn`` command: thin Typer commands that parse, call the library and print.

Exit codes: 0 success, 2 bad input or usage (one line on stderr naming what is wrong and how to
fix it; the traceback only with ``--verbose``), 1 internal error.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

import tsrnn
from tsrnn import datasets
from tsrnn.errors import DataError
from tsrnn.report.atomic import write_text_atomic

app = typer.Typer(
    name="tsrnn",
    help="Recurrent-network forecasting for many series with gaps, judged beside baselines.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
out = Console()
err = Console(stderr=True, highlight=False, soft_wrap=True)


class _State:
    verbose = False


def _version(value: bool) -> None:
    if value:
        out.print(f"tsrnn {tsrnn.__version__}")
        raise typer.Exit()


@app.callback()
def _main(
    verbose: Annotated[
        bool, typer.Option("--verbose", "-v", help="Log progress and show tracebacks on errors.")
    ] = False,
    version: Annotated[
        bool,
        typer.Option("--version", callback=_version, is_eager=True, help="Print the version."),
    ] = False,
) -> None:
    _State.verbose = verbose
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


@contextmanager
def _errors() -> Iterator[None]:
    """Bad input -> one line and exit 2; anything else -> exit 1; tracebacks only if --verbose."""
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except (DataError, FileNotFoundError) as exc:
        if _State.verbose:
            raise
        err.print(f"error: {exc}".replace("\n", " "), markup=False)
        raise typer.Exit(2) from None
    except Exception as exc:
        if _State.verbose:
            raise
        err.print(
            f"internal error: {type(exc).__name__}: {exc} (rerun with --verbose for the "
            "traceback)".replace("\n", " "),
            markup=False,
        )
        raise typer.Exit(1) from None


def _resolve(data: str) -> Path:
    """A file path, or the name of a bundled data set."""
    path = Path(data)
    if path.exists():
        return path
    if data in datasets.names():
        return datasets.path(data)
    raise DataError(
        f"{data}: no such file, and not a bundled data set (bundled: "
        f"{', '.join(datasets.names())}); check the path"
    )


DataArg = Annotated[str, typer.Argument(help="A CSV file, or a bundled data set's name.")]
IdCol = Annotated[str | None, typer.Option(help="Series id column (long format).")]
TimeCol = Annotated[str | None, typer.Option(help="Time column.")]
TargetCol = Annotated[str | None, typer.Option(help="Target column.")]
FreqOpt = Annotated[
    str | None, typer.Option(help="Grid frequency, e.g. h, D, W-SUN, MS (default: inferred).")
]


@app.command()
def info(
    data: DataArg,
    id_col: IdCol = None,
    time_col: TimeCol = None,
    target_col: TargetCol = None,
    freq: FreqOpt = None,
    report: Annotated[
        Path | None, typer.Option(help="Also write the data report to this Markdown file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
) -> None:
    """Read DATA and print its data report: series, lengths, frequency, gaps, missing values.

    Example: tsrnn info beijing_pm25
    """
    with _errors():
        _, data_report = tsrnn.read_csv(
            _resolve(data), id_col=id_col, time_col=time_col, target_col=target_col, freq=freq
        )
        text = data_report.to_markdown()
        if report is not None:
            write_text_atomic(report, text)
        if as_json:
            print(json.dumps(data_report.to_dict(), indent=2, default=str))
        else:
            print(text)
        if report is not None:
            err.print(f"wrote {report}", markup=False)


@app.command("datasets")
def list_datasets() -> None:
    """List the bundled data sets; any command accepts one's name in place of a file.

    Example: tsrnn datasets
    """
    with _errors():
        for name in datasets.names():
            print(f"{name}\t{datasets.path(name).name}")


def main() -> None:
    """Console-script entry point."""
    app()


if __name__ == "__main__":
    main()
