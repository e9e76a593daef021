import numpy as np
import pytest

from gradwise.data import load, load_features, load_file
from gradwise.data.files import MAX_CLASSES, encode_target
from gradwise.errors import GradwiseValueError

BASIC = "x1,x2,label\n0.5,1,0\n1.5,2,1\n2.5,3,1\n3.5,4,0\n"


def test_csv_target_defaults_to_the_last_column(write):
    data = load_file(write("basic.csv", BASIC))
    np.testing.assert_array_equal(data.X_train, [[0.5, 1], [1.5, 2], [2.5, 3], [3.5, 4]])
    np.testing.assert_array_equal(data.y_train, [0, 1, 1, 0])
    assert data.y_train.dtype == np.int64 and data.X_train.dtype == np.float64
    assert data.task == "binary" and data.n_classes == 2 and data.class_names == ("0", "1")
    assert data.feature_names == ("x1", "x2") and data.name == "basic"
    assert data.X_test.shape == (0, 2) and data.y_test.shape == (0,)


@pytest.mark.parametrize("target", ["x1", "X1", 0, -3, "0"])
def test_csv_target_by_name_or_index(write, target):
    text = "x1,x2,x3\n1,0.5,7\n2,0.25,8\n1,0.125,9\n"
    data = load_file(write("t.csv", text), target=target)
    assert data.feature_names == ("x2", "x3")
    np.testing.assert_array_equal(data.y_train, [0, 1, 0])
    assert data.class_names == ("1", "2")


def test_string_labels_are_encoded_in_sorted_order(write):
    text = "a,b,species\n1,2,virginica\n3,4,setosa\n5,6,versicolor\n7,8,setosa\n"
    data = load_file(write("s.csv", text))
    assert data.class_names == ("setosa", "versicolor", "virginica")
    np.testing.assert_array_equal(data.y_train, [2, 0, 1, 0])
    assert data.task == "multiclass" and data.n_outputs == 3


def test_negative_and_non_contiguous_integer_labels_keep_their_names(write):
    data = load_file(write("n.csv", "f,y\n1,-1\n2,5\n3,-1\n4,10\n"))
    assert data.class_names == ("-1", "5", "10")
    np.testing.assert_array_equal(data.y_train, [0, 1, 0, 2])


def test_regression_targets(write):
    data = load_file(write("r.csv", "x,price\n1,1.5\n2,2.25\n3,0.1\n"))
    assert data.task == "regression" and data.n_classes is None and data.class_names is None
    assert data.y_train.dtype == np.float64
    np.testing.assert_array_equal(data.y_train, [1.5, 2.25, 0.1])


def test_many_distinct_integers_are_regression_unless_forced(write):
    m = 300
    rows = "\n".join(f"{i},{i % 120}" for i in range(m))  # 120 distinct > 50 and > 5% of 300
    path = write("ints.csv", "x,age\n" + rows + "\n")
    assert load_file(path).task == "regression"
    forced = load_file(path, task="classification")
    assert forced.n_classes == 120
    few = write("few.csv", "x,y\n" + "\n".join(f"{i},{i % MAX_CLASSES}" for i in range(m)) + "\n")
    assert load_file(few).n_classes == MAX_CLASSES
    # Many rows: up to 5% of them may be distinct classes.
    big = "\n".join(f"{i},{i % 80}" for i in range(2000))
    assert load_file(write("big.csv", "x,y\n" + big + "\n")).n_classes == 80


def test_split_column_gives_train_and_test(write):
    text = "split,x1,x2,y\ntrain,0,1,1\ntest,1,1,0\nTRAIN,2,0,0\ntrain,3,3,1\n"
    data = load_file(write("f.csv", text))
    assert data.feature_names == ("x1", "x2")
    np.testing.assert_array_equal(data.X_train[:, 0], [0, 2, 3])
    np.testing.assert_array_equal(data.X_test, [[1, 1]])
    np.testing.assert_array_equal(data.y_test, [0])


def test_semicolons_tabs_bom_quotes_and_blank_lines(write, tmp_path):
    data = load_file(write("semi.csv", "a;b;c\n1,5;2;x,y\n\n3;4;y\n"))  # decimal comma, blank line
    assert data.feature_names == ("a", "b")
    np.testing.assert_array_equal(data.X_train, [[1.5, 2], [3, 4]])
    assert data.class_names == ("x,y", "y")
    reg = load_file(write("semireg.csv", "a;price\n1;2,5\n2;3,25\n3;0,5\n"))
    np.testing.assert_array_equal(reg.y_train, [2.5, 3.25, 0.5])
    tab = load_file(write("tab.csv", "a\tb\tc\n1\t2\tx\n3\t4\ty\n"))
    np.testing.assert_array_equal(tab.X_train, [[1, 2], [3, 4]])
    bom = tmp_path / "bom.csv"
    bom.write_bytes("\ufeffa,b\n1,x\n2,y\n".encode())
    assert load_file(bom).feature_names == ("a",)
    quoted = load_file(write("q.csv", 'a,"the, label"\n1,"yes, really"\n2,no\n'))
    assert quoted.class_names == ("no", "yes, really")


def test_load_dispatches_files_and_forwards_target(write):
    data = load(write("d.csv", "y,x\n0,1\n1,2\n"), target="y")
    assert data.feature_names == ("x",)


# ------------------------------------------------------------------------------------------ CSV errors


@pytest.mark.parametrize(
    ("name", "text", "kwargs", "match"),
    [
        ("empty.csv", "", {}, "data file is empty: '.*empty.csv'"),
        ("blank.csv", "\n  \n", {}, "data file is empty"),
        ("noheader.csv", "1,2,0\n3,4,1\n", {}, r"has no header row: line 1 holds numbers.*'x1,x2,y'"),
        ("dup.csv", "a,b,a\n1,2,3\n4,5,6\n", {}, r"duplicate column name\(s\) \['a'\]"),
        ("noname.csv", "a,,y\n1,2,3\n4,5,6\n", {}, "column 1 has no name"),
        (
            "text.csv",
            "a,b,y\n1,2,0\n3,oops,1\n",
            {},
            r"column 'b' must be numeric, got 'oops' at line 3 \(data row 2\)",
        ),
        (
            "nan.csv",
            "a,b,y\n1,2,0\n3,NaN,1\n",
            {},
            r"missing value \('NaN'\) at line 3 \(data row 2\), column 'b'",
        ),
        (
            "hole.csv",
            "a,b,y\n1,,0\n3,4,1\n",
            {},
            r"missing value \(''\) at line 2 \(data row 1\), column 'b'",
        ),
        ("inf.csv", "a,b,y\n1,inf,0\n3,4,1\n", {}, r"non-finite value 'inf' at line 2 .* column 'b'"),
        (
            "notarget.csv",
            "a,b,y\n1,2,0\n3,4,1\n",
            {"target": "label"},
            r"target column 'label' not found .* its columns are \['a', 'b', 'y'\]",
        ),
        ("index.csv", "a,b,y\n1,2,0\n3,4,1\n", {"target": 5}, r"target index 5 is out of range .* 3 columns"),
        ("one.csv", "a,y\n1,cat\n2,cat\n3,cat\n", {}, r"target 'y' .* has a single class \('cat'\)"),
        ("onerow.csv", "a,y\n1,0\n", {}, r"has 1 data row\(s\); at least 2 are needed"),
        ("header.csv", "a,y\n", {}, r"has 0 data row\(s\)"),
        (
            "ragged.csv",
            "a,b,y\n1,2,0\n3,1\n",
            {},
            r"line 3 has 2 field\(s\) but the header has 3 column\(s\)",
        ),
        ("onlytarget.csv", "y\n0\n1\n", {}, "no feature columns besides the target 'y'"),
        ("ytarget.csv", "a,y\n1,0\n2,\n", {}, r"missing target \(''\) at line 3 \(data row 2\), column 'y'"),
        ("badsplit.csv", "split,a,y\ntrain,1,0\ndev,2,1\n", {}, "must hold 'train' or 'test'.*'dev'"),
        ("alltest.csv", "split,a,y\ntest,1,0\ntest,2,1\n", {}, "every row is marked 'test'"),
        ("textreg.csv", "a,y\n1,cat\n2,dog\n", {"task": "regression"}, "cannot be a regression target"),
    ],
)
def test_csv_mistakes_raise_clear_errors(write, name, text, kwargs, match):
    path = write(name, text)
    with pytest.raises(GradwiseValueError, match=match):
        load_file(path, **kwargs)


def test_file_level_errors(tmp_path):
    with pytest.raises(ValueError, match="data file not found: '.*nope.csv'"):
        load_file(tmp_path / "nope.csv")
    with pytest.raises(ValueError, match="data path is a directory"):
        load_file(tmp_path)
    (tmp_path / "data.json").write_text("{}")
    with pytest.raises(ValueError, match="unsupported data file type '.json'"):
        load_file(tmp_path / "data.json")
    (tmp_path / "latin.csv").write_bytes("a,y\n1,caf\xe9\n".encode("latin-1"))
    with pytest.raises(ValueError, match="is not a UTF-8 text file"):
        load_file(tmp_path / "latin.csv")
    with pytest.raises(ValueError, match="task must be one of"):
        load_file(tmp_path / "nope.csv", task="ranking")
    with pytest.raises(TypeError, match="path must be a str"):
        load_file(3)


# ------------------------------------------------------------------------------------------------ NPZ


def test_npz_with_and_without_test_arrays(tmp_path):
    X = np.arange(12.0).reshape(6, 2)
    path = tmp_path / "a.npz"
    np.savez(path, X=X, y=np.array([3, 7, 3, 7, 3, 7]).reshape(-1, 1))
    data = load_file(path)
    np.testing.assert_array_equal(data.X_train, X)
    np.testing.assert_array_equal(data.y_train, [0, 1, 0, 1, 0, 1])
    assert data.class_names == ("3", "7") and data.X_test.shape == (0, 2)
    both = tmp_path / "b.npz"
    np.savez(both, X=X, y=np.array(["b", "a", "b", "a", "c", "a"]), X_test=X[:2], y_test=np.array(["c", "a"]))
    data = load_file(both)
    assert data.class_names == ("a", "b", "c")
    np.testing.assert_array_equal(data.y_test, [2, 0])
    reg = tmp_path / "r.npz"
    np.savez(reg, X=X, y=np.linspace(0, 1, 6))
    assert load_file(reg).task == "regression"


@pytest.mark.parametrize(
    ("arrays", "match"),
    [
        ({"X": np.zeros((3, 2))}, r"must hold arrays 'X' and 'y'; missing \['y'\]"),
        (
            {"X": np.zeros((3, 2)), "y": np.array([0, 1, 0]), "X_test": np.zeros((1, 2))},
            "both 'X_test' and 'y_test'",
        ),
        ({"X": np.zeros((3, 2)), "y": np.array([0, 1])}, "'y' has 2 labels for 3 examples"),
        ({"X": np.zeros((3, 2)), "y": np.array([1, 1, 1])}, "single class"),
        ({"X": np.array([[0.0, np.nan], [1, 1]]), "y": np.array([0, 1])}, "X must be finite"),
        ({"X": np.zeros((1, 2)), "y": np.array([0.5])}, "at least 2 are needed"),
        (
            {
                "X": np.zeros((3, 2)),
                "y": np.array([0, 1, 0]),
                "X_test": np.zeros((1, 3)),
                "y_test": np.array([0]),
            },
            "X_test has 3 features",
        ),
        ({"X": np.array([[1, 2], [3, 4]], dtype=object), "y": np.array([0, 1])}, "cannot be loaded safely"),
    ],
)
def test_npz_mistakes(tmp_path, arrays, match):
    path = tmp_path / "bad.npz"
    np.savez(path, **arrays)
    with pytest.raises(ValueError, match=match):
        load_file(path)


def test_npz_not_a_zip_and_target_refused(tmp_path):
    path = tmp_path / "torn.npz"
    path.write_bytes(b"definitely not a zip archive")
    with pytest.raises(ValueError, match="is not a valid .npz file"):
        load_file(path)
    good = tmp_path / "good.npz"
    np.savez(good, X=np.zeros((2, 1)), y=np.array([0, 1]))
    with pytest.raises(ValueError, match="target= applies to CSV files"):
        load_file(good, target="y")


# ------------------------------------------------------------------------------------ load_features


def test_load_features_selects_a_models_columns(write, tmp_path):
    path = write("p.csv", "y,b,a,split\n0,2,1,train\n1,4,3,test\n")
    X, names = load_features(path, columns=("a", "b"))
    np.testing.assert_array_equal(X, [[1, 2], [3, 4]])
    assert names == ("a", "b")
    X_all, names_all = load_features(path)
    assert names_all == ("y", "b", "a") and X_all.shape == (2, 3)
    with pytest.raises(ValueError, match=r"lacks the feature column\(s\) \['c'\]; its columns are"):
        load_features(path, columns=("a", "c"))
    npz = tmp_path / "p.npz"
    np.savez(npz, X=np.ones((4, 2)))
    X_npz, names_npz = load_features(npz)
    assert X_npz.shape == (4, 2) and names_npz == ("x1", "x2")
    with pytest.raises(ValueError, match="'X' has 2 features, expected 3"):
        load_features(npz, columns=("a", "b", "c"))


def test_encode_target_rules():
    y, task, k, names = encode_target(np.array([True, False, True]), "y", "mem")
    assert task == "binary" and names == ("0", "1") and y.tolist() == [1, 0, 1]
    y, task, k, names = encode_target(np.array(["1.0", "2", "1"]), "y", "mem")
    assert names == ("1", "2") and y.tolist() == [0, 1, 0]
    _, task, _, _ = encode_target(np.array([0.5, 1.0, 2.0]), "y", "mem")
    assert task == "regression"


def test_blanks_after_the_delimiter_far_into_a_file_are_skipped(tmp_path):
    """skipinitialspace is only paid when some field starts with a blank: found anywhere in the file, not
    only in its first kilobytes ('NA' after a blank is still a gap, ' pro' still the level 'pro')."""
    from gradwise.data import read_table

    rows = ["x,plan"] + [f"{i},basic" for i in range(20000)] + ["1.5, NA", "2, pro"]
    path = tmp_path / "late_blanks.csv"
    path.write_text("\n".join(rows) + "\n")
    frame = read_table(path)
    assert frame["plan"].isna().sum() == 1
    assert frame["plan"].iloc[-1] == "pro"
    plain = tmp_path / "no_blanks.csv"
    plain.write_text("\n".join(rows[:-2]) + "\n")
    assert read_table(plain)["plan"].iloc[-1] == "basic"


def test_a_column_whose_chunks_disagree_is_read_whole(tmp_path):
    """pandas types a large file in chunks; a column of numbers that turns to words far down (a '1' level
    in one chunk, 'a' in another) must hold text throughout, as when the file is typed whole — not ints
    in one chunk and strings in another (which would make '1' and 1 two levels)."""
    from gradwise.data import read_table

    n = 300_000
    rows = ["code,x"] + [f"{'1' if i < n - 1000 else 'a'},{i}" for i in range(n)]
    path = tmp_path / "late_words.csv"
    path.write_text("\n".join(rows) + "\n")
    frame = read_table(path)
    assert {type(v) for v in frame["code"]} == {str}
    assert frame["code"].nunique() == 2 and frame["x"].dtype.kind == "i"


def test_encode_target_labels_as_objects_and_numbers_as_text():
    y, task, k, names = encode_target(np.array(["b", "a", "b"], dtype=object), "y", "mem")
    assert (task, k, names, y.tolist()) == ("binary", 2, ("a", "b"), [1, 0, 1])
    y, task, k, names = encode_target(np.array(["10", "9", "10"], dtype=object), "y", "mem")
    assert names == ("9", "10") and y.tolist() == [1, 0, 1]  # numbers written as text sort as numbers
    with pytest.raises(TypeError, match="must hold numbers or text, got a dict"):
        encode_target(np.array([{}, "a"], dtype=object), "y", "mem")
