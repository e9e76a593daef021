"""The column plan (gw.Preprocessor): typing on the training rows only, encoding, JSON round trip, Pipeline."""

from __future__ import annotations

import json
import warnings

import numpy as np
import pandas as pd
import pytest

import gradwise as gw
from gradwise.errors import DataWarning, GradwiseTypeError, GradwiseValueError


def churn(m: int = 60, seed: int = 0) -> pd.DataFrame:
    """A small churn-like table: numbers with gaps, words, yes/no, an id, a constant and free text."""
    rng = np.random.default_rng(seed)
    income = rng.normal(50, 10, m)
    income[[3, 17]] = np.nan
    return pd.DataFrame({
        "customer_id": np.arange(1000, 1000 + m),
        "age": rng.integers(18, 80, m),
        "income": income,
        "plan": rng.choice(["basic", "pro", "team"], m, p=[0.5, 0.4, 0.1]),
        "city": np.where(np.arange(m) == 5, "Lyon", rng.choice(["Paris", "Nice"], m)),
        "paperless": rng.choice(["Yes", "No"], m),
        "country": "FR",
        "note": [f"called on day {i} about invoice {rng.integers(10**6)}" for i in range(m)],
    })


def fit_quiet(frame: pd.DataFrame, **params) -> tuple[gw.Preprocessor, list[str]]:
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        pre = gw.Preprocessor(**params).fit(frame)
    return pre, [str(w.message) for w in caught if issubclass(w.category, DataWarning)]


def test_kinds_and_notes():
    pre, notes = fit_quiet(churn())
    kinds = {s["name"]: s["kind"] for s in pre.columns_}
    assert kinds == {"customer_id": "dropped", "age": "numeric", "income": "numeric", "plan": "category",
                     "city": "category", "paperless": "boolean", "country": "dropped", "note": "dropped"}
    assert notes == pre.notes_
    assert any("'customer_id' left out: an identifier" in n for n in notes)
    assert any("'country' left out: constant" in n for n in notes)
    assert any("'note' left out: free text" in n for n in notes)
    names = list(pre.get_feature_names_out())
    # income had gaps: an indicator; Lyon (seen once < min_frequency 3) goes to 'city:other'
    assert names == ["age", "income", "income:missing", "plan=basic", "plan=pro", "plan=team", "city=Nice",
                     "city=Paris", "city:other", "paperless"]


def test_encoding_values_and_standardization():
    frame = churn()
    pre, _ = fit_quiet(frame)
    Z = pre.transform(frame)
    names = list(pre.get_feature_names_out())
    col = {n: Z[:, i] for i, n in enumerate(names)}
    income = frame["income"].to_numpy()
    filled = np.where(np.isnan(income), np.nanmedian(income), income)
    np.testing.assert_allclose(col["income"], (filled - filled.mean()) / filled.std())
    np.testing.assert_array_equal(col["income:missing"], np.isnan(income))
    np.testing.assert_array_equal(col["paperless"], frame["paperless"] == "Yes")
    np.testing.assert_array_equal(col["plan=pro"], frame["plan"] == "pro")
    assert col["city:other"][5] == 1 and col["city:other"].sum() == 1
    block = Z[:, names.index("plan=basic"):names.index("plan=team") + 1]
    assert (block.sum(axis=1) == 1).all()
    unscaled = gw.Preprocessor(standardize=False)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        raw = unscaled.fit_transform(frame)
    np.testing.assert_array_equal(raw[:, names.index("age")], frame["age"])


def test_fitted_on_training_rows_only():
    frame = churn(100)
    train, dev = frame.iloc[:60], frame.iloc[60:].copy()
    pre, _ = fit_quiet(train)
    dev.loc[dev.index[:4], "plan"] = "enterprise"  # unseen in training
    dev.loc[dev.index[0], "income"] = np.nan
    with pytest.warns(DataWarning, match=r"column 'plan': 4 row\(s\) hold a category unseen in training "
                                         r"\(e.g. 'enterprise' at data row 61\), encoded as all zeros"):
        Z = pre.transform(dev)
    names = list(pre.get_feature_names_out())
    plan = Z[:, [names.index(f"plan={v}") for v in ("basic", "pro", "team")]]
    assert (plan[:4] == 0).all() and (plan[4:].sum(axis=1) == 1).all()
    median = float(np.nanmedian(train["income"]))
    scaler = pre.standardizer_
    expected = (median - scaler.mean_[1]) / scaler.scale_[1]
    assert Z[0, names.index("income")] == pytest.approx(expected)


def test_missing_extra_and_reordered_columns():
    frame = churn()
    pre, _ = fit_quiet(frame)
    shuffled = frame[list(reversed(frame.columns))].assign(target=1)
    np.testing.assert_array_equal(pre.transform(shuffled), pre.transform(frame))
    # a left-out column is not needed at prediction time
    np.testing.assert_array_equal(pre.transform(frame.drop(columns=["note", "customer_id"])), pre.transform(frame))
    with pytest.raises(GradwiseValueError, match=r"X lacks the model's feature column\(s\) \['plan'\]"):
        pre.transform(frame.drop(columns=["plan"]))


def test_mixed_numbers_and_words():
    m = 40
    mostly = [str(v) for v in range(m)]
    mostly[7] = "unknown"
    words = ["red", "blue", "7", "red"] * (m // 4)
    frame = pd.DataFrame({"mostly_numbers": mostly, "mostly_words": words})
    with pytest.warns(DataWarning, match=r"'mostly_numbers' mixes numbers and words: 1 word\(s\) such as "
                                         r"'unknown' at data row 8 read as missing"):
        pre = gw.Preprocessor().fit(frame)
    kinds = {s["name"]: s["kind"] for s in pre.columns_}
    assert kinds == {"mostly_numbers": "numeric", "mostly_words": "category"}
    assert "mostly_numbers:missing" in pre.get_feature_names_out()
    assert "mostly_words=7" in pre.get_feature_names_out()


def test_integers_that_are_measurements_are_not_identifiers():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"income": rng.permutation(np.arange(30_000, 30_000 + 50) * 7),
                          "row": np.arange(50)})
    pre, notes = fit_quiet(frame)
    assert [s["kind"] for s in pre.columns_] == ["numeric", "dropped"]
    assert notes == ["column 'row' left out: an identifier (a distinct number per row, counting row by row)"]


def test_booleans_and_rare_level_caps():
    frame = pd.DataFrame({"flag": [True, False] * 15, "yn": ["y", "N"] * 15,
                          "level": [f"l{i % 12}" for i in range(30)]})
    pre, _ = fit_quiet(frame, max_levels=4, min_frequency=3)
    spec = {s["name"]: s for s in pre.columns_}
    assert spec["flag"]["kind"] == spec["yn"]["kind"] == "boolean"
    assert len(spec["level"]["levels"]) == 4 and spec["level"]["other"]
    Z = pre.transform(frame)
    assert Z[:, 0].tolist() == [1.0, 0.0] * 15 and Z[:, 1].tolist() == [1.0, 0.0] * 15


def test_config_round_trip_is_json_and_exact():
    frame = churn()
    pre, _ = fit_quiet(frame)
    text = json.dumps(pre.get_config(), allow_nan=False)
    again = gw.Preprocessor.from_config(json.loads(text))
    np.testing.assert_array_equal(again.transform(frame), pre.transform(frame))
    broken = json.loads(text)
    broken["columns"][1]["median"] = "x"
    with pytest.raises(GradwiseValueError, match=r"column 'age' needs 'median'"):
        gw.Preprocessor.from_config(broken)
    with pytest.raises(GradwiseValueError, match="not a Preprocessor description"):
        gw.Preprocessor.from_config({"type": "Standardizer"})


def test_errors_name_the_problem():
    with pytest.raises(GradwiseTypeError, match="needs a pandas DataFrame"):
        gw.Preprocessor().fit(np.ones((3, 2)))
    with pytest.raises(GradwiseValueError, match="call fit"):
        gw.Preprocessor().transform(pd.DataFrame({"a": [1]}))
    with pytest.raises(GradwiseValueError, match=r"column 'a' holds a non-finite value inf at data row 2"):
        gw.Preprocessor().fit(pd.DataFrame({"a": [1.0, np.inf, 2.0]}))
    with pytest.raises(GradwiseValueError, match=r"duplicate column name\(s\) \['a'\]"):
        gw.Preprocessor().fit(pd.DataFrame([[1, 2]], columns=["a", "a"]))


def test_model_takes_dataframes_through_its_plan_and_saves_it(tmp_path):
    frame = churn(120)
    y = (frame["plan"] == "pro").to_numpy().astype(np.int64)
    pre, _ = fit_quiet(frame)
    model = gw.mlp([len(pre.get_feature_names_out()), 8, 1], seed=0)
    model.preprocessor = pre
    model.fit(frame, y, epochs=5, batch_size=32, optimizer="adam", learning_rate=0.01)
    loaded = gw.load(gw.save(model, tmp_path / "m.safetensors"))
    assert loaded.preprocessor.get_config() == pre.get_config()
    np.testing.assert_array_equal(loaded.predict_proba(frame), model.predict_proba(frame))
    np.testing.assert_array_equal(model.predict(frame), model.predict(pre.transform(frame)))
    with pytest.raises(GradwiseTypeError, match=r"non-numeric column\(s\) \['plan', 'city'"):
        gw.mlp([3, 1]).predict(frame[["age", "plan", "city"]])
    numeric = frame[["age", "income"]].fillna(0.0)
    plain = gw.mlp([2, 1], seed=0)
    assert plain.predict(numeric).shape == (120,)  # an all-numeric DataFrame needs no plan


def test_sklearn_pipeline():
    from sklearn.pipeline import Pipeline

    frame = churn(120)
    y = np.where(frame["plan"] == "pro", "yes", "no")
    pipe = Pipeline([("plan", gw.Preprocessor()),
                     ("mlp", gw.sklearn.MLPClassifier(hidden_layer_sizes=(8,), epochs=200, random_state=0))])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        pipe.fit(frame, y)
        assert pipe.score(frame, y) > 0.9
    assert list(pipe.named_steps["plan"].get_feature_names_out())[:2] == ["age", "income"]


def test_fit_transform_with_rows_equals_fit_then_transform_and_parquet_categoricals(tmp_path):
    """Factorizing each column once (fit_transform's memo), encoding in row blocks and reading Parquet text as
    categoricals give exactly the matrix of a separate fit and transform of the CSV."""
    import pandas as pd

    from gradwise.data import Preprocessor, read_table
    from gradwise.data import columns as columns_module

    rng = np.random.default_rng(0)
    m = 3000
    frame = pd.DataFrame({"x": np.where(rng.random(m) < 0.1, np.nan, rng.normal(size=m)),
                          "plan": rng.choice(["basic", "pro", "team", "rare"], m, p=[0.5, 0.3, 0.1999, 0.0001]),
                          "flag": rng.choice(["yes", "no"], m), "n": rng.integers(0, 5, m)})
    frame.loc[rng.random(m) < 0.05, "plan"] = None
    frame.to_csv(tmp_path / "t.csv", index=False)
    frame.to_parquet(tmp_path / "t.parquet", index=False)
    train, order = rng.permutation(m)[:2000], rng.permutation(m)
    csv = read_table(tmp_path / "t.csv")
    expected = Preprocessor(min_frequency=2).fit(csv.iloc[train].reset_index(drop=True)).transform(csv.iloc[order])
    original = columns_module._BLOCK_BYTES
    try:
        columns_module._BLOCK_BYTES = 1000  # many small blocks
        for path in ("t.csv", "t.parquet"):
            table = read_table(tmp_path / path)
            got = Preprocessor(min_frequency=2).fit_transform(table, rows=train, encode_rows=order)
            np.testing.assert_array_equal(got, expected)
    finally:
        columns_module._BLOCK_BYTES = original
    assert str(read_table(tmp_path / "t.parquet")["plan"].dtype) == "category"
