"""RNN, LSTM and GRU on M4 Hourly, scored exactly as the competition did: prints a table.

Global models trained on the 414 train series, forecasting h = 48, scored on the test files
with sMAPE, MASE (m = 24) and OWA against tsrnn's Naive2 (which reproduces the official one).
The default budget is the peer libraries' reference point of issue 7: 1,000 steps of batch 128,
input window 96, hidden 64, 2 layers, on the CPU (NeuralForecast LSTM: OWA 0.694 in 78 s on a
2-core machine). Nothing is tuned on the test files: the validation split (the last 48 steps of
each train series) only stops training early and picks the best weights.

    python benchmarks/m4_neural.py                      # LSTM at the reference budget
    python benchmarks/m4_neural.py --cells lstm,gru,rnn
    python benchmarks/m4_neural.py --steps 3000 --hidden 128 --window-norm standard
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import torch

from tsrnn.evaluate.metrics import m4_scores
from tsrnn.models.baselines import Naive2
from tsrnn.models.neural import NeuralForecaster

ROOT = Path(__file__).resolve().parents[1]
M4_DIR = ROOT.parent / "shared" / "datasets" / "M4"
H, SEASON = 48, 24


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cells", default="lstm", help="comma-separated: lstm, gru, rnn")
    parser.add_argument("--steps", type=int, default=1000)
    parser.add_argument("--batch", type=int, default=128)
    parser.add_argument("--input-size", type=int, default=96)
    parser.add_argument("--hidden", type=int, default=64)
    parser.add_argument("--layers", type=int, default=2)
    parser.add_argument("--lr", type=float, default=1e-3)
    parser.add_argument("--window-norm", default="standard", help='"standard", "meanabs", "none"')
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--val-size", type=int, default=None, help="held out for early stopping")
    parser.add_argument(
        "--holdout",
        action="store_true",
        help="choose configurations: score on the last 48 steps of each train series instead "
        "of the test files (which are never used to tune)",
    )
    args = parser.parse_args()
    from tsrnn.datasets import read_m4

    train, test = read_m4(M4_DIR, "Hourly")
    if args.holdout:
        last = train.groupby("unique_id").ds.transform("max")
        train, test = train[train.ds <= last - H], train[train.ds > last - H]
    print(
        f"M4 Hourly, scored on {'the last 48 train steps' if args.holdout else 'the test files'}: "
        f"{train.unique_id.nunique()} series; h={H}; torch {torch.__version__}, "
        f"{torch.get_num_threads()} threads; budget {args.steps} steps x batch {args.batch}, "
        f"input {args.input_size}, hidden {args.hidden} x {args.layers}"
    )
    forecasts = Naive2(season=SEASON).fit(train).predict(H)
    rows = []
    for cell in args.cells.split(","):
        model = NeuralForecaster(
            cell=cell.strip(),
            horizon=H,
            input_size=args.input_size,
            hidden_size=args.hidden,
            num_layers=args.layers,
            batch_size=args.batch,
            max_steps=args.steps,
            lr=args.lr,
            window_norm=None if args.window_norm == "none" else args.window_norm,
            random_state=args.seed,
            val_size=args.val_size,
            val_every=100,
        )
        start = time.perf_counter()
        model.fit(train)
        seconds = time.perf_counter() - start
        forecasts[model.name] = model.predict(H)[model.name].to_numpy()
        rows.append((model.name, seconds, model.best_step_, model.stop_reason_))
    scores = m4_scores(forecasts, test, train, season=SEASON).set_index("model")
    print("\n| model | sMAPE | MASE | OWA | fit s | best step |\n|---|---:|---:|---:|---:|---:|")
    print(
        f"| Naive2 | {scores.loc['Naive2', 'smape']:.3f} | {scores.loc['Naive2', 'mase']:.3f} "
        "| 1.000 | | |"
    )
    for name, seconds, best, reason in rows:
        s = scores.loc[name]
        print(
            f"| {name} | {s.smape:.3f} | {s.mase:.3f} | {s.owa:.3f} | {seconds:.0f} | "
            f"{best} ({reason}) |"
        )


if __name__ == "__main__":
    main()
