"""The ``tsrnn`` command: thin Typer commands that parse, call the library and print.

Exit codes: 0 success, 2 bad input or usage (one line on stderr naming what is wrong and how to
fix it; the traceback only with ``--verbose``), 1 internal error.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import re
import signal
import sys
import threading
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

import tsrnn
from tsrnn import datasets, registry
from tsrnn.data.frequency import season_length
from tsrnn.data.parquet import is_parquet
from tsrnn.errors import DataError
from tsrnn.files import check_target, write_text_atomic
from tsrnn.machine import launched
from tsrnn.parallel import parallel_backend

from .settings import Settings, check

# Failures of the user's paths (a missing input, a folder given for a file, a folder that
# accepts no files): bad input like a malformed file, exit 2.
PATH_ERRORS = (
    FileNotFoundError,
    FileExistsError,
    IsADirectoryError,
    NotADirectoryError,
    PermissionError,
)
INTERRUPTED = 130  # 128 + SIGINT, as shells report a Ctrl-C
TERMINATED = 143  # 128 + SIGTERM: `kill`, `timeout`, a job scheduler
BROKEN_PIPE = 141  # 128 + SIGPIPE, as `yes | head -1` ends

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
    terminated = False  # a SIGTERM, handled as Ctrl-C is
    from_config: frozenset[str] = frozenset()  # network parameters a config file's [model] set


def _on_sigterm(signum: int, frame: object) -> None:
    """SIGTERM stops the command as Ctrl-C does (outputs left as they were, worker processes
    stopped, temporary files removed), and the exit status says which signal it was."""
    _State.terminated = True
    raise KeyboardInterrupt


def _stopped() -> tuple[int, str]:
    """The exit status and words of an interruption: Ctrl-C, or a SIGTERM."""
    if _State.terminated:
        return TERMINATED, "terminated (SIGTERM)"
    return INTERRUPTED, "interrupted (Ctrl-C)"


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
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _on_sigterm)
    logging.basicConfig(level=logging.INFO if verbose else logging.WARNING, format="%(message)s")


@contextmanager
def _errors(kept: str | None = None) -> Iterator[None]:
    """Bad input -> one line and exit 2; Ctrl-C -> one line and exit 130; anything else ->
    exit 1. ``--verbose`` adds the traceback and keeps the exit status. ``kept`` names what
    an interrupted command leaves as it was, for the Ctrl-C line."""
    _State.from_config = frozenset()  # until this command reads its config
    try:
        yield
    except (typer.Exit, typer.Abort):
        raise
    except BrokenPipeError:  # the reader went away (`| head`): stop quietly
        _silence_stdout()
        raise typer.Exit(BROKEN_PIPE) from None
    except KeyboardInterrupt as exc:
        where = f": {exc}" if str(exc) else ""
        code, words = _stopped()
        _fail(code, f"{words}{where}" + (f"; {kept} left as it was" if kept else ""))
    except (DataError, *PATH_ERRORS) as exc:
        # A parameter the config file's [model] table set is named as written there.
        flags = {k: v for k, v in _flags().items() if k not in _State.from_config}
        _fail(2, f"error: {in_cli_words(str(exc), flags)}")
    except Exception as exc:
        _fail(
            1,
            f"internal error: {type(exc).__name__}: {exc} (rerun with --verbose for the traceback)",
        )


# Library parameters the CLI spells another way, and those it sets only in a --config file.
_ALIASES = {
    "n_windows": "windows",
    "random_state": "seed",
    "num_threads": "threads",
    "num_processes": "processes",
    "n_jobs": "jobs",
}
_ASSIGNMENT = re.compile(r"\b([a-z][a-z_]*)=('[^']*'|\"[^\"]*\"|[^\s,;:)\]]*)")


@functools.cache
def _flags() -> dict[str, str]:
    """Every command's options: Python name -> long flag (``time_col`` -> ``--time-col``); a
    name means the same option in every command that has it."""
    flags: dict[str, str] = {}
    for command in typer.main.get_command(app).commands.values():
        for p in command.params:
            long = [o for o in p.opts if o.startswith("--")]
            if p.param_type_name == "option" and p.name and long:
                flags.setdefault(p.name, long[0])
    return flags


def in_cli_words(message: str, flags: dict[str, str]) -> str:
    """A library message as a CLI user reads it: ``pass time_col=`` becomes ``pass
    --time-col``, ``horizon=48`` becomes ``--horizon 48``, and a model parameter with no flag
    (``val_size=``) is written as in the ``[model]`` table of a ``--config`` file.

    >>> in_cli_words("pass time_col= (one of them); lower horizon=48", {"time_col": "--time-col",
    ...     "horizon": "--horizon"})
    'pass --time-col (one of them); lower --horizon 48'
    >>> in_cli_words("lower val_size= or lr=0.01", {})
    'lower [model] val_size (in --config) or [model] lr = 0.01'
    """

    def spell(match: re.Match[str]) -> str:
        name, value = match.group(1), match.group(2).strip("'\"")
        flag = flags.get(_ALIASES.get(name, name))
        if flag is not None:
            return f"{flag} {value}" if value else flag
        # imported here, not above: the table imports torch, 2-3 s that a message about a
        # file's rows (no model parameter in it) should not wait for
        from tsrnn.models.neural.params import PARAMETERS

        if name in PARAMETERS:
            return (
                f"[model] {name} = {match.group(2)}" if value else f"[model] {name} (in --config)"
            )
        return match.group(0)

    return _ASSIGNMENT.sub(spell, message)


def _fail(code: int, line: str) -> None:
    """Print ``line`` on stderr (after the traceback with ``--verbose``) and exit ``code``."""
    if _State.verbose:
        traceback.print_exc(file=sys.stderr)
    err.print(line.replace("\n", " "), markup=False)
    raise typer.Exit(code) from None


def _silence_stdout() -> None:
    """Point stdout at /dev/null, so that flushing it at exit raises no second BrokenPipeError."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError, AttributeError):  # no real file descriptor (a test runner)
        pass


LevelOpt = Annotated[
    str | None,
    typer.Option(
        help="Comma-separated prediction-interval levels in percent, e.g. 80,95: adds "
        "<model>-lo-80 / <model>-hi-80 columns (and coverage-80 to backtest metrics)."
    ),
]


def _levels(text: str | None) -> list[float] | None:
    """``--level 80,95`` as numbers (checked by the library: percentages, 1 to 99.9)."""
    if not text:
        return None
    try:
        values = [float(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise DataError(f"--level {text!r}: use percentages, e.g. 80,95") from None
    if values and all(0 < v < 1 for v in values):
        percents = ",".join(f"{v * 100:g}" for v in values)
        raise DataError(f"--level {text}: levels are percentages; write --level {percents}")
    from tsrnn.models.base import interval_quantiles

    try:
        interval_quantiles(values)
    except ValueError as exc:
        raise DataError(f"--level {text}: {exc}") from None
    return values


def _steps(flag: str, value: int | None, least: int = 1) -> int | None:
    """A count (steps, windows, ...) or a seed (``least=0``) from the command line: None or a
    whole number >= ``least``."""
    if value is not None and value < least:
        raise DataError(f"{flag} {value}: must be a whole number >= {least}")
    return value


def _read(
    path: Path,
    id_col: str | None,
    time_col: str | None,
    target_col: str | None,
    freq: str | None,
    dayfirst: bool | None,
):
    """``tsrnn.read_csv``, or ``tsrnn.read_parquet`` for a Parquet file or a folder of Parquet
    parts, with the reading options every command takes."""
    read = tsrnn.read_parquet if is_parquet(path) else tsrnn.read_csv
    return read(
        path,
        id_col=id_col,
        time_col=time_col,
        target_col=target_col,
        freq=freq,
        dayfirst=dayfirst,
    )


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


DataArg = Annotated[
    str,
    typer.Argument(
        help="A CSV or Parquet file, a folder of Parquet parts, or a bundled data set's name."
    ),
]
IdCol = Annotated[str | None, typer.Option(help="Series id column (long format).")]
TimeCol = Annotated[str | None, typer.Option(help="Time column.")]
TargetCol = Annotated[str | None, typer.Option(help="Target column.")]
SeasonOpt = Annotated[
    int | None,
    typer.Option(
        help="Season length in steps, for every model (default: the frequency's: 24 hourly, 7 "
        "daily, 12 monthly; none for integer time steps, as in M4's series)."
    ),
]
CovariatesOpt = Annotated[
    str | None,
    typer.Option(help="Comma-separated past-observed covariate columns the networks read."),
]
FreqOpt = Annotated[
    str | None, typer.Option(help="Grid frequency, e.g. h, D, W-SUN, MS (default: inferred).")
]
ThreadsOpt = Annotated[
    int | None,
    typer.Option(
        help="torch threads for the networks (default: one per core that other work leaves "
        "idle, at least 1)."
    ),
]
ProcessesOpt = Annotated[
    int | None,
    typer.Option(
        help="Train each network on this many processes of this machine (torch "
        "DistributedDataParallel; --threads is then per process). Default 1."
    ),
]
JobsOpt = Annotated[
    int | None,
    typer.Option(
        help="Worker processes for the models fitted one series at a time (ets, theta, arima, "
        "...), one thread each (default: one per core)."
    ),
]
BackendOpt = Annotated[
    str | None,
    typer.Option(
        help="Where the per-series models run: joblib (--jobs processes here, the default) or "
        "dask (the cluster at --scheduler, else a local cluster of --jobs workers)."
    ),
]
SchedulerOpt = Annotated[
    str | None,
    typer.Option(
        help="A Dask scheduler's address, e.g. tcp://10.0.0.5:8786 (with --backend dask)."
    ),
]
SeedOpt = Annotated[
    int | None,
    typer.Option(help="The networks' seed: the same seed gives the same numbers on the CPU (0)."),
]
LossOpt = Annotated[
    str | None,
    typer.Option(
        help="The networks' loss: mae (default), mse, huber, quantile, normal, studentt, negbin."
    ),
]
HiddenOpt = Annotated[
    int | None, typer.Option(help="Width of the networks' recurrent state (default 64).")
]
InputSizeOpt = Annotated[
    int | None, typer.Option(help="Steps of history per window (default: from the season).")
]
DayFirst = Annotated[
    bool | None,
    typer.Option(
        "--dayfirst/--no-dayfirst",
        help="Read dates like 01/02/2024 as 1 February / as 2 January (default: the reading "
        "that fits the file).",
    ),
]


@app.command()
def info(
    data: DataArg,
    id_col: IdCol = None,
    time_col: TimeCol = None,
    target_col: TargetCol = None,
    freq: FreqOpt = None,
    dayfirst: DayFirst = None,
    report: Annotated[
        Path | None, typer.Option(help="Also write the data report to this Markdown file.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace --report even if tsrnn did not write it."),
    ] = False,
) -> None:
    """Read DATA and print its data report: series, lengths, frequency, gaps, missing values.

    Example: tsrnn info beijing_pm25
    """
    with _errors():
        if report is not None:
            check_target(report, example="report.md")
            _refuse_an_input("--report", report, "report", DATA=data)
            if not force:
                _refuse_foreign("--report", report, REPORT_START, "a data report")
        _, data_report = _read(_resolve(data), id_col, time_col, target_col, freq, dayfirst)
        text = data_report.to_markdown()
        if report is not None:
            write_text_atomic(report, text)
        if as_json:
            print(json.dumps(data_report.to_dict(), indent=2, default=str))
        else:
            print(text)
        if report is not None:
            err.print(f"wrote {report}", markup=False)


MODELS = registry.NEURAL
BASELINES = registry.BASELINES
DEFAULT_MODELS = "lstm,snaive,naive2,ets"


def _default_horizon(season: int) -> int:
    """One season (24 hourly, 7 daily, 12 monthly), 8 steps without one."""
    return season if season > 1 else 8


class _Reporter:
    """Progress on stderr: on a terminal, rich bars (the current fit, named by model and
    window, and for a backtest an overall bar); elsewhere (a log, CI) a plain line every
    :attr:`EVERY` seconds; nothing with ``--quiet``. The estimate of the time left is the
    current model's: the rest of its fit at the rate its training steps go, and its further
    fits at the time its fits took; models not yet run are counted, not guessed (a network
    takes minutes where a baseline takes a second).

    ``step`` takes the backtest's :class:`~tsrnn.evaluate.backtest.BacktestStep` events,
    ``train`` a network's training :class:`~tsrnn.models.neural.training.Progress`.
    """

    EVERY = 5.0  # seconds between plain lines

    def __init__(self, mode: str, model: str | None = None) -> None:
        self.mode = mode  # "bar", "lines" or "off"
        self.model, self.window, self.n_windows = model, 0, 0
        self.done, self.n_fits = 0, 0  # n_fits 0: one fit (tsrnn fit), no overall bar
        self.fraction = 0.0  # of the current fit, from its training steps
        self.first_steps = 0  # the current fit's first run: the steps a refit follows
        self.status = ""
        self.fit, self.fits = 1, 1  # the current model's fit, of its fits
        self.fit_start = time.monotonic()
        self.per_fit: dict[str, float] = {}  # seconds a fit of each model took
        self.last = float("-inf")

    @contextmanager
    def running(self) -> Iterator[_Reporter]:
        if self.mode != "bar":
            yield self
            return
        from rich.progress import BarColumn, Progress, TextColumn

        with Progress(
            TextColumn("{task.description}"),
            BarColumn(),
            TextColumn("{task.percentage:>3.0f}%"),
            TextColumn("{task.fields[status]}"),
            console=err,
            transient=True,
        ) as self.bar:
            self.current = self.bar.add_task(self._what(), total=None, status="")
            self.overall = None
            yield self

    def _what(self) -> str:
        if self.n_windows > 1:
            return f"{self.model} window {self.window}/{self.n_windows}"
        return f"{self.model or 'training'}"

    def step(self, event: Any) -> None:
        """A backtest event: a fit starting or its forecasts done."""
        self.model, self.window, self.n_windows = event.model, event.window, event.n_windows
        self.done, self.n_fits = event.done, event.n_fits
        self.fit, self.fits = event.fit, event.fits
        now = time.monotonic()
        if event.phase == "fit":
            self.fit_start, self.fraction, self.status = now, 0.0, "fitting"
            self.first_steps = 0
        else:
            self.per_fit[event.model] = now - self.fit_start
            self.fraction, self.status = 1.0, "forecasts done"
        self._show(force=event.phase == "fit" and event.done == 0)

    def _left(self) -> str:
        """The estimate of the time left, in words ("" before there is one)."""
        now = time.monotonic()
        if not self.n_fits:  # one fit (tsrnn fit): the rest of it at its pace so far
            if not 0.05 <= self.fraction < 1.0:
                return ""
            spent = now - self.fit_start
            return f"about {_duration(spent / self.fraction - spent)} left"
        if 0.05 <= self.fraction < 1.0:
            per_fit = (now - self.fit_start) / self.fraction
        elif self.model in self.per_fit:
            per_fit = self.per_fit[self.model]
        else:
            return ""
        left = (1.0 - self.fraction) * per_fit + (self.fits - self.fit) * per_fit
        text = f"{self.model} about {_duration(left)} more"
        current = self.fits - self.fit + (0 if self.fraction >= 1.0 else 1)
        others = (self.n_fits - self.done - current) // max(self.fits, 1)
        if others > 0:
            text += f", then {others} other model{'s' if others > 1 else ''}"
        return text

    def train(self, progress: Any) -> None:
        """A network's training progress: the current fit's share of its steps. A refit's
        steps follow the first run's, whose time the pace so far includes."""
        val = "" if progress.val_loss is None else f" val {progress.val_loss:.4g}"
        refit = "refit " if progress.phase == "refit" else ""
        self.status = (
            f"{refit}step {progress.step}/{progress.max_steps} loss {progress.loss:.4g}{val} "
            f"{progress.windows_per_s:,.0f} windows/s"
        )
        if progress.phase == "refit":  # the pace so far covers the first run's steps too
            done = self.first_steps + progress.step
            self.fraction = done / max(self.first_steps + progress.max_steps, 1)
        else:
            self.first_steps = progress.step
            self.fraction = progress.step / max(progress.max_steps, 1)
        self._show()

    def _show(self, force: bool = False) -> None:
        if self.mode == "bar":
            if self.n_fits and self.overall is None:
                self.overall = self.bar.add_task("backtest", total=self.n_fits, status="")
            if self.overall is not None:
                left = self._left()
                fits = f"{self.done}/{self.n_fits} fits" + (f"; {left}" if left else "")
                self.bar.update(self.overall, completed=self.done + self.fraction, status=fits)
            status = self.status
            if not self.n_fits and self._left():
                status += f"; {self._left()}"
            self.bar.update(
                self.current,
                description=self._what(),
                completed=self.fraction,
                total=1.0,
                status=status,
            )
            return
        now = time.monotonic()
        if self.mode != "lines" or (now - self.last < self.EVERY and not force):
            return
        self.last = now
        line = f"{self._what()}: {self.status or 'running'}"
        if self.n_fits:
            line += f"; backtest {self.done}/{self.n_fits} fits"
        left = self._left()
        if left:
            line += f"; {left}"
        err.print(line, markup=False)


def _duration(seconds: float) -> str:
    """``seconds`` as a person says it: 40 s, 3 min, 1.5 h."""
    if seconds < 90:
        return f"{seconds:.0f} s"
    if seconds < 90 * 60:
        return f"{seconds / 60:.0f} min"
    return f"{seconds / 3600:.1f} h"


def _report_mode(quiet: bool) -> str:
    return "off" if quiet else "bar" if err.is_terminal else "lines"


@app.command()
def fit(
    data: DataArg,
    model: Annotated[
        str | None, typer.Option(help=f"Network: {', '.join(MODELS)} (default lstm).")
    ] = None,
    horizon: Annotated[
        int | None,
        typer.Option(help="Steps to forecast (default: one season of the frequency, else 8)."),
    ] = None,
    season: SeasonOpt = None,
    input_size: InputSizeOpt = None,
    max_steps: Annotated[int | None, typer.Option(help="Training steps at most.")] = None,
    hidden_size: HiddenOpt = None,
    loss: LossOpt = None,
    seed: SeedOpt = None,
    threads: ThreadsOpt = None,
    processes: ProcessesOpt = None,
    covariates: CovariatesOpt = None,
    config: Annotated[
        Path | None,
        typer.Option(help="TOML file: \\[fit] options and \\[model] parameters; flags win."),
    ] = None,
    out: Annotated[Path, typer.Option(help="Where to save the model.")] = Path("model.tsrnn"),
    id_col: IdCol = None,
    time_col: TimeCol = None,
    target_col: TargetCol = None,
    freq: FreqOpt = None,
    dayfirst: DayFirst = None,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No report, no progress.")] = False,
    keep_interrupted: Annotated[
        bool,
        typer.Option(
            "--keep-interrupted",
            help="On Ctrl-C, save the best weights so far to --out (default: keep --out as it was).",
        ),
    ] = False,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace --out even if it is not a tsrnn model file."),
    ] = False,
) -> None:
    """Train a global RNN/LSTM/GRU on DATA and save it: prints the data report, shows progress.

    Ctrl-C stops training and exits 130 without touching --out, unless --keep-interrupted.

    Example: tsrnn fit beijing_pm25 --model gru --horizon 24 --max-steps 300 --out gru.tsrnn
    """
    with _errors(kept=str(out)):
        flags = {
            "model": model,
            "horizon": _steps("--horizon", horizon),
            "season": _steps("--season", season),
            "input_size": _steps("--input-size", input_size),
            "max_steps": _steps("--max-steps", max_steps),
            "hidden_size": _steps("--hidden-size", hidden_size),
            "loss": loss,
            "seed": _steps("--seed", seed, least=0),
            "threads": _steps("--threads", threads),
            "processes": _steps("--processes", processes),
            "covariates": covariates,
        }
        check_target(out)
        if not force:
            _refuse_to_replace(out, data)
        settings = Settings.read(config, flags, "model")
        _State.from_config = settings.from_config()
        name = str(settings.options.get("model", "lstm")).lower()
        if name not in MODELS:
            raise DataError(f"unknown model {name!r}; choose one of {', '.join(MODELS)}")
        panel, data_report = _read(_resolve(data), id_col, time_col, target_col, freq, dayfirst)
        m = settings.season(season_length(panel.freq))
        h = settings.horizon(_default_horizon(m))
        (estimator,) = settings.build(name, h, m).values()
        check({name: estimator}, panel, settings.source)
        launch = launched()  # under torchrun, rank 0 reports and saves; the others train
        rank = launch.rank if launch is not None else 0
        quiet = quiet or rank != 0
        if not quiet:
            print(data_report.to_markdown())
        with _Reporter(_report_mode(quiet), estimator.name).running() as reporter:
            estimator.set_params(callback=reporter.train, verbose=_State.verbose)
            estimator.fit(panel)
        estimator.set_params(callback=None)
        if rank != 0:
            return
        if estimator.stop_reason_ == "interrupted":
            _interrupted_fit(estimator, out, keep_interrupted)
        estimator.save(out)
        history = estimator.history_
        summary = f"saved {out}: {estimator.name}, horizon {estimator.plan_.horizon}, "
        refit = getattr(estimator, "refit_", None)
        if refit is None:
            summary += f"{estimator.best_step_} steps kept ({estimator.stop_reason_})"
        else:
            summary += f"validated {estimator.steps_} steps ({estimator.stop_reason_})"
        if history.val_loss.notna().any():
            summary += f", validation loss {history.val_loss.min():.4g}"
        if refit is not None:
            summary += (
                f" at step {estimator.best_step_}; kept the refit on all {refit['windows']} "
                f"windows for {refit['steps']} steps ({refit['reason']})"
            )
        b = estimator.budget_
        summary += (
            f"; budget {b['steps']} steps of {b['batch']} windows ({b['passes']:.1f} passes, "
            f"set by {b['bound']}), {estimator.threads_} torch thread(s)"
        )
        if (estimator.num_processes or 1) > 1:
            summary += f" on each of {estimator.num_processes} processes"
        err.print(summary, markup=False)


def _refuse_swapped(model: Path, data: str) -> None:
    """``tsrnn predict DATA MODEL``: say the two are swapped, not that the data is no model."""
    from tsrnn.models.persistence import looks_like_text, read_model

    if not looks_like_text(model) or not Path(data).is_file():
        return
    try:
        read_model(data)
    except (DataError, OSError):
        return
    raise DataError(
        f"{model} is data and {data} a model file: the model comes first, "
        f"tsrnn predict {data} {model}"
    )


def _refuse_to_replace(out: Path, data: str) -> None:
    """``--out`` may replace an earlier model file, never the data or another file of the
    user's (checked before the data is read)."""
    if not out.exists():
        return
    from tsrnn.models.persistence import read_model

    try:
        read_model(out)
    except DataError:
        what = "the data being read" if _same_file(out, data) else "not a tsrnn model file"
        raise DataError(
            f"{out} exists and is {what}; saving the model would replace it: choose another "
            "--out (or pass --force to replace it)"
        ) from None


# How the files tsrnn writes begin: an existing file that begins otherwise is the user's.
REPORT_START = b"# Data report: "
FORECASTS_START = b"unique_id,ds,"


def _refuse_foreign(flag: str, out: Path, start: bytes, written: str) -> None:
    """``flag``'s file may replace an earlier one tsrnn wrote, never another file of the
    user's (unless ``--force``)."""
    if not out.is_file():
        return
    with open(out, "rb") as f:
        if f.read(len(start)) == start:
            return
    raise DataError(
        f"{out} exists and is not {written} tsrnn wrote; writing {flag} there would replace it: "
        f"choose another {flag} (or pass --force to replace it)"
    )


def _same_file(a: Path, b: str) -> bool:
    try:
        return a.samefile(b)  # links and other spellings of one file included
    except OSError:  # either is missing (a bundled data set's name, a new output)
        return False


def _refuse_an_input(flag: str, out: Path, written: str, **inputs: str) -> None:
    """``flag``'s file is none of the ``inputs`` the command reads (writing would replace it)."""
    for what, given in inputs.items():
        if _same_file(out, given):
            raise DataError(
                f"{flag} {out} is the {what} file being read; writing the {written} there "
                f"would replace it: choose another {flag}"
            )


def _interrupted_fit(estimator, out: Path, keep: bool) -> None:
    """Ctrl-C stopped training: save only if asked, say what was kept where, exit 130."""
    steps = estimator.budget_["steps"]
    code, words = _stopped()
    done = f"{words} after {estimator.steps_} of {steps} steps"
    if keep:
        estimator.save(out)
        line = f"{done}; saved the best weights so far (step {estimator.best_step_}) to {out}"
    else:
        state = "left as it was" if out.exists() else "not written"
        line = f"{done}; {out} {state} (pass --keep-interrupted to save the weights so far)"
    err.print(line, markup=False)
    raise typer.Exit(code)


@app.command()
def predict(
    model: Annotated[Path, typer.Argument(help="A model saved by `tsrnn fit`.")],
    data: DataArg,
    horizon: Annotated[
        int | None, typer.Option(help="Steps to forecast (default: the model's horizon).")
    ] = None,
    quantiles: Annotated[
        str | None, typer.Option(help="Comma-separated quantile levels, e.g. 0.1,0.5,0.9.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option(help="Write the forecasts to this CSV (default: stdout).")
    ] = None,
    id_col: IdCol = None,
    time_col: TimeCol = None,
    target_col: TargetCol = None,
    freq: FreqOpt = None,
    dayfirst: DayFirst = None,
    level: LevelOpt = None,
    force: Annotated[
        bool,
        typer.Option("--force", help="Replace --out even if tsrnn did not write it."),
    ] = False,
) -> None:
    """Forecast the series of DATA (their histories up to now) with a saved model.

    Example: tsrnn predict gru.tsrnn beijing_pm25 --quantiles 0.1,0.9 --out forecasts.csv
    """
    with _errors(kept=None if out is None else str(out)):
        _steps("--horizon", horizon)
        if out is not None:
            check_target(out, example="forecasts.csv")
            _refuse_an_input("--out", out, "forecasts", DATA=data, MODEL=str(model))
            if not force:
                _refuse_foreign("--out", out, FORECASTS_START, "forecasts")
        if not model.exists():
            raise DataError(f"{model}: no such model file; train one with `tsrnn fit`")
        _refuse_swapped(model, data)
        intervals = _levels(level)
        estimator = tsrnn.load(model)
        levels = None
        if quantiles:
            try:
                levels = [float(q) for q in quantiles.split(",") if q.strip()]
            except ValueError:
                raise DataError(
                    f"--quantiles {quantiles!r}: use numbers between 0 and 1, e.g. 0.1,0.9"
                ) from None
            if levels and all(1 < q < 100 for q in levels):  # percentiles
                fractions = ",".join(f"{q / 100:g}" for q in levels)
                raise DataError(
                    f"--quantiles {quantiles}: quantile levels are fractions between 0 and 1; "
                    f"for these percentiles write --quantiles {fractions}"
                )
        panel, _ = _read(_resolve(data), id_col, time_col, target_col, freq, dayfirst)
        try:
            forecasts = estimator.predict(horizon, quantiles=levels, y=panel, level=intervals)
        except ValueError as exc:  # the data, a horizon or a quantile: the user's input
            raise DataError(f"{data}: {exc}") from None
        text = forecasts.to_csv(index=False)
        if out is None:
            print(text, end="")
        else:
            write_text_atomic(out, text)
            rows = f"{len(forecasts)} row" + ("s" if len(forecasts) != 1 else "")
            err.print(f"wrote {out}: {rows}", markup=False)


def _command_line(ctx: typer.Context) -> str:
    """The running command as a user would type it: arguments, then options not at default."""
    import shlex

    words = ["tsrnn", ctx.info_name or ""]
    for param in ctx.command.params:
        value = ctx.params.get(param.name)
        if param.param_type_name == "argument":
            words.append(str(value))
        elif value != param.default and value is not None:
            flag = (
                param.opts[0] if not isinstance(value, bool) or value else param.secondary_opts[0]
            )
            words += [flag] if isinstance(value, bool) else [flag, str(value)]
    return shlex.join(words)


@app.command()
def backtest(
    ctx: typer.Context,
    data: DataArg,
    models: Annotated[
        str | None,
        typer.Option(
            help=f"Comma-separated: {', '.join((*MODELS, *BASELINES, 'ensemble'))} "
            f"(default {DEFAULT_MODELS}); ensemble: the median of lstm, ets and theta, or of "
            "the [ensemble] table's models."
        ),
    ] = None,
    horizon: Annotated[
        int | None, typer.Option(help="Steps per window (default: one season, else 8).")
    ] = None,
    season: SeasonOpt = None,
    windows: Annotated[int, typer.Option(help="Forecast windows per series.")] = 3,
    step: Annotated[
        int | None, typer.Option(help="Steps between cutoffs (default: horizon).")
    ] = None,
    refit: Annotated[
        bool, typer.Option("--refit/--no-refit", help="Refit at every window, or fit once.")
    ] = True,
    max_steps: Annotated[int | None, typer.Option(help="Neural training steps at most.")] = None,
    input_size: InputSizeOpt = None,
    hidden_size: HiddenOpt = None,
    loss: LossOpt = None,
    seed: SeedOpt = None,
    threads: ThreadsOpt = None,
    processes: ProcessesOpt = None,
    covariates: CovariatesOpt = None,
    jobs: JobsOpt = None,
    backend: BackendOpt = None,
    scheduler: SchedulerOpt = None,
    config: Annotated[
        Path | None,
        typer.Option(help="TOML file: \\[fit] options and \\[model] parameters; flags win."),
    ] = None,
    report_dir: Annotated[
        Path | None, typer.Option(help="Report folder (default reports/<data name>).")
    ] = None,
    id_col: IdCol = None,
    time_col: TimeCol = None,
    target_col: TargetCol = None,
    freq: FreqOpt = None,
    dayfirst: DayFirst = None,
    level: LevelOpt = None,
    metric: Annotated[
        str,
        typer.Option(
            help="What ranks the leaderboard and decides the verdict (lower is better): mase, "
            "mae, rmse, smape, mape, rmsse, mse."
        ),
    ] = "mase",
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="No progress output.")] = False,
    force: Annotated[
        bool,
        typer.Option(
            "--force", help="Replace the previous report even if files were added to its folder."
        ),
    ] = False,
) -> None:
    """Backtest neural and baseline models on identical rolling windows of DATA; write a report
    (HTML, Markdown, CSV, JSON).

    The report folder is replaced whole, and only when the run completes: Ctrl-C exits 130 and
    leaves the previous report as it was.

    Example: tsrnn backtest beijing_pm25 --models lstm,snaive,ets --horizon 24 --windows 3
    """
    folder = report_dir or Path("reports") / Path(str(data)).name.split(".")[0]
    with _errors(kept=f"the report folder {folder}"):
        from tsrnn.evaluate.backtest import backtest as run_backtest
        from tsrnn.evaluate.backtest import cutoffs
        from tsrnn.report.backtest_report import check_report_folder, headline, write_report

        _steps("--windows", windows)
        _steps("--step", step)
        intervals = _levels(level)
        _ranking(metric)
        flags = {
            "models": models,
            "horizon": _steps("--horizon", horizon),
            "season": _steps("--season", season),
            "max_steps": _steps("--max-steps", max_steps),
            "input_size": _steps("--input-size", input_size),
            "hidden_size": _steps("--hidden-size", hidden_size),
            "loss": loss,
            "seed": _steps("--seed", seed, least=0),
            "threads": _steps("--threads", threads),
            "processes": _steps("--processes", processes),
            "covariates": covariates,
            "jobs": _steps("--jobs", jobs),
            "backend": backend,
            "scheduler": scheduler,
        }
        settings = Settings.read(config, flags, "models")
        _State.from_config = settings.from_config()
        where, address = settings.backend()
        if where == "dask":  # dask logs its cluster's comings and goings at INFO on its own
            logging.getLogger("distributed").setLevel(
                logging.INFO if _State.verbose else logging.ERROR
            )
        check_report_folder(folder, force=force)
        path = _resolve(data)
        panel, data_report = _read(path, id_col, time_col, target_col, freq, dayfirst)
        m = settings.season(season_length(panel.freq))
        h = settings.horizon(_default_horizon(m))
        names = settings.options.get("models", DEFAULT_MODELS)
        chosen = settings.build(names, h, m)
        check(chosen, panel, settings.source)
        cutoffs(panel, h, windows, step)
        warning = settings.oversubscribed()
        if warning:
            err.print(f"warning: {warning}", markup=False)
        per_series = [n for n, m in chosen.items() if "n_jobs" in _member_params(m)]
        # A Dask scheduler is reached (or a local cluster started) here, before any fit.
        with parallel_backend(
            where if per_series else "joblib", scheduler=address, n_workers=settings.jobs()
        ) as client:
            if not quiet:
                if client is not None:
                    workers = f"; the Dask cluster at {client.scheduler.address} for "
                else:
                    workers = f"; {settings.jobs()} worker process(es) for "
                err.print(
                    f"backtesting {', '.join(chosen)} on {panel.n_series} series: {windows} "
                    f"windows of {h} steps"
                    + (workers + ", ".join(per_series) if per_series else ""),
                    markup=False,
                )
            with _Reporter(_report_mode(quiet)).running() as reporter:
                for model in chosen.values():  # neural fits show their training progress
                    if "callback" in model.get_params():
                        model.set_params(callback=reporter.train, verbose=_State.verbose)
                result = run_backtest(
                    chosen,
                    panel,
                    h,
                    n_windows=windows,
                    step=step,
                    refit=refit,
                    level=intervals,
                    season=m,
                    progress=reporter.step,
                )
        write_report(
            result,
            folder,
            data_report=data_report,
            data_path=path,
            command=_command_line(ctx),
            histories=result.histories,
            seed=settings.neural_params(h).get("random_state", 0),
            metric=metric,
            force=force,
        )
        print(_board_text(result, metric))
        print(headline(result, metric))
        err.print(f"wrote {folder}/report.md and {folder}/report.html", markup=False)


def _member_params(model: Any) -> dict[str, Any]:
    """A model's parameters, an ensemble's members' together."""
    params = dict(model.get_params())
    for member in getattr(model, "models", None) or []:
        params.update(member.get_params())
    return params


def _board_text(result: Any, metric: str) -> str:
    """The leaderboard as the report shows it (``board_table``): rank, model, the metric,
    skill against the best baseline and the Diebold-Mariano p-value."""
    import pandas as pd

    from tsrnn.report.backtest_report import board_table, default_reference

    scores = result.metrics([metric], by=None, targets=False)
    reference = default_reference(scores, metric, result.baselines)
    header, rows = board_table(result.leaderboard(metric, reference=reference), metric, reference)
    return pd.DataFrame(rows, columns=header).to_string(index=False)


def _ranking(metric: str) -> None:
    """``--metric`` names a point metric that ranks (bias does not: lower is not better)."""
    from tsrnn.evaluate.metrics import POINT_METRICS

    ranks = [m for m in POINT_METRICS if m != "bias"]
    if metric not in ranks:
        raise DataError(f"--metric {metric}: choose one of {', '.join(ranks)}")


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
