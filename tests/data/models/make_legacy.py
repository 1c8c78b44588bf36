"""Write model files with tsrnn at commit 3430968 (model format 2), plus a format-1 rewrite,
and the forecasts they give, for tests/test_persistence.py."""

import json

import torch

from tsrnn import datasets
from tsrnn.models.neural import GRUForecaster, LSTMForecaster

out = "tests/data/models"
TINY = {"hidden_size": 8, "num_layers": 1, "max_steps": 8, "val_every": 4, "batch_size": 32}
air = datasets.load("air_passengers")
bj = datasets.load("beijing_pm25")
bj = bj[bj.unique_id.isin(["Dongsi", "Tiantan"])]
bj = bj.groupby("unique_id").tail(24 * 20).reset_index(drop=True)

lstm = LSTMForecaster(horizon=6, naive_inputs=True, naive_skip=True, **TINY).fit(air)
with torch.no_grad():
    lstm.net_.blend.copy_(torch.randn_like(lstm.net_.blend))
lstm.save(f"{out}/lstm-format2.tsrnn")
lstm.predict(6, quantiles=[0.1, 0.9]).to_csv(f"{out}/lstm-format2.csv", index=False)

gru = GRUForecaster(
    horizon=24,
    past_covariates=["DEWP"],
    targets=["TEMP"],
    loss="quantile",
    embedding_size=2,
    **TINY,
).fit(bj)
gru.save(f"{out}/gru-format2.tsrnn")
gru.predict(24, quantiles=[0.1, 0.9]).to_csv(f"{out}/gru-format2.csv", index=False)

# format 1: the same LSTM as tsrnn before several naive seasons and bfloat16 wrote it
payload = torch.load(f"{out}/lstm-format2.tsrnn", weights_only=True)
meta = json.loads(payload["meta"])
meta["format_version"] = 1
meta["config"]["season"] = meta["config"].pop("seasons")[0]
meta["plan"]["mixed_precision"] = meta["plan"].pop("precision") == "fp16"
t = payload["tensors"]
t["net.blend"] = t["net.blend"][..., 0] - t["net.blend"][..., 1]
torch.save({**payload, "meta": json.dumps(meta)}, f"{out}/lstm-format1.tsrnn")
