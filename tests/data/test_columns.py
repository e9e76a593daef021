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
    income[[3, 17, 29]] = np.nan  # three gaps: enough for a missing indicator (min_frequency 3)
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
    # one word read as missing: a gap on one training row, too rare for an indicator; the median fills it
    assert "mostly_numbers:missing" not in pre.get_feature_names_out()
    assert pre.columns_[0]["median"] == np.median([v for v in range(m) if v != 7])
    assert "mostly_words=7" in pre.get_feature_names_out()


def test_integers_that_are_measurements_are_not_identifiers():
    rng = np.random.default_rng(1)
    frame = pd.DataFrame({"income": rng.permutation(np.arange(30_000, 30_000 + 50) * 7),
                          "row": np.arange(50)})
    pre, notes = fit_quiet(frame)
    assert [s["kind"] for s in pre.columns_] == ["numeric", "dropped"]
    assert notes == ["column 'row' left out: an identifier (a distinct number per row, counting row by row)"]


def test_rare_gaps_get_no_indicator_column():
    """Gaps on fewer than min_frequency training rows are filled but get no column of their own: like a
    rare level, one or two rows are no pattern, and a network would learn them by heart."""
    m = 30
    two, three = np.arange(m, dtype=float), np.arange(m, dtype=float)
    two[[4, 9]] = np.nan
    three[[4, 9, 14]] = np.nan
    level = np.array(["a", "b", "c"] * 10, dtype=object)
    level[[5, 6]] = None
    flag = np.array(["yes", "no"] * 15, dtype=object)
    flag[[1, 2]] = None
    frame = pd.DataFrame({"two": np.roll(two, 1), "three": np.roll(three, 1), "level": level, "flag": flag})
    pre, _ = fit_quiet(frame, standardize=False)
    assert list(pre.get_feature_names_out()) == ["two", "three", "three:missing", "level=b", "level=a",
                                                  "level=c", "flag"]
    Z = pre.transform(frame)
    gaps = np.isnan(frame["two"].to_numpy())
    assert (Z[gaps, 0] == np.nanmedian(frame["two"])).all()
    assert (Z[5:7, 3:6] == 0).all()  # a category's rare gaps: no level, as an unseen one (without a warning)
    assert Z[1, 6] == Z[2, 6] == pre.columns_[3]["fill"]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        pre.transform(frame)
    assert not caught
    # min_frequency=2: two gaps now make the indicator
    pre2, _ = fit_quiet(frame, min_frequency=2)
    assert "two:missing" in pre2.get_feature_names_out() and "level:missing" in pre2.get_feature_names_out()


def cars_like(m: int = 60) -> pd.DataFrame:
    """Car names: brand + model (+ a variant), mostly distinct values whose words repeat."""
    brands = ["ford", "toyota", "fiat", "volvo"]
    models = ["pinto", "corolla", "mark", "special", "deluxe", "2+2", "wagon", "sport", "gl", "gt", "xl", "custom"]
    names = [f"{brands[i % 4]} {models[i % 12]}" + (f" ({i})" if i % 3 else "") for i in range(m)]
    names[10] = None
    return pd.DataFrame({"name": names, "mpg": np.arange(m, dtype=float)})


def test_names_are_encoded_by_their_words():
    frame = cars_like()
    pre, notes = fit_quiet(frame)
    spec = pre.columns_[0]
    assert spec["kind"] == "words" and not notes
    # words in >= 3 rows; the variant numbers "(13)" are each in one row; one gap: no missing column
    # the brands first (most rows; ties by the word), fiat in one row less: its row 10 is the gap
    assert spec["words"][:4] == ["ford", "toyota", "volvo", "fiat"] and "13" not in spec["words"]
    assert "2" in spec["words"] and "sw" not in spec["words"]  # "2+2" is the word "2"
    names = list(pre.get_feature_names_out())
    assert names[:4] == ["name~ford", "name~toyota", "name~volvo", "name~fiat"] and names[-1] == "mpg"
    Z = pre.transform(frame)
    for j, word in enumerate(spec["words"]):
        holds = [isinstance(v, str) and word in v.replace("(", " ").replace(")", " ").replace("+", " ").split()
                 for v in frame["name"]]
        np.testing.assert_array_equal(Z[:, j], holds, err_msg=word)
    assert (Z[10, :-1] == 0).all()  # the gap
    new = pd.DataFrame({"name": ["FORD  Mustang", "tesla model 3", None], "mpg": [1.0, 2.0, 3.0]})
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", DataWarning)
        Z_new = pre.transform(new)
    assert not caught  # unseen words are ignored, as a bag of words does
    assert Z_new[0, names.index("name~ford")] == 1 and Z_new[0, :-1].sum() == 1 and (Z_new[1:, :-1] == 0).all()
    again = gw.Preprocessor.from_config(json.loads(json.dumps(pre.get_config())))
    np.testing.assert_array_equal(again.transform(frame), Z)
    broken = pre.get_config()
    broken["columns"][0]["words"] = ["ford", 3]
    with pytest.raises(GradwiseValueError, match=r"words of 'name' must be non-empty strings"):
        gw.Preprocessor.from_config(broken)


def test_mostly_distinct_text_sentences_ids_and_codes():
    m = 40
    frame = pd.DataFrame({
        "sentence": [f"the parcel number {i} came back late" for i in range(m)],  # 7 words: free text
        "code": [f"ZX{i // 2:04d}" for i in range(m)],  # one word, half distinct: categories (rare -> other)
        "unique_name": [f"alpha beta{i}" for i in range(m)],  # one distinct value per row: an identifier
        "lonely": [f"w{i} v{i}" if i % 2 else f"w{i} v{i} u{i}" for i in range(m - 2)] + ["x y"] * 2,
        # five one-letter words, 9 bytes: the shortest free text (shorter ones are not counted word by word)
        "terse": [f"{i // 10} {i % 10} x y z" for i in range(m)],
    })
    pre, notes = fit_quiet(frame)
    kinds = {s["name"]: s["kind"] for s in pre.columns_}
    assert kinds == {"sentence": "dropped", "code": "dropped", "unique_name": "dropped", "lonely": "dropped",
                     "terse": "dropped"}
    assert notes[-1] == "column 'terse' left out: free text (40 distinct values in 40 rows)"
    assert notes[:-1] == ["column 'sentence' left out: free text (40 distinct values in 40 rows)",
                     "column 'code' left out: a category none of whose 20 levels is seen 3 times",
                     "column 'unique_name' left out: an identifier (one distinct value per row)",
                     "column 'lonely' left out: names none of whose words is seen in 3 rows (39 distinct values "
                     "in 40 rows)"]


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
    frame.astype({"plan": "category", "flag": "category"}).to_parquet(tmp_path / "c.parquet", index=False)
    train, order = rng.permutation(m)[:2000], rng.permutation(m)
    csv = read_table(tmp_path / "t.csv")
    expected = Preprocessor(min_frequency=2).fit(csv.iloc[train].reset_index(drop=True)).transform(csv.iloc[order])
    original = columns_module._BLOCK_BYTES, columns_module._SMALL_PAGES_FROM_BYTES
    try:
        columns_module._BLOCK_BYTES = 1000  # many small blocks
        for path, small_pages_from in (("t.csv", 1), ("t.csv", 1 << 40), ("t.parquet", 1), ("c.parquet", 1)):
            columns_module._SMALL_PAGES_FROM_BYTES = small_pages_from  # a mapped matrix, or NumPy's own
            table = read_table(tmp_path / path)
            got = Preprocessor(min_frequency=2).fit_transform(table, rows=train, encode_rows=order)
            np.testing.assert_array_equal(got, expected)
            assert got.flags.writeable and got.flags.c_contiguous
    finally:
        columns_module._BLOCK_BYTES, columns_module._SMALL_PAGES_FROM_BYTES = original
    assert str(read_table(tmp_path / "c.parquet")["plan"].dtype) == "category"  # pandas' categoricals stay so


def test_distinct_words_are_typed_on_the_training_rows_alone_with_the_same_plan():
    """A text column whose first training rows are distinct words is factorized on its training rows alone
    (an identifier's million texts are not hashed for the rows it is not fitted on); kept or left out, its
    plan and encoding are those of a fit on a copy of the training rows."""
    from gradwise.data.columns import _first_rows_distinct_words

    m = 3000
    i = np.arange(m)
    frame = pd.DataFrame({"user": [f"u{k}" for k in i],  # an identifier
                          "tag": [f"w{k % 2000}" for k in i],  # distinct in the first two thirds, then again
                          "note": [f"called on day {k} about an invoice" for k in i],  # free text
                          "price": [f"{k * 1.5:.1f}" if k % 50 else "n/a" for k in i],  # numbers as text
                          "x": np.random.default_rng(0).normal(size=m)})
    train = np.sort(np.random.default_rng(1).permutation(m)[:2000])
    assert [_first_rows_distinct_words(frame[c], train) for c in ("user", "tag", "note", "price")] == \
        [True, True, True, False]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DataWarning)
        on_rows = gw.Preprocessor(min_frequency=2).fit(frame, rows=train)
        on_copy = gw.Preprocessor(min_frequency=2).fit(frame.iloc[train])
        assert on_rows.columns_ == on_copy.columns_
        assert [s["kind"] for s in on_rows.columns_] == ["dropped", "category", "dropped", "numeric", "numeric"]
        np.testing.assert_array_equal(on_rows.transform(frame), on_copy.transform(frame))


def test_one_hot_columns_past_the_127th_output_column():
    """A category's one-hot columns after 120 or 130 numeric ones: its levels' small-integer offsets are
    widened before the output column is added (they wrapped, or raised OverflowError)."""
    rng = np.random.default_rng(0)
    plan_column = rng.choice(["a", "b", "c", "d", "e"], 200)
    for n_numeric in (120, 130):
        frame = pd.DataFrame({f"x{i}": rng.normal(size=200) for i in range(n_numeric)} | {"plan": plan_column})
        plan = gw.Preprocessor(standardize=False).fit(frame)
        X = plan.transform(frame)
        for level in "abcde":
            column = list(plan.get_feature_names_out()).index(f"plan={level}")
            np.testing.assert_array_equal(X[:, column], plan_column == level)
        assert (X[:, n_numeric:].sum(axis=1) == 1).all()


def test_the_median_equals_numpys_nanmedian_small_and_large_typical_or_not():
    from gradwise.data.columns import MEDIAN_SAMPLE, _median_in_place

    rng = np.random.default_rng(0)
    large = 5 * MEDIAN_SAMPLE  # large enough for the sampled bounds
    for n in (1, 2, 3, 4, 101, 1000, large, large + 1):
        for x in (rng.normal(size=n), rng.integers(0, 5, n).astype(float), np.sort(rng.normal(size=n)),
                  -np.arange(n, dtype=float), rng.standard_cauchy(n)):
            assert _median_in_place(x.copy()) == np.median(x)
            x[rng.random(n) < 0.3] = np.nan  # gaps: the median of the rest
            if not np.isnan(x).all():
                assert _median_in_place(x.copy()) == np.nanmedian(x)
    # a sample far from typical (every sampled value huge, or NaN): the bounds miss, x itself is partitioned
    x = rng.normal(size=large)
    step = large // MEDIAN_SAMPLE
    for planted in (1e9, np.nan):
        y = x.copy()
        y[::step] = planted
        assert _median_in_place(y.copy()) == np.nanmedian(y)
    assert _median_in_place(np.arange(large, dtype=np.int64)) == np.median(np.arange(large))  # word counts
