"""The executive summary's sentences, from a tiny run directory's own files."""

import json

import pandas as pd
import pytest

from analysis.report.summary import sentences

CLV = {"clv": {"total_clv": 807136.2, "horizon_months": 12, "top_decile_share": 0.5}}


@pytest.fixture
def run_dir(tmp_path):
    (tmp_path / "quality.json").write_text(json.dumps({"date_min": "1997-01-01", "as_of": "1998-06-30"}))
    pd.DataFrame({"customer_id": ["a", "b"], "monetary": [10.0, 20.0], "orders": [1, 2]}).to_parquet(
        tmp_path / "customers.parquet")
    return tmp_path


def _clv_sentence(run_dir, config, lang):
    return next(s for s in sentences(run_dir, config, lang) if "807,136" in s)


@pytest.mark.parametrize(("lang", "said"), [("en", "Expected value of the next 12 months: 807,136 (Pareto/NBD);"),
                                            ("zh", "未来 12 个月预期价值 807,136（帕累托/NBD 模型）；")])
def test_the_model_is_named_as_people_name_it_in_each_language(run_dir, config, lang, said):
    label = {"en": "Pareto/NBD", "zh": "帕累托/NBD 模型"}
    (run_dir / "clv.json").write_text(json.dumps({**CLV, "chosen_model": "pareto", "chosen_label": label},
                                                 ensure_ascii=False), encoding="utf-8")
    assert _clv_sentence(run_dir, config, lang).startswith(said)


def test_a_record_without_the_label_names_the_model_by_its_label_not_its_settings_key(run_dir, config):
    (run_dir / "clv.json").write_text(json.dumps({**CLV, "chosen_model": "pareto"}))
    assert "(Pareto/NBD)" in _clv_sentence(run_dir, config, "en")
    (run_dir / "clv.json").write_text(json.dumps({**CLV, "chosen_model": "nbd"}))
    assert "（NBD（无流失））" in _clv_sentence(run_dir, config, "zh")
