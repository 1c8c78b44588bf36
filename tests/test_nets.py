"""RecurrentNet: output shapes of every cell and head, teacher forcing, the series embedding."""

import pytest
import torch

from tsrnn.models.nets import CELLS, NetConfig, RecurrentNet

B, L, F, H, Ff = 5, 12, 4, 6, 2


def make(cell="lstm", head="direct", **changes):
    torch.manual_seed(0)
    config = NetConfig(
        cell=cell, n_features=F, n_future=Ff, horizon=H, head=head, hidden_size=8, **changes
    )
    return RecurrentNet(config).eval()


def inputs(seed=0):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(B, L, F, generator=g)
    x[..., 1] = 1.0  # the observed flag
    return x, torch.randn(B, H, Ff, generator=g), torch.arange(B)


@pytest.mark.parametrize("cell", CELLS)
@pytest.mark.parametrize("head", ["direct", "recursive"])
def test_output_shape_is_batch_horizon_targets_params(cell, head):
    net = make(
        cell,
        head,
        loss="quantile",
        n_params=3,
        n_targets=2,
        target_columns=(0, 3),
        observed_columns=(1, 2),
    )
    out = net(*inputs())
    assert out.shape == (B, H, 2, 3)
    assert torch.all(out.diff(dim=-1) >= 0), "quantile outputs are ordered"


@pytest.mark.parametrize("cell", CELLS)
def test_encoder_is_the_fused_torch_module(cell):
    net = make(cell)
    assert type(net.encoder) is getattr(torch.nn, cell.upper())
    if cell == "rnn":
        assert net.encoder.nonlinearity == "tanh"


def test_direct_head_refuses_more_steps_than_trained():
    net = make()
    x, _, series = inputs()
    with pytest.raises(ValueError, match="trained for 6 steps"):
        net(x, torch.zeros(B, H + 1, Ff), series)


def test_recursive_head_unrolls_any_number_of_steps():
    net = make(head="recursive")
    x, _, series = inputs()
    assert net(x, torch.zeros(B, 2 * H, Ff), series).shape == (B, 2 * H, 1, 1)


def test_teacher_forcing_in_one_fused_call_equals_feeding_the_truth_step_by_step():
    net = make(head="recursive")
    x, x_future, series = inputs()
    y = torch.randn(B, H, 1)
    mask = torch.ones(B, H, 1, dtype=torch.bool)
    fused = net(x, x_future, series, y_prev=y, mask_prev=mask)
    # sampling > 0 takes the step loop; a chance this small never feeds back a prediction
    looped = net(x, x_future, series, y_prev=y, mask_prev=mask, sampling=1e-12)
    torch.testing.assert_close(fused, looped)


def test_an_unseen_series_gets_the_mean_embedding():
    net = make(n_series=3, embedding_size=4)
    emb = net._embed(torch.tensor([0, 1, 2, -1]))
    torch.testing.assert_close(emb[3], net.embedding.weight.mean(dim=0))
    x, x_future, _ = inputs()
    out = net(x, x_future, torch.full((B,), -1))
    assert torch.isfinite(out).all()


def test_unknown_cell_or_head_is_refused():
    with pytest.raises(ValueError, match="cell="):
        make(cell="transformer")
    with pytest.raises(ValueError, match="head="):
        make(head="seq2seq")
