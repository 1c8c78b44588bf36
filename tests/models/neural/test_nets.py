"""RecurrentNet: output shapes of every cell and head, teacher forcing, the series embedding."""

import pytest
import torch

from tsrnn.models.neural.nets import CELLS, NetConfig, RecurrentNet

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


@pytest.mark.parametrize("season", [0, 4])
def test_forecasts_from_every_step_end_with_the_windows_own_forecast(season):
    """forward_every's forecast from the last input step is forward's; from an earlier step
    it forecasts the window's own next inputs, reading the known-future features there."""
    net = make(seasons=(season,) if season else (), n_series=B, embedding_size=3)
    x, x_future, series = inputs()
    y, mask = torch.randn(B, H, 1), torch.ones(B, H, 1, dtype=torch.bool)
    x[2, 7, 1] = 0.0  # one input step unobserved: not a target
    params, targets, seen = net.forward_every(
        x, x_future, series, y, mask, torch.tensor([L - 1, 3])
    )
    assert params.shape == (B, 2, H, 1, 1)
    assert torch.allclose(params[:, 0], net(x, x_future, series), atol=1e-6)
    assert torch.equal(targets[:, 0], y) and torch.equal(targets[:, 1, :, 0], x[:, 4:10, 0])
    assert not seen[2, 1, 3, 0] and seen[:, 1].sum() == B * H - 1
    # moving the future features of step 4 (an input step) changes only forecasts reading it
    x2 = x.clone()
    x2[:, 4, F - Ff :] += 1.0
    moved = net.forward_every(x2, x_future, series, y, mask, torch.tensor([L - 1, 3]))[0]
    assert torch.equal(moved[:, 1, 1:], params[:, 1, 1:]) and not torch.equal(
        moved[:, 1, 0], params[:, 1, 0]
    )


def test_the_encoder_reads_the_windows_last_steps_and_the_seasonal_inputs_all_of_it():
    """``encoder_steps``: a long season's naive values come from the whole window while the
    recurrence reads only its last steps (a year of daily data without 364 recurrent steps).
    Steps before those change the forecast only through the seasonal naive inputs."""
    x, x_future, series = inputs()
    early = x.clone()
    early[:, :4, 0] += 5.0  # steps 0-3, before the last 8 the encoder reads
    plain = make(encoder_steps=8)
    assert torch.equal(plain(early, x_future, series), plain(x, x_future, series))
    assert not torch.equal(make()(early, x_future, series), make()(x, x_future, series))
    # a season of 10 reads steps 2-7 and 2-3 again for the 6 horizon steps: step 2 and 3 count
    seasonal = make(seasons=(10,), encoder_steps=8)
    assert not torch.equal(seasonal(early, x_future, series), seasonal(x, x_future, series))
    # from the encoder's read steps, forward_every's last forecast is still forward's
    y, mask = torch.randn(B, H, 1), torch.ones(B, H, 1, dtype=torch.bool)
    params = seasonal.forward_every(x, x_future, series, y, mask, torch.tensor([L - 1, 6]))[0]
    assert torch.allclose(params[:, 0], seasonal(x, x_future, series), atol=1e-6)
    cut = make(seasons=(10,))  # the same weights, reading the whole window
    assert not torch.allclose(params[:, 0], cut(x, x_future, series), atol=1e-6)


def test_naive_inputs_are_the_last_value_and_the_values_a_season_before_each_step():
    net = make(seasons=(4,))
    x, _, _ = inputs()
    lagged = net._lagged(x, torch.tensor([L - 1, 1]), H)  # (B, 2, H, 4)
    # seasonal naive from the last step (11): steps 1-4 read inputs 8-11, steps 5-6 read 8-9
    assert torch.equal(lagged[:, 0, :, 0], x[:, [8, 9, 10, 11, 8, 9], 0])
    # from step 1: steps 1-2 would read steps -2, -1, before the window (0, flagged
    # unobserved); steps 3-4 read 0-1
    assert torch.equal(lagged[:, 1, :2, :2], torch.zeros(B, 2, 2))
    assert torch.equal(lagged[:, 1, 2:4, 0], x[:, 0:2, 0]) and torch.all(lagged[:, 1, 2:4, 1] == 1)
    # naive: the value (and flag) at the forecasting step itself, for every step
    assert torch.equal(lagged[:, 0, :, 2], x[:, 11:12, 0].expand(B, H))
    assert torch.equal(lagged[:, 1, :, 2], x[:, 1:2, 0].expand(B, H))


def test_relevel_moves_the_seasonal_naive_values_by_the_level_change_over_a_season():
    """Last season's shape at this season's level: each seasonal naive value plus the mean of
    the window's last w = min(season, horizon) steps less the mean of the w steps a season
    before them; the flags and the naive value as read, and nothing moved where the window
    does not reach that far back."""
    x, _, _ = inputs()
    ends = torch.tensor([L - 1, 7, 6])
    plain = make(seasons=(4,))._lagged(x, ends, H)  # (B, 3, H, 4)
    moved = make(seasons=(4,), relevel=True)._lagged(x, ends, H)
    # w = 4: from step 11, steps 8-11 against 4-7; from step 7, steps 4-7 against 0-3
    for k, end in enumerate([11, 7]):
        now, before = x[:, end - 3 : end + 1, 0], x[:, end - 7 : end - 3, 0]
        change = now.mean(dim=1) - before.mean(dim=1)
        torch.testing.assert_close(moved[:, k, :, 0], plain[:, k, :, 0] + change[:, None])
    assert torch.equal(moved[:, 2], plain[:, 2])  # from step 6: a step short of the reach
    assert torch.equal(moved[..., 1:], plain[..., 1:])  # flags and the naive value
    # a season of 1 is the naive value: never moved
    ones = make(seasons=(1,), relevel=True)._lagged(x, ends, H)
    assert torch.equal(ones, make(seasons=(1,))._lagged(x, ends, H))


def test_the_skip_forecasts_the_change_from_half_naive_half_seasonal_naive_at_the_start():
    net = make(seasons=(4,), skip=True)
    torch.nn.init.zeros_(net.output[-1].weight)
    torch.nn.init.zeros_(net.output[-1].bias)
    x, x_future, series = inputs()
    out = net(x, x_future, series)[..., 0, 0]  # (B, H): the network adds nothing yet
    seasonal = x[:, [8, 9, 10, 11, 8, 9], 0]
    assert torch.allclose(out, 0.5 * seasonal + 0.5 * x[:, 11:12, 0], atol=1e-6)


def test_several_seasons_give_one_seasonal_naive_input_each_and_an_equal_blend_at_the_start():
    net = make(seasons=(4, 8), skip=True)
    torch.nn.init.zeros_(net.output[-1].weight)
    torch.nn.init.zeros_(net.output[-1].bias)
    x, x_future, series = inputs()
    lagged = net._lagged(x, torch.tensor([L - 1]), H)[:, 0]  # (B, H, 6): 2 seasons + naive
    daily, weekly = x[:, [8, 9, 10, 11, 8, 9], 0], x[:, [4, 5, 6, 7, 8, 9], 0]
    assert torch.equal(lagged[..., 0], daily) and torch.equal(lagged[..., 2], weekly)
    assert torch.equal(lagged[..., 4], x[:, 11:12, 0].expand(B, H))
    assert torch.all(lagged[..., [1, 3, 5]] == 1)  # observed flags
    out = net(x, x_future, series)[..., 0, 0]
    assert torch.allclose(out, (daily + weekly + x[:, 11:12, 0]) / 3, atol=1e-6)


def test_the_blend_weights_each_season_by_its_own_logit():
    net = make(seasons=(4, 8), skip=True)
    torch.nn.init.zeros_(net.output[-1].weight)
    torch.nn.init.zeros_(net.output[-1].bias)
    with torch.no_grad():
        net.blend.copy_(torch.tensor([0.0, 30.0, 0.0]).expand_as(net.blend))  # the week only
    x, x_future, series = inputs()
    out = net(x, x_future, series)[..., 0, 0]
    assert torch.allclose(out, x[:, [4, 5, 6, 7, 8, 9], 0], atol=1e-5)
