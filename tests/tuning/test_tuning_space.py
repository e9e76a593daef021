"""The search space: the seeds' scales (log α, log 1−β, powers of two), parsing, coarse-to-fine narrowing."""

from __future__ import annotations

import math

import numpy as np
import optuna
import pytest
from scipy import stats

from gradwise.errors import GradwiseValueError
from gradwise.tuning import DEFAULT_SPACE, Dimension, SearchSpace, parse_dimension

optuna.logging.set_verbosity(optuna.logging.WARNING)


def _sample(space: SearchSpace, n: int, seed: int = 0) -> list[dict]:
    """n configurations drawn by Optuna's RandomSampler through `space.suggest`."""
    configs: list[dict] = []
    study = optuna.create_study(sampler=optuna.samplers.RandomSampler(seed=seed))
    study.optimize(lambda trial: configs.append(space.suggest(trial)) or 0.0, n_trials=n)
    return configs


def _only(**specs) -> SearchSpace:
    """The default space with everything fixed except `specs`."""
    fixed = {d.name: d.value if d.kind == "fixed" else None for d in DEFAULT_SPACE}
    fixed.update(learning_rate=0.01, beta1=0.9, batch_size=64, hidden_units=32, layers=1, decay=0.0,
                 keep_prob=1.0, l2=0.0)
    return SearchSpace.default().override({**fixed, **specs})


def test_learning_rate_is_sampled_evenly_across_decades():
    # The seeds: alpha in 1e-4..1e-1 drawn as 10^r, r ~ U[-4, -1] -> each decade gets the same share.
    # Uniform sampling of alpha itself would put ~90% of the draws in [1e-2, 1e-1].
    configs = _sample(_only(learning_rate="1e-4:1e-1"), 200, seed=1)
    alpha = np.array([c["learning_rate"] for c in configs])
    assert alpha.min() >= 1e-4 and alpha.max() <= 1e-1
    counts = np.histogram(np.log10(alpha), bins=[-4, -3, -2, -1])[0]
    assert counts.sum() == 200
    shares = counts / 200
    assert np.all((shares > 0.20) & (shares < 0.47)), shares
    chi2 = stats.chisquare(counts).statistic
    assert chi2 < 13.8, (counts, chi2)  # df = 2, p = 0.001
    assert stats.kstest((np.log10(alpha) + 4) / 3, "uniform").pvalue > 1e-3


def test_beta_is_sampled_through_one_minus_beta_on_a_log_scale():
    # beta in 0.9..0.999: 1 - beta log-uniform in 1e-3..1e-1, so half of the draws have beta >= 0.99
    # (uniform beta would give 10%), and log10(1 - beta) is uniform on [-3, -1].
    configs = _sample(_only(beta1="0.9:0.999"), 200, seed=2)
    beta = np.array([c["beta1"] for c in configs])
    assert beta.min() >= 0.9 - 1e-12 and beta.max() <= 0.999 + 1e-12
    share_near_one = np.mean(beta >= 0.99)
    assert 0.35 < share_near_one < 0.65, share_near_one
    r = np.log10(1 - beta)
    assert stats.kstest((r + 3) / 2, "uniform").pvalue > 1e-3


def test_batch_sizes_are_powers_of_two_each_drawn():
    configs = _sample(_only(batch_size="32:512"), 100, seed=3)
    sizes = [c["batch_size"] for c in configs]
    assert set(sizes) == {32, 64, 128, 256, 512}
    assert min(sizes.count(s) for s in set(sizes)) >= 8  # ~20 each


def test_zero_or_range_draws_both():
    configs = _sample(_only(l2="0|1e-4:1"), 100, seed=4)
    l2 = np.array([c["l2"] for c in configs])
    zeros = np.mean(l2 == 0)
    assert 0.3 < zeros < 0.7
    nonzero = l2[l2 > 0]
    assert nonzero.min() >= 1e-4 and nonzero.max() <= 1


def test_default_space_follows_the_seeds():
    space = SearchSpace.default()
    assert space["learning_rate"].describe() == "0.0001:0.1 log"
    beta = space["beta1"]
    assert beta.scale == "one_minus_log" and (beta.low, beta.high) == (0.9, 0.999)
    assert space["batch_size"].scale == "pow2"
    assert space["l2"].zero and space["decay"].zero
    # the seeds' order of importance: alpha first, then beta, mini-batch size, hidden units
    assert space.searched[:4] == ["learning_rate", "beta1", "batch_size", "hidden_units"]
    config = _sample(space, 1)[0]
    assert set(config) == {d.name for d in space}


@pytest.mark.parametrize("name, text, expected", [
    ("learning_rate", "1e-4:1e-1", "0.0001:0.1 log"),
    ("learning_rate", "0.001:0.01:linear", "0.001:0.01 linear"),
    ("keep_prob", "0.5:1", "0.5:1 linear"),
    ("l2", "0|1e-5:1", "0|1e-05:1 log"),
    ("beta1", "0.8:0.99", "0.8:0.99 one_minus_log"),
    ("batch_size", "64:1024", "64:1024 pow2"),
    ("batch_size", "32,100", "32,100"),
    ("batchnorm", "true", "true"),
    ("batchnorm", "true,false", "true,false"),
    ("optimizer", "Adam,momentum", "adam,momentum"),
    ("epochs", "60", "60"),
    ("hidden_units", "16:256:linear", "16:256 linear"),
])
def test_parse_dimension(name, text, expected):
    assert parse_dimension(name, text).describe() == expected


@pytest.mark.parametrize("name, text, words", [
    ("learning_rate", "1e-1:1e-4", "empty"),
    ("learning_rate", "0:1", "learning_rate must be > 0"),
    ("l2", "0:1", "0|"),
    ("beta1", "0.9:1", "beta1 must be in [0, 1)"),
    ("batch_size", "30:500", "powers of two"),
    ("keep_prob", "0:1", "keep_prob must be in (0, 1]"),
    ("optimizer", "adam,sgd", "'sgd'"),
    ("layers", "1.5:3", "integer"),
    ("batchnorm", "maybe", "true or false"),
    ("learning_rate", "1e-3:x", "must be a number"),
    ("learning_rate", "1e-3:1e-2:cubic", "scale must be one of"),
    ("momentum", "0.9", "unknown hyperparameter 'momentum'"),
    ("optimizer", "adam:gd", "not a range"),
])
def test_parse_dimension_errors_name_the_value(name, text, words):
    with pytest.raises(GradwiseValueError) as info:
        parse_dimension(name, text)
    assert words in str(info.value)


def test_space_from_toml(tmp_path):
    path = tmp_path / "space.toml"
    path.write_text(
        '[space]\n'
        'learning_rate = "1e-3:1e-2"\n'
        'batch_size = {choices = [64, 128]}\n'
        'l2 = {low = 1e-4, high = 1e-1, log = true, zero = true}\n'
        'keep_prob = {low = 0.7, high = 1.0}\n'
        'batchnorm = true\n'
        'epochs = 12\n', encoding="utf-8")
    space = SearchSpace.from_toml(path)
    assert space["learning_rate"].describe() == "0.001:0.01 log"
    assert space["batch_size"].choices == (64, 128)
    assert space["l2"].describe() == "0|0.0001:0.1 log"
    assert space["keep_prob"].describe() == "0.7:1 linear"
    assert space["batchnorm"].value is True and space["epochs"].value == 12
    assert space["hidden_units"] == DEFAULT_SPACE["hidden_units"]  # untouched ranges keep their defaults
    assert SearchSpace.from_dict(space.to_dict()) == space


@pytest.mark.parametrize("text, words", [
    ("learning_rate = 1\n", "one [space] table"),
    ("[space]\nmomentum = 0.9\n", "unknown hyperparameter 'momentum'"),
    ("[space]\nlearning_rate = {low = 1e-3}\n", "needs low and high"),
    ("[space]\nlearning_rate = \n", "not valid TOML"),
    ("[space]\nl2 = {low = 1e-4, high = 1, bogus = 2}\n", "unknown key(s) ['bogus']"),
])
def test_space_file_errors(tmp_path, text, words):
    path = tmp_path / "bad.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(GradwiseValueError) as info:
        SearchSpace.from_toml(path)
    assert words in str(info.value) and "bad.toml" in str(info.value)


def test_missing_space_file():
    with pytest.raises(GradwiseValueError, match="not found"):
        SearchSpace.from_toml("/nonexistent/space.toml")


# ------------------------------------------------------------------------------- coarse to fine


def test_narrow_log_range_spans_the_best_values_and_stays_inside():
    coarse = Dimension("learning_rate", "float", 1e-4, 1e-1, "log")
    fine = coarse.narrow([1e-3, 2e-3, 5e-3])
    assert coarse.low <= fine.low <= 1e-3 and 5e-3 <= fine.high <= coarse.high
    # [min, max] widened by 10% of the coarse log-width (3 decades) on each side
    assert math.isclose(math.log10(fine.low), -3 - 0.3) and math.isclose(math.log10(fine.high),
                                                                          math.log10(5e-3) + 0.3)
    edge = coarse.narrow([1.5e-4, 9e-2])
    assert edge.low == coarse.low and edge.high == coarse.high  # clipped to the coarse range


def test_narrow_one_minus_beta_and_powers_of_two():
    beta = Dimension("beta1", "float", 0.9, 0.999, "one_minus_log").narrow([0.95, 0.99])
    assert beta.low < 0.95 and beta.high > 0.99 and 0.9 <= beta.low and beta.high <= 0.999
    batch = Dimension("batch_size", "int", 32, 512, "pow2").narrow([64, 128, 64])
    assert (batch.low, batch.high) == (64, 128)
    units = Dimension("hidden_units", "int", 16, 512, "log").narrow([100, 120])
    assert isinstance(units.low, int) and units.low <= 100 and units.high >= 120


def test_narrow_zero_and_choices():
    l2 = Dimension("l2", "float", 1e-4, 1.0, "log", zero=True)
    assert l2.narrow([0.0, 0.0]).describe() == "0"
    assert not l2.narrow([1e-3, 1e-2]).zero
    mixed = l2.narrow([0.0, 1e-2])
    assert mixed.zero and mixed.low <= 1e-2 <= mixed.high
    choice = Dimension("optimizer", "choice", choices=("adam", "momentum"))
    assert choice.narrow(["adam", "adam"]).describe() == "adam"
    assert choice.narrow(["adam", "momentum"]) == choice  # Optuna keeps a categorical's choices fixed


def test_space_narrow_keeps_fixed_values():
    space = SearchSpace.default()
    configs = _sample(space, 5, seed=7)
    fine = space.narrow(configs[:2])
    for name in space.searched:
        values = [c[name] for c in configs[:2]]
        dim = fine[name]
        if dim.kind in ("float", "int"):
            nonzero = [v for v in values if v != 0]
            assert all(dim.low <= v <= dim.high for v in nonzero), (name, dim, values)
    assert fine["optimizer"] == space["optimizer"]
