"""The models: two families under one contract.

What every model shares stays here: :mod:`~tsrnn.models.base` (the Forecaster template:
fit/predict, ``predict_windows``, ``get_state``/``set_state``), :mod:`~tsrnn.models.persistence`
(any model's state in a file) and :mod:`~tsrnn.models.legacy` (files of earlier versions).
Each family has its room: :mod:`tsrnn.models.neural` (the recurrent forecaster, in parts) and
:mod:`tsrnn.models.stats` (one model per series: the naive family, smoothing, Theta, ETS,
ARIMA). :mod:`~tsrnn.models.ensemble` combines any of them into one model. The registry that
names them all is :mod:`tsrnn.registry`, above this package.
"""

from tsrnn.models.ensemble import Ensemble

__all__ = ["Ensemble"]
