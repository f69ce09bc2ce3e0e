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
