import logging
from dataclasses import replace

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from tsrnn.errors import DataError
from tsrnn.evaluate.stats import diebold_mariano, dm_test

# forecast::dm.test(loss_a, loss_b, h=, power=1, varestimator=) in R on R's own rnorm draws, as
# recorded in vinhnguyen3455/corrscore, tests/_reference/dm_test_oracle_values.py: (h, variance,
# statistic, p-value, loss_a, loss_b). Without NaN and with positive losses power=1 is ours.
R_CASES = [
    (
        1,
        "acf",
        2.0892018341,
        0.0432626888,
        """
        10.886773094629 11.291821662111 10.782185693795 11.997640401069 11.364753885908
        10.789765807941 11.443714526214 11.569162352565 11.487890675827 11.047305806422
        11.955890584225 11.394921618206 10.889379709729 10.092650056411 11.762465459072
        11.177533195492 11.191904868451 11.671918105343 11.610610597549 11.496950660609
        11.659488685804 11.591068150366 11.237282491683 10.205324152068 11.509912873947
        11.171935630235 11.122102246647 10.464623808050 10.960924972446 11.408970780100
        11.879339775765 11.148606136329 11.393835805780 11.173097479709 10.511470221586
        10.992502718350 11.002855023145 11.170343301644 11.750012685992 11.581587874229
        """,
        """
        10.917738201873 10.873319159932 11.348481687702 11.278331599337 10.655622152725
        10.646252421519 11.182290981068 11.384266462258 10.943826893925 11.440553863227
        11.199052940184 10.693986803375 11.170559845712 10.435318451960 11.716511850851
        11.990199949253 10.816389261767 10.477932686842 11.284859813721 10.932472698060
        12.200808880252 10.980379998633 11.344869681225 11.014001079390 10.628363395559
        11.094396149757 10.097520685554 11.732777430781 11.076626669106 12.086305835181
        11.237754764450 10.645026784539 11.305363176745 10.532951184178 10.373183299880
        11.145723117759 10.778354063391 11.000552675816 11.037170662076 10.705239526906
        """,
    ),
    (
        5,
        "bartlett",
        3.6216479364,
        0.0004637908,
        """
        12.159144519214 14.384359343479 11.744508137372 13.070142766427 14.711440872702
        12.397092018545 12.527833614833 12.364628687476 12.714226365134 13.138108224804
        14.227630343853 12.198220545347 11.919607399973 12.842465643893 11.928239960122
        12.861013859450 12.402686905287 10.816033239908 13.240817255937 12.740644593266
        13.900511945333 13.941869393868 14.467961903420 13.706761089558 13.819008930262
        12.706518151298 14.418589072486 14.498773827406 12.342917905514 12.147204559998
        13.315915038361 14.109694167659 15.215460571678 14.217103638957 14.479221786638
        13.951573832418 11.990467354037 10.999527261362 11.237814127548 12.857391874045
        14.550060369483 12.197576818285 12.925421080117 14.895667954722 12.543431059080
        13.562223362643 12.112991488489 12.539755423805 12.275671513933 12.930788844166
        14.463248562949 13.187726097433 14.022022861331 12.408165167049 12.887799344964
        12.075046914134 13.753304798296 12.887390929797 12.935909071780 13.233275293546
        11.863417196852 13.854830423128 12.421629581038 13.496361539030 12.239942069388
        12.658613729601 10.897670879522 12.698297718631 11.727616557819 12.720333890191
        12.795902679180 12.774385814483 13.347028452022 13.032367842598 13.413531289672
        12.844651523375 13.973485392483 13.121090142773 13.189173691477 12.437114930174
        13.498416165001 11.257697506637 13.975529097204 12.975917127264 13.675684475314
        12.289690394947 15.387232646377 12.526567987804 12.924227443333 12.478159943522
        13.926047134562 11.937588828386 13.557033866298 13.900730584912 13.989945683688
        13.383608087580 12.653416186301 12.459810749996 12.817444406733 12.940700350006
        """,
        """
        10.504613032176 13.635311281171 13.175794565754 12.708483263107 12.442154357915
        13.393811414103 12.271134619224 10.534347350359 11.746489554176 13.780151624440
        11.547095040258 14.122379393009 15.100142020122 12.639648505122 11.149280326873
        13.298931017948 10.945004159555 12.963720056794 12.552429564573 12.297968199279
        13.670856422007 13.384844855572 11.182111396123 10.856749064395 13.559250387246
        12.790083581389 12.099966501106 13.743095778065 11.133589481995 11.058586698187
        13.848549055028 10.521471660306 11.259049415953 12.395960872190 13.232972958643
        12.955679623260 12.788079547543 11.426309089324 13.148742539464 12.799162278551
        11.704005006964 12.470646602840 14.680235701198 13.457418468634 12.194951365115
        12.081596661111 12.599954049004 12.270190381838 11.084785123817 12.107401137691
        13.446088549950 13.251770872113 11.982623151511 13.308335978395 11.885464776668
        13.738258928270 12.161904857529 13.696366363090 12.056681621375 12.686114897250
        9.878655187347 14.746254619852 12.593431681076 14.127280093366 11.989082450835
        11.840619162338 12.459809839762 12.381305998231 12.480343135463 12.014321514421
        11.059852475726 12.643768877739 11.265413345733 10.747498790072 12.464503712949
        12.832034908602 14.072288256328 11.430529427607 13.416286523615 11.905007103717
        14.681646675279 11.816226713702 13.250059213801 13.474382633855 11.235526524339
        12.222578576415 12.310601305236 12.115975053935 13.240588023177 11.331661608879
        13.167538698135 12.866236949649 11.985057006109 12.950568239937 12.312279620214
        13.839069374847 13.316219184278 12.582201764147 11.849137278572 13.226409017641
        """,
    ),
    (
        10,
        "acf",
        -5.206577542,
        3.7951e-06,
        """
        11.080881794611 10.811004375788 11.260597948296 11.518158655135 11.007256292530
        11.110407553098 10.607238710537 11.221586579213 11.013461896212 10.685480839964
        11.518355327134 10.646420078293 11.195962013329 10.889430052489 10.820133606937
        11.016381549637 11.512303227635 10.671688107327 10.913215452651 11.662223888241
        11.155624701950 10.578524619248 11.604459344048 10.643552498892 11.057114242276
        10.649079226984 10.988575532167 11.706261278293 11.418027877812 10.831900292367
        10.798562184929 11.147731566419 10.646182845147 10.682384764427 11.341370783900
        10.951920414530 11.189147937995 11.485087910718 10.941950051444 10.517662447238
        10.734450761689 10.870299710312 10.873512842182 10.948851781041 11.073743281168
        10.776275664545 10.917816760022 11.547373682196 11.004270121955 11.056412823036
        """,
        """
        11.283759892918 11.438483501077 11.120968911382 11.678977470790 10.956401288800
        11.625387066780 10.841301405893 10.827877435147 11.265772210867 11.333362753955
        11.364241286123 11.466132747513 10.982144144415 10.816985202125 11.198554681210
        11.361481326028 11.232696488219 11.027117088794 11.057567034726 11.465925054243
        11.183246620219 11.165826308422 11.293658346449 11.120174763463 11.206740143134
        11.095510259334 11.239383282946 11.635040098772 11.547799763801 11.675275693944
        12.082429428494 11.284688011641 11.968158258301 11.295838362855 10.835780090972
        10.886033267253 11.743961222251 11.223523416698 11.202115885956 11.082008400292
        10.714295405014 11.426882012531 11.654505435726 11.575387813183 11.328640264066
        10.794670463977 11.597098805182 11.087650465421 11.121791249206 10.980230889983
        """,
    ),
]


@pytest.mark.parametrize("case", R_CASES, ids=lambda c: f"h={c[0]}-{c[1]}")
def test_matches_r_forecast_dm_test(case):
    h, variance, statistic, p_value, a, b = case
    res = diebold_mariano(
        np.array(a.split(), float), np.array(b.split(), float), h, variance=variance
    )
    assert res.statistic == pytest.approx(statistic, abs=1e-9)
    assert res.p_value == pytest.approx(p_value, abs=1e-9)
    assert (res.n, res.h, res.dropped) == (len(a.split()), h, 0)


def test_statistic_by_hand_at_h2():
    a = [3.0, 1.0, 4.0, 1.0, 5.0, 9.0, 2.0, 6.0]
    b = [4.0, 3.0, 5.0, 3.0, 2.0, 6.0, 2.0, 3.0]
    d = [x - y for x, y in zip(a, b, strict=True)]
    n, h = len(d), 2
    mean = sum(d) / n
    gamma0 = sum((x - mean) ** 2 for x in d) / n
    gamma1 = sum((d[t] - mean) * (d[t - 1] - mean) for t in range(1, n)) / n
    plain = mean / ((gamma0 + 2 * gamma1) / n) ** 0.5
    corrected = plain * ((n + 1 - 2 * h + h * (h - 1) / n) / n) ** 0.5

    res = diebold_mariano(a, b, h=2)
    assert res.h == 2 and gamma0 + 2 * gamma1 > 0
    assert res.statistic == pytest.approx(corrected)
    assert res.p_value == pytest.approx(2 * stats.t.sf(abs(corrected), n - 1))
    assert res.mean_difference == pytest.approx(mean)
    raw = diebold_mariano(a, b, h=2, hln=False, alternative="greater")
    assert raw.statistic == pytest.approx(plain)
    assert raw.p_value == pytest.approx(stats.norm.sf(plain))
    bartlett = diebold_mariano(a, b, h=2, hln=False, variance="bartlett")
    assert bartlett.statistic == pytest.approx(mean / ((gamma0 + gamma1) / n) ** 0.5)


def test_h1_with_hln_is_the_paired_t_test():
    rng = np.random.default_rng(3)
    a, b = rng.exponential(size=25), rng.exponential(size=25)
    for alternative in ("two-sided", "less", "greater"):
        res = diebold_mariano(a, b, alternative=alternative)
        ref = stats.ttest_rel(a, b, alternative=alternative)
        assert res.statistic == pytest.approx(ref.statistic)
        assert res.p_value == pytest.approx(ref.pvalue)


def test_identical_forecasts_never_reject():
    losses = [1.0, 4.0, 0.25, 9.0]
    for alternative in ("two-sided", "less", "greater"):
        res = diebold_mariano(losses, losses, h=2, alternative=alternative)
        assert np.isnan(res.statistic) and res.p_value == 1.0
        assert res.mean_difference == 0.0 and res.n == 4
    # a forecast that is always worse by the same amount: zero variance, certain difference
    worse = diebold_mariano(np.add(losses, 1.0), losses)
    assert worse.statistic == np.inf and worse.p_value == 0.0
    assert diebold_mariano(losses, np.add(losses, 1.0), alternative="less").p_value == 0.0
    assert diebold_mariano(losses, np.add(losses, 1.0), alternative="greater").p_value == 1.0


def test_a_clearly_better_forecast_is_detected():
    rng = np.random.default_rng(0)
    y = rng.normal(size=120)
    good, bad = y + rng.normal(scale=0.5, size=120), y + rng.normal(scale=1.0, size=120)
    loss_good, loss_bad = (good - y) ** 2, (bad - y) ** 2
    assert diebold_mariano(loss_good, loss_bad, alternative="less").p_value < 1e-4
    assert diebold_mariano(loss_good, loss_bad, alternative="greater").p_value > 0.99
    assert diebold_mariano(loss_good, loss_bad).statistic < 0
    # and two forecasts of equal quality are not told apart
    same = y + rng.normal(scale=0.5, size=120)
    assert diebold_mariano(loss_good, (same - y) ** 2).p_value > 0.05


def test_hln_shrinks_the_statistic_for_small_samples():
    rng = np.random.default_rng(1)
    a, b = rng.exponential(size=10), rng.exponential(scale=2.0, size=10)
    for h in (1, 3):
        with_hln = diebold_mariano(a, b, h=h, variance="bartlett")
        without = diebold_mariano(a, b, h=h, variance="bartlett", hln=False)
        assert 0 < abs(with_hln.statistic) < abs(without.statistic)
        assert with_hln.p_value > without.p_value


def test_nan_pairs_are_dropped_and_counted():
    a = [1.0, np.nan, 2.0, 0.5, 3.0, 1.0]
    b = [2.0, 1.0, 2.5, np.nan, 3.5, 1.5]
    res = diebold_mariano(a, b)
    clean = diebold_mariano([1.0, 2.0, 3.0, 1.0], [2.0, 2.5, 3.5, 1.5])
    assert res.dropped == 2 and res.n == 4
    assert res == replace(clean, dropped=2)


def test_negative_long_run_variance_falls_back_to_h1(caplog):
    # an alternating differential: lag-1 autocovariance near -gamma0, so gamma0 + 2 gamma1 < 0
    d = np.array([1.0, -1.0] * 6) + np.linspace(0, 0.5, 12)
    with caplog.at_level(logging.WARNING, logger="tsrnn.evaluate.stats"):
        res = diebold_mariano(d, np.zeros(12), h=2)
    assert "<= 0 at h=2; using h=1" in caplog.text
    assert res == diebold_mariano(d, np.zeros(12), h=1)
    assert diebold_mariano(d, np.zeros(12), h=2, variance="bartlett").h == 2


def test_bad_input_says_what_is_wrong():
    with pytest.raises(ValueError, match="same length"):
        diebold_mariano([1.0, 2.0, 3.0], [1.0, 2.0])
    with pytest.raises(ValueError, match=r"n=2 usable loss pairs \(1 dropped for NaN\).*h=2"):
        diebold_mariano([1.0, 2.0, np.nan], [0.0, 1.0, 1.0], h=2)
    with pytest.raises(ValueError, match="n=1 .* h=1"):
        diebold_mariano([1.0], [2.0])
    with pytest.raises(ValueError, match="h must be"):
        diebold_mariano([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], h=0)
    with pytest.raises(ValueError, match="alternative must be"):
        diebold_mariano([1.0, 2.0, 3.0], [1.0, 2.0, 4.0], alternative="two.sided")
    with pytest.raises(ValueError, match="finite"):
        diebold_mariano([1.0, np.inf, 3.0], [1.0, np.inf, 4.0])


def backtest_frame():
    """Two series, three cutoffs, two steps each; one missing actual (b, cutoff 20, ds 22)."""
    rows = []
    y = {"a": [1.0, 2.0, 3.0, 4.0, 5.0, 6.0], "b": [10.0, 11.0, np.nan, 13.0, 14.0, 15.0]}
    m = {"a": [1.5, 2.0, 3.0, 5.0, 5.5, 6.0], "b": [10.0, 12.0, 9.0, 13.0, 14.0, 14.0]}
    r = {"a": [2.0, 3.0, 1.0, 5.0, 4.0, 4.0], "b": [12.0, 11.0, 12.0, 10.0, 17.0, 15.0]}
    for uid in ("a", "b"):
        for i in range(6):
            cutoff = 10 * (i // 2 + 1)
            rows.append((uid, cutoff, cutoff + 1 + i % 2, y[uid][i], m[uid][i], r[uid][i]))
    return pd.DataFrame(rows, columns=["unique_id", "cutoff", "ds", "y", "M", "R"])


def test_dm_test_pools_window_means_ordered_by_cutoff_then_series():
    fc = backtest_frame()
    # squared-error differentials M - R per row, averaged per window (missing actual skipped):
    # a10: (0.25-1, 0-1)  a20: (0-4, 1-1)  a30: (0.25-1, 0-4)
    # b10: (0-4, 1-0)     b20: (-, 0-9)    b30: (0-9, 1-0)
    # in window order (cutoff, then series): a10, b10, a20, b20, a30, b30
    d = [(-0.75 - 1) / 2, (-4 + 1) / 2, (-4 + 0) / 2, -9.0, (-0.75 - 4) / 2, (-9 + 1) / 2]
    for h in (1, 2):
        got = dm_test(fc, "M", "R", h=h)
        assert got == diebold_mariano(d, np.zeros(6), h=h)
    assert got.h == 2 and got.n == 6 and got.dropped == 0
    by_series_first = [d[0], d[2], d[4], d[1], d[3], d[5]]
    assert got.statistic != diebold_mariano(by_series_first, np.zeros(6), h=2).statistic
    # absolute errors, one-sided
    mae = dm_test(fc, "M", "R", loss="mae", alternative="less")
    d_abs = [(-0.5 - 1) / 2, (-2 + 1) / 2, (-2 + 0) / 2, -3.0, (-0.5 - 2) / 2, (-3 + 1) / 2]
    assert mae == diebold_mariano(d_abs, np.zeros(6), alternative="less")
    # a window without a single observed actual is counted, not silently lost
    fc.loc[(fc.unique_id == "b") & (fc.cutoff == 20), "y"] = np.nan
    assert dm_test(fc, "M", "R").dropped == 1
    assert dm_test(fc, "M", "R") == diebold_mariano(d, np.r_[0, 0, 0, np.nan, 0, 0])


def test_dm_test_per_series_uses_step_differentials_and_the_horizon():
    fc = backtest_frame().sample(frac=1.0, random_state=0)  # row order must not matter
    table = dm_test(fc, "M", "R", loss="mae", by="unique_id").set_index("unique_id")
    a = diebold_mariano([0.5, 0.0, 0.0, 1.0, 0.5, 0.0], [1.0, 1.0, 2.0, 1.0, 1.0, 2.0], h=2)
    assert table.loc["a", "statistic"] == pytest.approx(a.statistic)
    assert table.loc["a", "p_value"] == pytest.approx(a.p_value)
    assert table.loc["b", "n"] == 5 and table.loc["b", "dropped"] == 1
    assert (table["h"] == 2).all()
    # a series with too few pairs for h is reported, not raised: NaN with its n
    short = dm_test(fc, "M", "R", by="unique_id", h=5).set_index("unique_id")
    assert np.isnan(short.loc["b", "statistic"]) and short.loc["b", "n"] == 5
    assert short.loc["b", "mean_difference"] == pytest.approx((-4 + 1 - 9 - 9 + 1) / 5)
    assert not np.isnan(short.loc["a", "statistic"])


def test_dm_test_rejects_frames_without_the_columns():
    fc = backtest_frame()
    with pytest.raises(DataError, match=r"no column\(s\) \['Other'\]"):
        dm_test(fc, "M", "Other")
    with pytest.raises(ValueError, match="no per-row loss for metric 'pinball'"):
        dm_test(fc, "M", "R", loss="pinball")
    with pytest.raises(ValueError, match="mase needs the in-sample data: pass train="):
        dm_test(fc, "M", "R", loss="mase")
    with pytest.raises(ValueError, match="by must be"):
        dm_test(fc, "M", "R", by="cutoff")


def test_the_leaderboard_tests_the_ranking_metric_and_not_with_too_few_windows():
    """On a mixed-scale panel the test compares scaled errors, as MASE ranks: raw absolute
    errors would let the largest series decide. With fewer than 10 windows: no p-value."""
    from tsrnn.evaluate.backtest import MIN_DM_WINDOWS, backtest
    from tsrnn.models.stats.naive import Naive, SeasonalNaive

    rng = np.random.default_rng(1)
    t = pd.date_range("2020-01-01", periods=96, freq="MS")
    season = 10 + 3 * np.sin(np.arange(96) * 2 * np.pi / 12)
    frames = [
        # small seasonal series, where SeasonalNaive wins clearly; one huge random walk, where
        # Naive wins by absolute errors that dwarf every small series' errors
        pd.DataFrame({"unique_id": f"s{i}", "ds": t, "y": season + rng.normal(0, 0.2, 96)})
        for i in range(6)
    ] + [pd.DataFrame({"unique_id": "big", "ds": t, "y": 1e7 + rng.normal(0, 1e5, 96).cumsum()})]
    result = backtest([SeasonalNaive(), Naive()], pd.concat(frames), 12, n_windows=2)
    board = result.leaderboard("mase", reference="Naive").set_index("model")
    scaled = dm_test(
        result.forecasts,
        "SeasonalNaive",
        "Naive",
        loss="mase",
        alternative="less",
        train=result.train,
        season=12,
    )
    raw = dm_test(result.forecasts, "SeasonalNaive", "Naive", loss="mae", alternative="less")
    assert board.loc["SeasonalNaive", "p_value"] == pytest.approx(scaled.p_value)
    assert scaled.p_value < 0.01 and raw.p_value > 0.5  # raw errors: the big series decides
    few = backtest([SeasonalNaive(), Naive()], pd.concat(frames[:2]), 12, n_windows=2)
    assert few.n_windows_scored() == 4 < MIN_DM_WINDOWS
    assert np.isnan(few.leaderboard("mase", reference="Naive")["p_value"]).all()
    assert few.dm_note().startswith("no significance test: 4 forecast windows")
