"""The recurrent forecaster, in parts that compose top to bottom.

:mod:`.forecaster` holds :class:`NeuralForecaster` and its RNN/LSTM/GRU presets. Its ``fit``
resolves the parameters against the data (:mod:`.params`: a frozen plan, the network's and the
training's configs, the budget), prepares what the network reads (:mod:`.preprocess`: imputation,
scaling, covariates; :mod:`.inputs`: the panels and batches of windows), builds the network
(:mod:`.nets`) and trains it (:mod:`.training`) on a loss (:mod:`.losses`); ``predict`` turns the
network's outputs into point, quantile or sample-path forecasts (:mod:`.decode`).
"""

from tsrnn.models.neural.forecaster import (
    GRUForecaster,
    LSTMForecaster,
    NeuralForecaster,
    RNNForecaster,
)

__all__ = ["GRUForecaster", "LSTMForecaster", "NeuralForecaster", "RNNForecaster"]
