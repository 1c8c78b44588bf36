"""The backtest report: one folder that says which model forecasts best, by how much, and how.

:func:`write_report` writes ``report.html`` (self-contained: plots embedded, no external
resource), ``report.md`` (GitHub and terminal; its plots in ``plots/``), ``metrics.csv``,
``forecasts.csv`` and ``manifest.json`` (what produced the report, to repeat it). Both
documents are rendered from the same sections, with numbers formatted by one function
(:func:`format_number`), so they show exactly the figures of ``metrics.csv``.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import platform
from collections.abc import Mapping, Sequence
from datetime import datetime, timezone
from importlib.metadata import PackageNotFoundError, version
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from tsrnn.files import atomic_folder, check_target
from tsrnn.report import plots, render

if TYPE_CHECKING:
    from tsrnn.data.report import DataReport
    from tsrnn.evaluate.backtest import BacktestResult

METRICS = ("mae", "rmse", "smape", "mape", "mase")
FILES = ("report.html", "report.md", "metrics.csv", "forecasts.csv", "manifest.json")
_DIGITS = 4  # significant digits of every metric shown
_LISTED = 20  # rows of fallbacks / skipped series listed before eliding

# A section is (heading, blocks); a block is ("p", text), ("code", text), ("img", file, alt)
# or ("table", header, rows, numeric columns, bold row index or None).
Block = tuple[Any, ...]


def format_number(value: Any) -> str:
    """A metric as shown in the reports: ``4`` significant digits, never in exponent form.

    >>> format_number(1.174787), format_number(73.2222), format_number(12345.6), format_number(None)
    ('1.175', '73.22', '12350', '—')
    """
    if value is None or (isinstance(value, float | np.floating) and not math.isfinite(value)):
        return "—"
    return np.format_float_positional(
        float(value), precision=_DIGITS, unique=False, fractional=False, trim="-"
    )


def write_report(
    result: BacktestResult,
    folder: str | os.PathLike[str],
    *,
    data_report: DataReport | None = None,
    data_path: str | os.PathLike[str] | None = None,
    command: str | None = None,
    histories: Mapping[str, pd.DataFrame] | None = None,
    reference: str | None = None,
    metric: str = "mase",
    seed: int | None = None,
    title: str = "tsrnn backtest",
    extra_files: Mapping[str, str] | None = None,
    force: bool = False,
) -> Path:
    """Write the report of a backtest to ``folder``, replacing a previous report whole.

    Parameters
    ----------
    result : BacktestResult
    folder : str or os.PathLike
        Created (with its parents) if missing. An existing folder is replaced only if it is
        empty or holds a tsrnn report and nothing else (see :func:`check_report_folder`), so
        that a mistyped path never deletes a user's files.
    data_report : DataReport, optional
        What reading the data found (series, gaps, missing values), for the summary.
    data_path : str or os.PathLike, optional
        The input file; its SHA-256 goes into the manifest.
    command : str, optional
        The command line that produced the backtest, for the manifest.
    histories : mapping of str to pandas.DataFrame, optional
        Model name to its ``history_`` (``step``, ``loss``, ``val_loss``): training curves.
        Default: ``result.histories`` where the backtest kept them.
    reference : str, optional
        The model skill and Diebold-Mariano tests are measured against; default: the best
        baseline by ``metric`` (``result.baselines``), none if there is none.
    metric : str, default "mase"
        Ranks the leaderboard and picks the plotted series.
    seed : int, optional
        Recorded in the manifest.
    title : str, default "tsrnn backtest"
    extra_files : mapping of str to str, optional
        File name to text of further files to write in the folder (a benchmark's table, say);
        they are part of the report, listed in its manifest.
    force : bool, default False
        Replace a previous report even if files were added to it since (they are lost).

    Returns
    -------
    pathlib.Path
        The folder. It is built beside the target and renamed into place: an error midway
        leaves the previous report (or nothing), never a partial one.
    """
    if histories is None:
        histories = getattr(result, "histories", None)
    target = check_report_folder(folder, force=force)
    extras = dict(extra_files or {})
    clash = sorted(set(extras) & set(FILES))
    if clash or any("/" in name or name.startswith(".") for name in extras):
        raise ValueError(f"write_report: extra_files {sorted(extras)} must be plain new names")
    with atomic_folder(target) as tmp:
        for name, text in extras.items():
            (tmp / name).write_text(text, encoding="utf-8")
        _build(
            tmp, result, data_report, data_path, command, histories, reference, metric, seed, title
        )
    return target


def default_reference(scores: pd.DataFrame, metric: str, baselines: Sequence[str]) -> str | None:
    """The best baseline of a ``result.metrics`` table: lowest ``metric`` among ``baselines``
    (``result.baselines``: the models the registry calls statistical baselines); None if
    there is none."""
    rows = scores[scores["model"].isin(list(baselines))]
    rows = rows.sort_values(metric, kind="stable", na_position="last")
    return None if rows.empty else str(rows["model"].iloc[0])


def verdict(scores: pd.DataFrame, metric: str, baselines: Sequence[str]) -> str:
    """One plain sentence: which model won on ``metric`` (lower is better) and by how much,
    against the best of the other side (the best baseline when a network or an ensemble won,
    the best other model when a baseline won), else against the runner-up.

    >>> scores = pd.DataFrame({"model": ["LSTM", "Naive2"], "mase": [0.62, 0.48]})
    >>> verdict(scores, "mase", ["Naive2"])  # doctest: +NORMALIZE_WHITESPACE
    'Naive2, a statistical baseline, won: mase 0.48, 23% lower than the best other model,
    LSTM (0.62).'
    >>> verdict(scores.assign(mase=[0.5, 0.503]), "mase", ["Naive2"])
    'LSTM won: mase 0.5, 0.6% lower than the best baseline, Naive2 (0.503).'
    """
    pair = _contest(scores, metric, baselines)
    if isinstance(pair, str):
        return pair
    name, value, runner, against, label, who = pair
    if against == value:
        return f"{who} tied with {runner}: {metric} {format_number(value)} both."
    return (
        f"{who} won: {metric} {format_number(value)}, {_gap(value, against)} lower than "
        f"{label}, {runner} ({format_number(against)})."
    )


def headline(result: BacktestResult, metric: str = "mase") -> str:
    """The report's first sentence: who won on ``metric``, by how much, over how many
    series-windows, whether a Diebold-Mariano test finds it significant, and how long each
    of the two took.

    >>> from tsrnn import SeasonalNaive, Naive, backtest, datasets
    >>> result = backtest([Naive(), SeasonalNaive()], datasets.load("air_passengers"), 12)
    >>> first, rest = headline(result).split("; ")
    >>> first
    'SeasonalNaive, a statistical baseline, beat Naive by 51% on mase (1.175 against 2.395) over 3 series-windows'
    >>> rest.split(". ")[0]
    'too few windows for a significance test (3, fewer than 10)'
    """
    from tsrnn.evaluate.backtest import MIN_DM_WINDOWS, dm_loss

    scores = result.metrics([metric], by=None, targets=False)
    pair = _contest(scores, metric, result.baselines)
    if isinstance(pair, str):
        return pair
    name, value, runner, against, _, who = pair
    n = result.n_windows_scored()
    over = f"over {_count(n, 'series-window')}"
    if against == value:
        text = f"{who} tied with {runner} on {metric} ({format_number(value)}) {over}"
    else:
        text = (
            f"{who} beat {runner} by {_gap(value, against)} on {metric} "
            f"({format_number(value)} against {format_number(against)}) {over}"
        )
    if n < MIN_DM_WINDOWS:
        text += f"; too few windows for a significance test ({n}, fewer than {MIN_DM_WINDOWS})."
    else:
        p = dm_loss(result, name, runner, metric)
        if p != p:  # NaN: the test could not run (identical losses, say)
            text += "; no significance test could be run on these losses."
        else:
            verdict_p = "significant" if p < 0.05 else "not significant at 5 %"
            shown = "p < 0.001" if p < 0.001 else f"p = {p:.3f}"
            text += f"; {verdict_p} (one-sided Diebold-Mariano {shown})."
    seconds = result.timings.assign(total=result.timings.fit_s + result.timings.predict_s)
    took = seconds.set_index("model")["total"]
    if name in took and runner in took:
        text += (
            f" {name} took {_seconds(took[name])}, {runner} {_seconds(took[runner])} (fits and "
            "forecasts)."
        )
    return text


def board_table(
    board: pd.DataFrame, metric: str, reference: str | None
) -> tuple[list[str], list[list[str]]]:
    """A leaderboard as the report shows it (and the CLI prints it): the header and one row
    of text per model: rank, model, the metric, skill against ``reference``, the DM p-value."""
    rows = [
        [
            str(r["rank"]),
            str(r["model"]),
            format_number(r[metric]),
            _skill(r, reference),
            _p(r.get("p_value")),
        ]
        for _, r in board.iterrows()
    ]
    return ["rank", "model", metric, f"skill vs {reference or '-'}", "DM p-value"], rows


def _contest(
    scores: pd.DataFrame, metric: str, baselines: Sequence[str]
) -> tuple[str, float, str, float, str, str] | str:
    """The winner and whom it is measured against: the best of the other side (the best
    baseline when a network or an ensemble won, the best other model when a baseline won),
    else the runner-up; a sentence instead when there is no contest."""
    rows = scores.dropna(subset=[metric]).sort_values(metric, kind="stable")
    if rows.empty:
        return f"No model has a {metric} here: no verdict."
    best = rows.iloc[0]
    name, value = str(best["model"]), float(best[metric])
    if len(rows) == 1:
        return f"{name} is the only model scored: {metric} {format_number(value)}."
    is_base = rows["model"].isin(list(baselines))
    won_base = bool(is_base.iloc[0])
    others = rows[~is_base] if won_base else rows[is_base]
    label = "the best other model" if won_base else "the best baseline"
    if others.empty:
        others, label = rows.iloc[1:], "the runner-up"
    other = others.iloc[0]
    who = f"{name}, a statistical baseline," if won_base else name
    return name, value, str(other["model"]), float(other[metric]), label, who


def _gap(value: float, against: float) -> str:
    gap = (against - value) / abs(against) if against else float("nan")
    return f"{gap:.0%}" if gap >= 0.095 else f"{gap:.1%}"


def _seconds(value: float) -> str:
    return f"{value:.1f} s" if value >= 0.05 else "under 0.1 s"


def check_report_folder(folder: str | os.PathLike[str], *, force: bool = False) -> Path:
    """Raise now, before a backtest runs, if a report could not replace ``folder``.

    A report replaces its folder whole, so the folder must be new, empty, or a tsrnn report
    holding only the files that report wrote (listed in its manifest); with ``force``, files
    added to a report since are replaced too. The current folder and the folders above it
    are always refused, and so is a folder that cannot be written.

    Returns
    -------
    pathlib.Path
        ``folder``.

    Raises
    ------
    FileExistsError
        Naming the file that would be lost, or the reason the folder is not a report's.
    PermissionError, NotADirectoryError
        When nothing can be created where the folder would go.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> where = pathlib.Path(tempfile.mkdtemp())
    >>> (where / "notes.txt").write_text("mine")
    4
    >>> check_report_folder(where)
    Traceback (most recent call last):
    ...
    FileExistsError: ... exists and is not a tsrnn report (it holds notes.txt); ...
    """
    target = Path(folder)
    check_target(target, folder=True)
    here = Path.cwd().resolve()
    if target.resolve() in (here, *here.parents):
        raise FileExistsError(
            f"{folder} is the current folder or one above it; a report replaces its folder "
            "whole, so give it one of its own, e.g. reports/NAME"
        )
    if not target.exists():
        return target
    present = sorted(
        str(p.relative_to(target)) for p in target.rglob("*") if p.is_file() or p.is_symlink()
    )
    if not present and not any(target.iterdir()):
        return target
    written = _report_files(target / "manifest.json")
    if written is None:
        shown = ", ".join(present[:3]) + (", ..." if len(present) > 3 else "")
        raise FileExistsError(
            f"{target} exists and is not a tsrnn report (it holds {shown or 'empty folders'}); "
            "choose a new or empty folder"
        )
    foreign = [name for name in present if name not in written]
    if foreign and not force:
        raise FileExistsError(
            f"{target / foreign[0]} is not a file the report wrote ({len(foreign)} such "
            f"file(s) in {target}); move it out of the report folder, or pass --force "
            "(force=True) to replace the folder and lose it"
        )
    return target


def _report_files(manifest: Path) -> set[str] | None:
    """The files a report's manifest lists (None if ``manifest`` is not a tsrnn report's)."""
    try:
        meta = json.loads(manifest.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(meta, dict) or meta.get("format") != "tsrnn-report":
        return None
    files = meta.get("files")
    if not isinstance(files, list):  # reports written before manifests listed their files
        files = [*FILES, *(f"plots/{p.name}" for p in manifest.parent.glob("plots/*.png"))]
        files.append("benchmark.md")  # the benchmarks of that time wrote their table beside it
    return {str(f) for f in files}


def _build(
    tmp: Path,
    result: BacktestResult,
    data_report: DataReport | None,
    data_path: str | os.PathLike[str] | None,
    command: str | None,
    histories: Mapping[str, pd.DataFrame] | None,
    reference: str | None,
    metric: str,
    seed: int | None,
    title: str,
) -> None:
    # From Python (no command line, no file): the call the backtest recorded, the models'
    # seeds and the data's own hash, so that the report can be repeated and checked.
    if command is None:
        command = result.config.get("call")
    if seed is None:
        seeds = {
            name: info["params"]["random_state"]
            for name, info in result.model_info.items()
            if "random_state" in info.get("params", {})
        }
        seed = next(iter(set(seeds.values()))) if len(set(seeds.values())) == 1 else seeds or None
    names = list(METRICS) + ([metric] if metric not in METRICS else [])
    scores = result.metrics(names, by=None)
    if reference is None:
        reference = default_reference(scores, metric, result.baselines)
    board = result.leaderboard(metric, reference=reference)
    scores.to_csv(tmp / "metrics.csv", index=False)
    result.forecasts.to_csv(tmp / "forecasts.csv", index=False)
    (tmp / "plots").mkdir()

    images: dict[str, bytes] = {}
    body = _sections(result, scores, board, data_report, histories, reference, metric, images)
    for name, png in images.items():
        (tmp / "plots" / name).write_bytes(png)

    created = datetime.now(timezone.utc).isoformat(timespec="seconds")
    lead = [f"Created {created} with tsrnn {_version('tsrnn')}."]
    (tmp / "report.md").write_text(render.markdown(title, lead, command, body), encoding="utf-8")
    (tmp / "report.html").write_text(
        render.html_page(title, lead, command, body, images), encoding="utf-8"
    )
    manifest = {
        "format": "tsrnn-report",
        "format_version": 1,
        "title": title,
        "created": created,
        "command": command,
        "seed": seed,
        "metric": metric,
        "reference": reference,
        "season": result.season,
        "models": list(result.models),
        "model_params": result.model_info,
        "config": result.config,
        "input": {
            "path": None if data_path is None else str(data_path),
            "sha256": None if data_path is None else _sha256(Path(data_path)),
            "data_sha256": result.config.get("data_sha256"),  # the data as read
        },
        "versions": {
            "tsrnn": _version("tsrnn"),
            **{p: _version(p) for p in ("torch", "statsmodels", "numpy", "pandas", "matplotlib")},
            "python": platform.python_version(),
        },
        "machine": {
            "platform": platform.platform(),
            "processor": platform.processor() or platform.machine(),
            "cpu_count": os.cpu_count(),
        },
        "timings": result.timings.to_dict(orient="records"),
        # what each network's fit resolved from the data (results saved before: none)
        "choices": result.choices.to_dict(orient="records"),
        "files": sorted({*FILES, *(p.name for p in tmp.iterdir() if p.is_file())})
        + [f"plots/{n}" for n in sorted(images)],
    }
    text = json.dumps(_plain(manifest), indent=2, allow_nan=False)
    (tmp / "manifest.json").write_text(text + "\n", encoding="utf-8")


def _version(package: str) -> str | None:
    if package == "tsrnn":
        import tsrnn

        return tsrnn.__version__
    try:
        return version(package)
    except PackageNotFoundError:
        return None


def _sha256(path: Path) -> str:
    """The file's SHA-256; a folder's (Parquet parts): of each file's relative path and bytes,
    in name order."""
    digest = hashlib.sha256()
    files = sorted(f for f in path.rglob("*") if f.is_file()) if path.is_dir() else [path]
    for file in files:
        if path.is_dir():
            digest.update(file.relative_to(path).as_posix().encode() + b"\0")
        with file.open("rb") as f:
            for chunk in iter(lambda f=f: f.read(1 << 20), b""):
                digest.update(chunk)
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    """JSON types: numpy scalars unwrapped, NaN and NA as null, anything else unknown as a
    string."""
    if value is pd.NA:
        return None
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float):
        return value if math.isfinite(value) else None
    if value is None or isinstance(value, bool | int | str):
        return value
    return str(value)


# ---------------------------------------------------------------------- content
def _table(
    header: list[str], rows: list[list[str]], numeric: int = 1, bold: int | None = None
) -> Block:
    """A table block; columns from ``numeric`` on are right-aligned numbers."""
    return ("table", header, rows, set(range(numeric, len(header))), bold)


def _sections(
    result: BacktestResult,
    scores: pd.DataFrame,
    board: pd.DataFrame,
    data_report: DataReport | None,
    histories: Mapping[str, pd.DataFrame] | None,
    reference: str | None,
    metric: str,
    images: dict[str, bytes],
) -> list[tuple[str, list[Block]]]:
    """The report's sections; the figures they show are added to ``images`` (file -> PNG)."""
    f, order = format_number, list(board["model"])
    text = f"Models ranked by their mean {metric} over series and windows (lower is better)"
    if reference is None:
        text += "; no baseline to measure skill against."
    else:
        text += (
            f". Skill: 1 - {metric} / {metric} of {reference}, "
            + (
                "the best baseline"
                if reference == default_reference(scores, metric, result.baselines)
                else "the reference"
            )
            + " (higher is better). DM p-value: one-sided Diebold-Mariano test (HLN correction, on the mean "
            f"{metric} loss of each window) that the model beats {reference}; small means it does."
        )
        note = result.dm_note()
        if note:
            text += f" This backtest has {note[0].lower()}{note[1:]}."
    header, rows = board_table(board, metric, reference)
    board_blocks = [("p", text), ("table", header, rows, {0, 2, 3, 4}, 0)]

    counts = ("model", "n_series", "n_undefined", "n_zero_actuals")
    names = [c for c in scores.columns if c not in counts]
    rows = [
        [str(r["model"]), *(f(r[n]) for n in names), str(r["n_series"]), str(r["n_undefined"])]
        for _, r in scores.set_index("model")
        .loc[order + [m for m in scores["model"] if m not in order]]  # then extra targets
        .reset_index()
        .iterrows()
    ]
    text = (
        "Means over every series and window; sMAPE and MAPE in percent. n: series-windows "
        "scored; undefined: those where a metric could not be computed (left out of its mean)."
    )
    zeros = int(scores["n_zero_actuals"].max()) if "n_zero_actuals" in scores else 0
    if zeros:
        text += (
            f" MAPE is undefined where the actual is 0: {_count(zeros, 'step')} of each "
            "model's forecasts are left out of it."
        )
    metric_blocks = [("p", text), _table(["model", *names, "n", "undefined"], rows, bold=0)]

    per_series = result.metrics([metric], by="series").set_index("model").loc[order].reset_index()
    images["distribution.png"] = plots.plot_metric_distribution(per_series, metric)
    spread = per_series.groupby("model", sort=False)[metric]
    q = spread.quantile([0.1, 0.5, 0.9]).unstack()
    worst = spread.max()
    rows = [[m, f(q.loc[m, 0.1]), f(q.loc[m, 0.5]), f(q.loc[m, 0.9]), f(worst[m])] for m in order]
    alt = f"Box plot of {metric} per series and window for each model"
    spread_blocks = [
        ("img", "distribution.png", alt),
        _table(["model", "p10", "median", "p90", "worst"], rows),
    ]

    per_h = result.metrics([metric], by="horizon").set_index("model").loc[order].reset_index()
    roles = _roles(result, order, reference)
    images["horizon.png"] = plots.plot_horizon_errors(per_h, metric, roles)
    wide = per_h.pivot(index="step", columns="model", values=metric)[order]
    # One row per model as in the other tables, and at most 8 steps (the first, the last and
    # evenly between), so the table fits the page at any number of models; the plot has them
    # all.
    steps = np.unique(np.linspace(1, len(wide), min(8, len(wide))).round().astype(int))
    rows = [[m, *(f(wide.loc[s, m]) for s in steps)] for m in order]
    alt = f"{metric} against the step ahead, one line per model"
    header = ["model", *(f"step {s}" for s in steps)]
    horizon_blocks = [("img", "horizon.png", alt), _table(header, rows)]

    rows = [
        [
            str(r["model"]),
            str(r["fits"]),
            f"{r['fit_s']:.3f}",
            f"{r['predict_s']:.3f}",
            "-" if pd.isna(r["threads"]) else str(r["threads"]),
        ]
        for _, r in result.timings.iterrows()
    ]
    body = [
        ("Verdict", [("p", headline(result, metric))]),
        ("Summary", _summary(result, data_report)),
        ("Leaderboard", board_blocks),
        ("Metrics", metric_blocks),
        (f"Distribution of {metric}", spread_blocks),
        ("Error by horizon step", horizon_blocks),
        ("Forecasts", _forecasts(result, per_series, roles, metric, images)),
    ]
    if histories:
        body.append(("Training curves", _training(histories, images)))
    timings = _table(["model", "fits", "fit (s)", "forecast (s)", "threads"], rows)
    note = (
        "Wall-clock seconds, all windows together. fit: training, once per refit; forecast: "
        "every window's forecasts, including carrying a fitted model to the later cutoffs "
        "between refits (filtering the new data, not refitting). threads: the CPU threads a "
        "network's last fit trained on."
    )
    body.append(("Timings", [("p", note), timings]))
    return body


def _summary(result: BacktestResult, data_report: DataReport | None) -> list[Block]:
    c = result.config
    n_windows, step = int(c.get("n_windows") or 0), c.get("step")
    windows = f"{_count(n_windows, 'window')} of {_count(result.horizon, 'step')}"
    if n_windows > 1:
        windows += f", {_count(int(step), 'step')} apart"
    history = (
        "all history before each cutoff"
        if c.get("window") != "sliding"
        else (f"the last {_count(int(c.get('window_size') or 0), 'point')} before each cutoff")
    )
    refit = c.get("refit")
    refits = {True: "at every window", False: "once, before the first window"}.get(
        refit, f"every {_count(int(refit), 'window')}"
    )
    skipped = len(result.skipped)
    facts = [
        ["models", ", ".join(result.models)],
        ["series", f"{result.forecasts['unique_id'].nunique():,}"],
        ["windows", windows],
        ["trained on", history],
        ["refit", refits],
        ["frequency", str(c.get("freq"))],
        ["season", f"{result.season} (of the scaled metrics, MASE and RMSSE)"],
        [
            "skipped",
            "none" if not skipped else f"{_count(skipped, 'series-window')} (too little history)",
        ],
    ]
    blocks: list[Block] = [_table(["backtest", ""], facts, numeric=2)]
    if data_report is not None:
        d = data_report.to_dict()
        facts = [
            ["file", Path(d["path"]).name],
            ["layout", d["layout"]],
            ["series", f"{d['n_series']:,}"],
            ["points", f"{sum(s['length'] for s in d['series']):,}"],
            ["span", f"{_day(d['start'])} to {_day(d['end'])}"],
            ["frequency", str(d["freq"])],
            ["missing target", f"{d['missing_target_pct']:.2f}%"],
            ["gaps inserted", f"{d['gaps_inserted']:,}"],
            ["duplicates merged", f"{d['duplicates_merged']:,}"],
        ]
        blocks.append(_table(["data", ""], facts, numeric=2))
        if d["missing_target_pct"] > 0:
            text = (
                "The data have missing values: each model imputed its inputs causally (by its "
                "impute setting, never reading past the cutoff); missing actuals were left out "
                "of the metrics, not filled in."
            )
            blocks.append(("p", text))
    for frame, what in (
        (result.fallbacks, "fell back to a naive forecast"),
        (result.skipped, "sat out (too little history)"),
    ):
        if len(frame):
            rows = [[str(v) for v in r] for r in frame.head(_LISTED).itertuples(index=False)]
            if len(frame) > _LISTED:
                rows.append([f"... {len(frame) - _LISTED} more"] + [""] * (frame.shape[1] - 1))
            text = f"{_count(len(frame), 'series-window')} {what}:"
            blocks += [("p", text), _table(list(frame.columns), rows, numeric=frame.shape[1])]
        elif frame is result.fallbacks:
            blocks.append(("p", "No model fell back to a naive forecast."))
    return blocks


def _roles(result: BacktestResult, order: list[str], reference: str | None) -> dict[str, str]:
    """The models a reader looks for: the leader (``"best"``), the reference baseline, the
    best network (``"neural"``), each once, in that order."""
    roles = {order[0]: "best"}
    if reference is not None and reference not in roles:
        roles[reference] = "reference"
    neural = [m for m in order if _is_network(result, m)]
    if neural and neural[0] not in roles:
        roles[neural[0]] = "neural"
    return roles


def _is_network(result: BacktestResult, model: str) -> bool:
    info = result.model_info.get(model, {})
    return info.get("class") in (
        "NeuralForecaster",
        "LSTMForecaster",
        "GRUForecaster",
        "RNNForecaster",
    )


def _forecasts(
    result: BacktestResult,
    per_series: pd.DataFrame,
    roles: dict[str, str],
    metric: str,
    images: dict,
) -> list[Block]:
    """The leader on its best, median and worst series, beside the reference baseline and
    the best network, with the leader's interval if any."""
    model = next(iter(roles))
    scores = per_series[per_series["model"] == model].groupby("unique_id")[metric].mean()
    scores = scores.dropna().sort_values(kind="stable")
    if scores.empty:
        return [("p", f"No series has a defined {metric}.")]
    picks = list(dict.fromkeys([scores.index[0], scores.index[len(scores) // 2], scores.index[-1]]))
    labels = {1: ["the only series"], 2: ["best", "worst"], 3: ["best", "median", "worst"]}
    interval = _interval(result.forecasts.columns, model)
    if len(picks) == 1:
        text = f"{model}, the leader, on the only series"
    else:
        which = ", ".join(labels[len(picks)][:-1]) + " and " + labels[len(picks)][-1]
        text = f"{model}, the leader, on its {which} series by {metric}"
    text += f" with its {interval[2]}% interval" if interval else ""
    beside = [
        f"{m} ({'the reference baseline' if role == 'reference' else 'the best network'})"
        for m, role in roles.items()
        if role != "best"
    ]
    if beside:
        text += ", beside " + " and ".join(beside)
    blocks: list[Block] = [
        (
            "p",
            text + "; the actual values (history and outcome) in dark grey, a line at each cutoff.",
        )
    ]
    for i, (sid, label) in enumerate(zip(picks, labels[len(picks)], strict=True)):
        rows = result.forecasts[result.forecasts["unique_id"] == sid]
        train = result.train.loc[result.train["unique_id"] == sid, ["ds", "y"]]
        actual = pd.concat([train, rows[["ds", "y"]]]).drop_duplicates("ds").sort_values("ds")
        # Three horizons of history before the first window: enough to judge the pattern.
        first = int(np.searchsorted(actual["ds"], rows["ds"].min()))
        actual = actual.iloc[max(0, first - 3 * result.horizon) :]
        name = f"forecast-{i + 1}.png"
        title = f"{label}: {sid} ({metric} {format_number(scores[sid])})"
        images[name] = plots.plot_forecast(actual, rows, roles, interval, title)
        alt = f"Forecasts of {model} for series {sid} ({label}) against the actual values"
        blocks.append(("img", name, alt))
    return blocks


def _interval(columns: Any, model: str) -> tuple[str, str, int] | None:
    """The quantile columns of the central interval nearest 80%, and its level in percent."""
    levels = {}
    for col in map(str, columns):
        if col.startswith(f"{model}-q"):
            try:
                levels[round(float(col[len(model) + 2 :]), 6)] = col
            except ValueError:
                continue
    pairs = [(lo, round(1 - lo, 6)) for lo in levels if lo < 0.5 and round(1 - lo, 6) in levels]
    if not pairs:
        return None
    lo, hi = min(pairs, key=lambda p: abs(p[1] - p[0] - 0.8))
    return levels[lo], levels[hi], round(100 * (hi - lo))


def _training(histories: Mapping[str, pd.DataFrame], images: dict) -> list[Block]:
    blocks: list[Block] = []
    rows = []
    for i, (name, history) in enumerate(histories.items()):
        if history is None or history.empty or not {"step", "loss"} <= set(history.columns):
            continue
        images[f"training-{i + 1}.png"] = plots.plot_training_curve(history, name)
        val = history.get("val_loss", pd.Series(dtype=float))
        best = format_number(val.min()) if val.notna().any() else "—"
        last = history.iloc[-1]
        rows.append([name, str(int(last["step"])), format_number(last["loss"]), best])
        alt = f"Training and validation loss of {name} against the step"
        blocks.append(("img", f"training-{i + 1}.png", alt))
    if not rows:
        return [("p", "No training history was given.")]
    return [_table(["model", "steps", "final loss", "best val_loss"], rows), *blocks]


def _skill(row: pd.Series, reference: str | None) -> str:
    value = row.get("skill")
    if row["model"] == reference:
        return "reference"
    return "—" if value is None or pd.isna(value) else f"{100 * value:+.1f}%"


def _p(value: Any) -> str:
    if value is None or pd.isna(value):
        return "—"
    return "<0.001" if value < 0.001 else f"{value:.3f}"


def _day(stamp: Any) -> str:
    """An ISO time without a midnight clock (``1949-01-01``, not ``1949-01-01T00:00:00``)."""
    return str(stamp).removesuffix("T00:00:00")


__all__ = [
    "FILES",
    "METRICS",
    "check_report_folder",
    "default_reference",
    "format_number",
    "write_report",
]


def _count(n: int, noun: str) -> str:
    """``n`` and the noun in the number it takes: ``1 step``, ``2 steps``, ``1,024 series``.

    >>> _count(1, "window"), _count(3, "window"), _count(1200, "series")
    ('1 window', '3 windows', '1,200 series')
    """
    plural = noun if noun.endswith("s") else f"{noun}s"
    return f"{n:,} {noun if n == 1 else plural}"
