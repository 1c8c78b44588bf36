"""RNN, LSTM and GRU on M4 Hourly, scored exactly as the competition did: prints a table and
writes a report.

Global models trained on the 414 train series, forecasting h = 48, scored on the test files
with sMAPE, MASE (m = 24) and OWA against tsrnn's Naive2 (which reproduces the official one).
The M4 protocol is a one-window backtest of train + test, which is how it runs here, so the
report (``reports/m4-hourly-neural/``) is the regular backtest report. The default budget is
the peer libraries' reference point of issue 7: 1,000 steps of batch 128, input window 96,
hidden 64, 2 layers, on the CPU (NeuralForecast LSTM: OWA 0.694 in 78 s on a 2-core machine).

Configurations are chosen with ``--holdout``: the last 48 steps of each train series are
scored instead of the test files, which are never used to tune. The script's defaults are
the configuration chosen there at the reference budget: MAE loss, naive and seasonal naive
inputs, the naive skip. Past that budget the holdout chose a week's seasonal naive input
beside the day's (``--naive-seasons 24,168 --input-size 216``), 4,500 steps at lr 3e-3, and
bfloat16 on a CPU that has it (``--precision bf16``). ``--defaults`` instead builds each
network with the library's own defaults, as ``LSTMForecaster(horizon=48, season=24)`` does.

    python benchmarks/m4_neural.py                            # LSTM at the reference budget
    python benchmarks/m4_neural.py --precision bf16 --dropout 0   # the same, bfloat16
    python benchmarks/m4_neural.py --holdout --no-skip        # a holdout comparison
    python benchmarks/m4_neural.py --naive-seasons 24,168 --input-size 216 --steps 4500 \
        --lr 3e-3 --dropout 0 --precision bf16                # the best single model
    python benchmarks/m4_neural.py --cells lstm,gru,rnn --seeds 0,1 --ensemble
    python benchmarks/m4_neural.py --defaults --seeds 0,1,2 --ensemble   # default LSTMs' median
    python benchmarks/m4_neural.py --quick                    # 40 series, 100 steps
"""

from __future__ import annotations

import argparse
import resource
import shlex
import sys
import time
from pathlib import Path

import pandas as pd
import torch

# A sibling script: benchmarks/ is on the path of a script run from it.
from baselines import benchmark_note, m4_history, peak_rss_mb

from tsrnn.evaluate.backtest import backtest
from tsrnn.evaluate.metrics import m4_scores
from tsrnn.models.neural import NeuralForecaster
from tsrnn.models.stats.naive import Naive2, SeasonalNaive
from tsrnn.report.backtest_report import write_report

ROOT = Path(__file__).resolve().parents[1]
M4_DIR = ROOT.parent / "shared" / "datasets" / "M4"
H, SEASON = 48, 24


def parse() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="lstm", help="comma-separated: lstm, gru, rnn")
    parser.add_argument("--seeds", default="0", help="comma-separated seeds, one model each")
    parser.add_argument("--ensemble", action="store_true", help="add the median of the models")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--input-size", type=int, default=96)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--dropout", type=float, default=0.1, help="between the layers")
    parser.add_argument("--loss", default="mae")
    parser.add_argument("--window-norm", default="standard", help='"standard", "meanabs", "none"')
    parser.add_argument("--val-size", type=int, default=None, help="held out for early stopping")
    parser.add_argument("--per-window", type=int, default=1, help="forecasts_per_window")
    parser.add_argument("--no-naive-inputs", action="store_true", help="naive_inputs=False")
    parser.add_argument("--no-skip", action="store_true", help="naive_skip=False")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per model")
    parser.add_argument(
        "--naive-seasons", default=None, help='seasons of the seasonal naive inputs: "24,168"'
    )
    parser.add_argument(
        "--precision", default="auto", help='"fp32", "bf16" (CPUs with AVX512-BF16/AMX), "auto"'
    )
    parser.add_argument(
        "--defaults",
        action="store_true",
        help="each network with its defaults (the horizon, the seed and the season hourly dates "
        "give; --threads kept): the budget and input options above are ignored",
    )
    parser.add_argument("--quick", action="store_true", help="40 series, 100 steps (make bench)")
    parser.add_argument(
        "--holdout",
        action="store_true",
        help="choose configurations: score on the last 48 steps of each train series instead "
        "of the test files (which are never used to tune)",
    )
    parser.add_argument("--report-dir", default=None, help="default reports/m4-hourly-neural[-…]")
    return parser.parse_args()


def model(args: argparse.Namespace, cell: str, seed: int) -> NeuralForecaster:
    if args.defaults:
        steps = {"max_steps": args.steps} if args.quick else {}
        # M4's steps are integers: the season an hourly date column would give, as
        # benchmarks/defaults.py passes it
        return NeuralForecaster(
            cell=cell,
            horizon=H,
            season=SEASON,
            random_state=seed,
            num_threads=args.threads,
            **steps,
        )
    return NeuralForecaster(
        cell=cell,
        horizon=H,
        input_size=args.input_size,
        hidden_size=args.hidden,
        num_layers=args.layers,
        dropout=args.dropout,
        batch_size=args.batch,
        max_steps=args.steps,
        lr=args.lr,
        loss=args.loss,
        window_norm=None if args.window_norm == "none" else args.window_norm,
        val_size=args.val_size,
        val_every=100,
        forecasts_per_window=args.per_window,
        naive_inputs=not args.no_naive_inputs,
        naive_skip=not args.no_naive_inputs and not args.no_skip,
        season=SEASON,
        naive_seasons=None
        if args.naive_seasons is None or args.no_naive_inputs
        else tuple(int(m) for m in args.naive_seasons.split(",")),
        random_state=seed,
        num_threads=args.threads,
        precision=args.precision,
    )


def main() -> None:
    args = parse()
    from tsrnn.datasets import read_m4

    if args.quick:
        args.steps = min(args.steps, 100)
    train, test = read_m4(M4_DIR, "Hourly")
    if args.quick:
        keep = train.unique_id.unique()[:40]
        train, test = train[train.unique_id.isin(keep)], test[test.unique_id.isin(keep)]
    if args.holdout:
        last = train.groupby("unique_id").ds.transform("max")
        train, test = train[train.ds <= last - H], train[train.ds > last - H]
    where = "the last 48 train steps" if args.holdout else "the test files"
    setup = (
        "each network with its defaults"
        if args.defaults
        else f"budget {args.steps} steps x batch {args.batch}, input {args.input_size}, hidden "
        f"{args.hidden} x {args.layers}, lr {args.lr}, dropout {args.dropout}, precision "
        f"{args.precision}, loss {args.loss}, naive inputs {not args.no_naive_inputs}, skip "
        f"{not args.no_skip}"
    )
    print(
        f"M4 Hourly, scored on {where}: {train.unique_id.nunique()} series; h={H}; "
        f"torch {torch.__version__}, {args.threads or torch.get_num_threads()} threads; {setup}"
    )
    seeds = [int(s) for s in args.seeds.split(",")]
    cells = [c.strip() for c in args.cells.split(",")]
    neural = {
        (c.upper() if len(seeds) == 1 else f"{c.upper()}-s{s}"): model(args, c, s)
        for c in cells
        for s in seeds
    }
    models = {"Naive2": Naive2(season=SEASON), "SeasonalNaive": SeasonalNaive(season=SEASON)}
    start = time.perf_counter()
    result = backtest({**models, **neural}, m4_history(train, test), H, n_windows=1, season=SEASON)
    wall = time.perf_counter() - start
    if args.ensemble and len(neural) > 1:
        name = "+".join(c.upper() for c in cells) + " median"  # named as the networks it pools
        result.forecasts[name] = result.forecasts[list(neural)].median(axis=1)
        result.models.append(name)
        fit_s = result.timings.set_index("model").loc[list(neural)].sum()
        ensemble = {"model": name, "fits": len(neural), **fit_s.drop("fits").to_dict()}
        result.timings = pd.concat([result.timings, pd.DataFrame([ensemble])], ignore_index=True)

    scores = m4_scores(result.forecasts, test, train, season=SEASON, models=result.models)
    timings = result.timings.set_index("model")
    usage = resource.getrusage(resource.RUSAGE_SELF)
    peak, cpu = peak_rss_mb(), usage.ru_utime + usage.ru_stime
    lines = ["| model | sMAPE | MASE | OWA | fit s | best step |", "|---|---:|---:|---:|---:|---:|"]
    for row in scores.itertuples():
        fitted = result.histories.get(row.model)
        best = "" if fitted is None else int(fitted.loc[fitted.val_loss.idxmin(), "step"])
        if fitted is not None and fitted.val_loss.isna().all():
            best = int(fitted.step.iloc[-1])
        fit = timings.loc[row.model, "fit_s"]
        lines.append(
            f"| {row.model} | {row.smape:.3f} | {row.mase:.3f} | {row.owa:.3f} | {fit:.0f} | {best} |"
        )
    lines.append(f"\nbacktest wall {wall:.0f} s; process CPU {cpu:.0f} s; peak RSS {peak:.0f} MB")
    table = "\n".join(lines)
    print("\n" + table)

    folder = args.report_dir or "reports/m4-hourly-neural" + (
        "-defaults" if args.defaults else ""
    ) + ("-quick" if args.quick else "-holdout" if args.holdout else "")
    command = shlex.join(["python", "benchmarks/m4_neural.py", *sys.argv[1:]])
    path = write_report(
        result,
        ROOT / folder,
        command=command,
        seed=seeds[0],
        reference="SeasonalNaive",
        title=f"M4 Hourly ({'holdout' if args.holdout else 'test'}): global "
        + ", ".join(c.upper() for c in cells),
        extra_files=benchmark_note(command, wall, table),
    )
    print(f"report: {path}")


if __name__ == "__main__":
    main()
