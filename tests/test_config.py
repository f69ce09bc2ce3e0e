"""Settings: defaults merged with a user's YAML file."""

import pytest

from analysis.config import deep_merge, default_config, load_config
from analysis.errors import UserError


def test_deep_merge_overrides_one_key_and_keeps_the_rest():
    base = {"a": {"b": 1, "c": 2}, "d": [1]}
    assert deep_merge(base, {"a": {"c": 3}, "d": [2]}) == {"a": {"b": 1, "c": 3}, "d": [2]}
    assert base == {"a": {"b": 1, "c": 2}, "d": [1]}  # not modified


def test_user_file_overrides_defaults(tmp_path):
    path = tmp_path / "my.yaml"
    path.write_text("validation:\n  outlier_mad_k: 3.5\ndata:\n  columns: {customer_id: 会员ID}\n",
                    encoding="utf-8")
    config = load_config(path)
    assert config["validation"]["outlier_mad_k"] == 3.5
    assert config["validation"]["drop_outliers"] is False  # default kept
    assert config["data"]["columns"] == {"customer_id": "会员ID"}
    assert default_config()["validation"]["outlier_mad_k"] == 5.0


@pytest.mark.parametrize("text, message", [
    ("a: [1, 2", "not valid YAML"),
    ("- 1\n- 2\n", "must hold a mapping"),
])
def test_bad_config_files(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        load_config(path)


def test_missing_config_file(tmp_path):
    with pytest.raises(UserError, match="config file not found"):
        load_config(tmp_path / "nope.yaml")


@pytest.mark.parametrize("text, message", [
    ("data: 5\n", "setting 'data' in .* must be a mapping, not 5"),
    ("validation:\n  outlier_mad_k: lots\n", "'validation.outlier_mad_k' .* must be a number, not 'lots'"),
    ("validation:\n  drop_outliers: 1\n", "'validation.drop_outliers' .* must be true or false"),
    ("rfm:\n  segments: Champions\n", "'rfm.segments' .* must be a list"),
    ("dta:\n  encoding: gbk\n", "unknown setting 'dta' .* known settings here are"),
    ("data:\n  encodng: gbk\n", "unknown setting 'data.encodng'"),
    ("clv:\n  bootstrap:\n    nn: 5\n", "unknown setting 'clv.bootstrap.nn' .* known settings here are n, seed"),
    ("clv:\n  models: [bgnbd, foo]\n", "'clv.models' .* is 'foo': use one of bgnbd, pareto, mbgnbd"),
    ("clv:\n  holdout:\n    calibration_end: [1]\n", None),  # null default: any value type (a date)
    ("rfm:\n  threshold: average\n", "'rfm.threshold' .* is 'average': use one of mean, median"),
    ("lifecycle:\n  labels:\n    sleeping: [s, s]\n", "unknown setting 'lifecycle.labels.sleeping'"),
    ("data:\n  timezone: null\n", "'data.timezone' .* cannot be empty \\(null\\): leave it out for its default, 'UTC'"),
    ("clv: null\n", "'clv' .* cannot be empty"),
    ("validation:\n  non_product_codes: null\n", None),  # a list: null is none of them
    ("data:\n  columns: null\n", None),
])
def test_misspelt_or_mistyped_settings_are_one_line_errors(tmp_path, text, message):
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    if message is None:
        load_config(path)
        return
    with pytest.raises(UserError, match=message):
        load_config(path)


def test_open_tables_accept_new_entries(tmp_path):
    path = tmp_path / "ok.yaml"
    path.write_text("data:\n  columns: {customer_id: 会员ID}\n  encoding: gbk\nclv:\n  horizon_months: 6\n"
                    "tiers:\n  labels: {gold: [Gold, 金牌]}\nplaybook:\n  segments: {Others: []}\n", encoding="utf-8")
    assert load_config(path)["data"]["columns"] == {"customer_id": "会员ID"}
