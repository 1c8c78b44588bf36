"""TOML config files and command-line flags, turned into models: one place for every command.

A config file has up to three tables: ``[fit]`` holds the options a command also takes as
flags (``horizon``, ``season``, ``input_size``, ``max_steps``, ``threads``, ``processes``,
``covariates``, ``seed``, ``loss``, ``hidden_size``, and ``model`` for ``tsrnn fit`` or
``models``, ``jobs``, ``backend`` and ``scheduler`` for ``tsrnn backtest``), ``[model]``
holds parameters of the networks (``hidden_size = 128``), ``[ensemble]`` the members and
combination of the ``ensemble`` model (``models = ["lstm", "ets", "theta"]``, ``how =
"median"``). Flags win over the file. A key a command would not use is refused, naming the
file, the key and what the command takes: nothing in a config is silently ignored.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tsrnn import registry
from tsrnn.errors import DataError
from tsrnn.machine import available_cores, default_jobs

# [fit] options every model-building command takes (each also a flag); each command adds its
# own model key.
SHARED = (
    "horizon",
    "season",
    "input_size",
    "max_steps",
    "threads",
    "processes",
    "covariates",
    "seed",
    "loss",
    "hidden_size",
)
NEURAL_OPTIONS = SHARED[2:]  # used by networks only (horizon and season by every model)
PARAMETER_OF = {
    "input_size": "input_size",
    "max_steps": "max_steps",
    "threads": "num_threads",
    "processes": "num_processes",
    "seed": "random_state",
    "loss": "loss",
    "hidden_size": "hidden_size",
}
# [fit] options of one command only, beside its model key
OWN = {"model": (), "models": ("jobs", "backend", "scheduler")}
# whole numbers >= 1: the shared options but for the names and the seed (>= 0), and jobs
COUNTS = (*(k for k in SHARED if k not in ("covariates", "seed", "loss")), "jobs")
# The ensemble model's members and combination when no [ensemble] table names them: the
# default network beside the two strongest statistical methods of the defaults table.
ENSEMBLE = {"models": ["lstm", "ets", "theta"], "how": "median"}


@dataclass
class Settings:
    """The options and network parameters of one command, from its config file and flags."""

    source: str  # the config file's path, or "the options"
    options: dict[str, Any] = field(default_factory=dict)
    params: dict[str, Any] = field(default_factory=dict)  # [model]
    ensemble: dict[str, Any] = field(default_factory=dict)  # [ensemble]

    @classmethod
    def read(cls, path: Path | None, flags: Mapping[str, Any], model_key: str) -> Settings:
        """``path``'s tables with ``flags`` on top (those not None); ``model_key`` is the
        command's ``"model"`` or ``"models"``."""
        fit, params, ensemble = _tables(path)
        allowed = (model_key, *OWN[model_key], *SHARED)
        unknown = sorted(set(fit) - set(allowed))
        if unknown:
            other = {"model": "models", "models": "model"}[model_key]
            hint = f" ({other!r} is for the other command)" if other in unknown else ""
            raise DataError(
                f"{path}: [fit] option(s) {unknown} are not used here{hint}; this command "
                f"takes {sorted(allowed)}"
            )
        for key in (*COUNTS, "seed"):
            value, least = fit.get(key), 0 if key == "seed" else 1
            if key in fit and (
                isinstance(value, bool) or not isinstance(value, int) or value < least
            ):
                raise DataError(
                    f"{path}: [fit] {key} = {value!r} must be a whole number >= {least}"
                )
        for key in ("backend", "scheduler"):
            if key in fit and not isinstance(fit[key], str):
                raise DataError(f'{path}: [fit] {key} = {fit[key]!r} must be text, e.g. "dask"')
        if "loss" in fit and not isinstance(fit["loss"], str):
            raise DataError(f'{path}: [fit] loss = {fit["loss"]!r} must be a name, e.g. "mae"')
        fit.update({k: v for k, v in flags.items() if v is not None})
        if ensemble and model_key == "model":
            raise DataError(
                f'{path}: [ensemble] is for tsrnn backtest (models = "ensemble,..."); '
                "tsrnn fit trains one network: drop the table"
            )
        unknown = sorted(set(ensemble) - set(ENSEMBLE))
        if unknown:
            raise DataError(
                f"{path}: [ensemble] key(s) {unknown} are not used; it takes models (a list "
                'of model names, e.g. ["lstm", "ets", "theta"]) and how ("median" or "mean")'
            )
        return cls(str(path) if path else "the options", fit, params, ensemble)

    def from_config(self) -> frozenset[str]:
        """The flags' names of the network parameters ``[model]`` set that no option
        overrides (so a message about one names the table, not a flag)."""
        overridden = {PARAMETER_OF[k] for k in self.options if k in PARAMETER_OF}
        flag_of = {param: key for key, param in PARAMETER_OF.items()}
        return frozenset(flag_of.get(p, p) for p in self.params if p not in overridden)

    def jobs(self) -> int:
        """Worker processes for the models fitted one series at a time (``--jobs``): each
        runs one BLAS thread (faster than several, measured in ``LocalForecaster``), so by
        default one per core this process may use, never more. The networks train in the
        command's own process with ``--threads`` threads, one model after another, so the two
        never share the cores."""
        return self.options.get("jobs") or default_jobs(1)

    def backend(self) -> tuple[str, str | None]:
        """Where the per-series models run (``--backend``: joblib or dask) and the Dask
        scheduler's address (``--scheduler``; none: a local cluster of ``--jobs`` workers).
        Checked before anything is read or fitted."""
        from tsrnn.parallel import BACKENDS

        scheduler = self.options.get("scheduler") or None
        backend = str(self.options.get("backend") or ("dask" if scheduler else "joblib"))
        if backend not in BACKENDS:
            raise DataError(f"--backend {backend}: choose one of {', '.join(BACKENDS)}")
        if scheduler and backend != "dask":
            raise DataError(
                f"--scheduler {scheduler} is a Dask scheduler's address: add --backend dask, "
                "or drop --scheduler"
            )
        if scheduler and self.options.get("jobs"):
            raise DataError(
                f"--jobs sets the workers of a local cluster; the cluster at {scheduler} has "
                "its own: drop --jobs"
            )
        if backend == "dask":
            try:
                import distributed  # noqa: F401
            except ImportError:
                raise DataError(
                    "--backend dask needs dask.distributed: pip install 'tsrnn[dask]'"
                ) from None
        return backend, scheduler

    def oversubscribed(self) -> str | None:
        """A warning when ``--jobs``, ``--threads`` or ``--processes`` (times ``--threads``)
        asks for more than the cores."""
        cores = available_cores()
        asked = {k: self.options[k] for k in ("jobs", "threads") if self.options.get(k)}
        over = {k: v for k, v in asked.items() if v > cores}
        processes = self.options.get("processes") or 1
        if processes > 1 and processes * self.options.get("threads", 1) > cores:
            over["processes"] = processes
        if not over:
            return None
        said = " and ".join(f"--{k} {v}" for k, v in over.items())
        return (
            f"{said} on {cores} core(s): the workers will take turns on the cores, which is "
            "slower than one per core; the default fills the cores"
        )

    def season(self, default: int) -> int:
        """The season every model reads (``--season``), else ``default``: the frequency's."""
        return self.options.get("season", default)

    def horizon(self, default: int) -> int:
        return self.options.get("horizon", default)

    def neural_params(self, horizon: int) -> dict[str, Any]:
        """The networks' parameters: ``[model]``, then the options that set one."""
        params = dict(self.params)
        params.setdefault("horizon", horizon)
        for key in ("horizon", "season"):
            if key in self.options:
                params[key] = self.options[key]
        for key, param in PARAMETER_OF.items():
            if key in self.options:
                params[param] = self.options[key]
        names = self.options.get("covariates")
        if names:
            params["past_covariates"] = [c.strip() for c in str(names).split(",") if c.strip()]
        return params

    def build(self, names: str, horizon: int, season: int) -> dict[str, Any]:
        """Column name -> estimator for a comma-separated list of registry names; networks get
        :meth:`neural_params`, baselines the data's season. Refuses network settings when no
        network is chosen."""
        chosen: dict[str, Any] = {}
        neural = self.neural_params(horizon)
        for raw in str(names).split(","):
            name = raw.strip().lower()
            if not name:
                continue
            model = (
                self._ensemble(neural, season)
                if name == "ensemble"
                else self._one(name, neural, season)
            )
            chosen[model.name] = model
        if not chosen:
            raise DataError("--models is empty; name at least one model, e.g. lstm,snaive")
        if self.ensemble and "Ensemble" not in chosen:
            raise DataError(
                f"{self.source}: [ensemble] sets the ensemble's members, but ensemble is not "
                'among the models; add it (models = "ensemble,snaive") or drop the table'
            )
        if all(registry.is_baseline(m) for m in chosen.values()):
            unused = sorted(self.params) + [k for k in NEURAL_OPTIONS if k in self.options]
            if unused:
                raise DataError(
                    f"{self.source}: {unused} set network parameters, but no network is among "
                    f"the models ({', '.join(chosen)}); add one (e.g. lstm) or drop them"
                )
        return chosen

    def _one(self, name: str, neural: dict[str, Any], season: int) -> Any:
        """One registry model: a network with the networks' parameters, a baseline with the
        data's season."""
        entry = registry.entry(name)
        if not entry.cli or name == "ensemble":
            raise DataError(f"unknown model {name!r}; choose from {offered()}")
        if entry.baseline:
            return registry.build(name, season=season, n_jobs=self.jobs())
        try:
            return registry.build(name, neural)
        except DataError as exc:
            raise DataError(f"{self.source}: {exc}") from None

    def _ensemble(self, neural: dict[str, Any], season: int) -> Any:
        """The ensemble model: ``[ensemble]``'s members (default :data:`ENSEMBLE`), each
        built as it would be alone."""
        from tsrnn.models.ensemble import HOWS, Ensemble

        spec = {**ENSEMBLE, **self.ensemble}
        names = spec["models"]
        if not isinstance(names, list) or len(names) < 2:
            raise DataError(
                f"{self.source}: [ensemble] models = {names!r}; give a list of at least two "
                'model names, e.g. ["lstm", "ets", "theta"]'
            )
        how = spec["how"]
        if how not in HOWS:
            raise DataError(f"{self.source}: [ensemble] how = {how!r}; use one of {list(HOWS)}")
        members = [self._one(str(n).strip().lower(), neural, season) for n in names]
        return Ensemble(members, how=how)


def offered() -> str:
    return ", ".join(e.name for e in registry.REGISTRY if e.cli)


def check(models: Mapping[str, Any], panel: Any, source: str) -> None:
    """Check every network's parameters against the data before any training starts."""
    members = [m for model in models.values() for m in getattr(model, "models", None) or [model]]
    for model in members:
        plan = getattr(model, "plan", None)
        if plan is None:
            continue
        try:
            plan(panel)
        except ValueError as exc:
            raise DataError(f"{source}: {exc}") from None


def _tables(path: Path | None) -> tuple[dict, dict, dict]:
    """The ``[fit]``, ``[model]`` and ``[ensemble]`` tables of a TOML file (empty without
    one)."""
    if path is None:
        return {}, {}, {}
    try:
        import tomllib
    except ModuleNotFoundError:  # Python 3.10
        import tomli as tomllib
    try:
        config = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise DataError(f"{path}: no such config file") from None
    except tomllib.TOMLDecodeError as exc:
        raise DataError(f"{path}: not valid TOML ({exc}); fix the file") from None
    unknown = set(config) - {"fit", "model", "ensemble"}
    if unknown:
        raise DataError(
            f"{path}: unknown table(s) {sorted(unknown)}; use [fit], [model] and [ensemble]"
        )
    tables = (config.get(name, {}) for name in ("fit", "model", "ensemble"))
    fit, model, ensemble = (dict(t) for t in tables)
    return fit, model, ensemble
