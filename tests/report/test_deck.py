"""The management deck, built from a run directory of the CDNOW sample (segments by the package; churn and CLV
columns and customers' names, phones and e-mails made up here so the deck has every section to show)."""

import json
import zipfile

import numpy as np
import pandas as pd
import pytest

from analysis.errors import UserError
from analysis.privacy import mask_id, mask_name
from analysis.report.deck import build_deck, headline
from analysis.report.history import append_snapshot
from analysis.report.rundir import Stage, settings_for, write_prepared

NAMES = ["张三", "李小明", "Alice Smith", "Bob Stone", "欧阳娜娜"]


def _segmented(sample, config, as_of):
    from analysis import segments
    from analysis.data.pipeline import prepare

    prepared = prepare(sample, config, as_of)
    return prepared, segments.run(prepared, config)


def _make_run(path, sample, config, churn=True):
    """A run directory as the runner leaves it, with the segments stage and (``churn``) churn and CLV."""
    prepared, seg = _segmented(sample, config, "1998-06-30")
    write_prepared(path, prepared, settings_for(sample, "1998-06-30", None))
    st = Stage(path)
    table = st.add_columns(seg.columns.drop(columns=["recency_days", "frequency", "monetary"]))
    st.write_json("segments.json", seg.record)
    n = len(table)
    people = pd.DataFrame({
        "customer_id": table["customer_id"],
        "customer_name": [f"{NAMES[i % len(NAMES)]}{'' if i < len(NAMES) else i}" for i in range(n)],
        "phone": [f"139{i:08d}" for i in range(n)],
        "email": [f"user{i}@example.com" for i in range(n)],
    })  # fmt: skip
    st.add_columns(people)
    if churn:
        rng = np.random.default_rng(7)
        risk = rng.uniform(0, 1, n)
        band = np.where(risk >= 0.7, "high", np.where(risk >= 0.4, "medium", "low"))
        var = risk * table["monetary"].to_numpy()
        st.add_columns(pd.DataFrame({
            "customer_id": table["customer_id"], "clv": table["monetary"].to_numpy() / 2, "churn_risk": risk,
            "risk_band": band, "risk_band_zh": pd.Series(band).map({"high": "高风险", "medium": "中", "low": "低"}),
            "churn_reasons": "no purchase for 300 days; spend down", "churn_reasons_zh": "300 天未购买；消费下降",
            "value_at_risk": var,
        }))  # fmt: skip
        high = band == "high"
        st.write_json(
            "churn.json",
            {"warning_list": {"high_risk_customers": int(high.sum()), "high_value_at_risk": float(var[high].sum())}},
        )
        st.write_json("clv.json", {"clv": {"total_clv": float(table["monetary"].sum() / 2),
                                                  "horizon_months": 12}})  # fmt: skip
    return path


@pytest.fixture(scope="module")
def run(tmp_path_factory, lifetimes_datasets):
    from analysis.config import load_config

    config = load_config()
    sample = str(lifetimes_datasets / "CDNOW_sample.txt")
    base = tmp_path_factory.mktemp("deck")
    full = _make_run(base / "run", sample, config)
    plain = _make_run(base / "plain", sample, config, churn=False)
    prepared_early, earlier = _segmented(sample, config, "1997-12-31")
    snap = prepared_early.customers.merge(earlier.columns.drop(columns=["recency_days", "frequency", "monetary"]),
                                          on="customer_id")  # fmt: skip
    append_snapshot(base / "history", snap, "1997-12-31", config["tiers"]["labels"])
    return {"full": full, "plain": plain, "history": base / "history", "base": base, "config": config}


def _slides(path):
    """Each slide's texts (text frames and table cells) in order, from the file as python-pptx opens it."""
    from pptx import Presentation

    out = []
    for slide in Presentation(str(path)).slides:
        texts = []
        for shape in slide.shapes:
            if shape.has_text_frame:
                texts.append(shape.text_frame.text)
            if shape.has_table:
                texts += [cell.text for row in shape.table.rows for cell in row.cells]
        out.append(texts)
    return out


def _xml(path):
    with zipfile.ZipFile(path) as z:
        return "".join(z.read(n).decode("utf-8") for n in z.namelist() if n.endswith(".xml"))


def test_the_deck_has_the_slides_stated_and_the_run_s_numbers(run):
    path = build_deck(run["base"] / "out", run["full"], history_dir=run["history"])
    assert path.name == "summary.pptx"
    slides = _slides(path)
    deck = run["config"]["deck"]["slides"]
    titles = [s[0] for s in slides[1:]]
    assert titles == [deck[k][0] for k in ("headline", "value_by_tier", "playbook", "segments", "warning",
                                           "migration", "migration_effect")]  # fmt: skip
    assert "Customer tiers review" in slides[0] and any("1998-06-30" in t for t in slides[0])
    customers = pd.read_parquet(run["full"] / "customers.parquet")
    segments = json.loads((run["full"] / "segments.json").read_text())
    n = headline(run["full"])
    assert n["customers"] == len(customers) and n["revenue"] == pytest.approx(customers["monetary"].sum())
    a = next(r for r in segments["abc"] if r["abc_class"] == "A")
    assert n["class_a_share"] == a["value_share"]
    assert n["high_risk_customers"] == int((customers["risk_band"] == "high").sum())
    assert n["tiers"] == {
        k: int((customers["tier"] == v[0]).sum()) for k, v in run["config"]["tiers"]["labels"].items()
    }
    text = " ".join(slides[1])
    shown = [f"{len(customers):,}", f"{n['revenue']:,.0f}", f"{a['value_share']:.0%}",
             f"{n['high_risk_customers']:,}", f"{n['high_value_at_risk']:,.0f}", f"{n['clv_12m']:,.0f}"]  # fmt: skip
    assert [s for s in shown if s not in text] == []
    # the playbook slide: every tier's action this month, from the config
    playbook = " ".join(slides[3])
    assert all(entry["action"][0] in playbook for entry in run["config"]["playbook"]["tiers"].values())
    # the early-warning list: the high-risk customers with the most value at risk, first to last
    high = customers[customers["risk_band"] == "high"].sort_values("value_at_risk", ascending=False)
    warning = slides[5]
    first = high.iloc[0]
    assert f"{first['customer_name']} ({first['customer_id']})" in warning
    assert f"{first['value_at_risk']:,.2f}" in warning
    # migration since 1997-12-31, with the bought-again shares
    assert any("1997-12-31 → 1998-06-30" in t for t in slides[6])
    assert any("Bought again since 1997-12-31" in t for t in slides[7])


def test_masked_deck_has_no_raw_name_phone_email_or_id(run):
    customers = pd.read_parquet(run["full"] / "customers.parquet")
    plain = _xml(build_deck(run["base"] / "raw.pptx", run["full"]))
    masked = _xml(build_deck(run["base"] / "masked.pptx", run["full"], mask_pii=True))
    top = customers[customers["risk_band"] == "high"].nlargest(10, "value_at_risk")
    assert any(name in plain for name in top["customer_name"])  # the check can fail: unmasked, names show
    for _, row in top.iterrows():
        assert row["customer_name"] not in masked
        assert f"({row['customer_id']})" not in masked
        assert f"{mask_name(row['customer_name'])} ({mask_id(row['customer_id'])})" in masked
    for value in (*customers["phone"], *customers["email"], *NAMES):
        assert value not in masked
    assert "masked" in masked


def test_chinese_deck(run):
    slides = _slides(build_deck(run["base"] / "zh.pptx", run["full"], lang="zh", history_dir=run["history"]))
    deck = run["config"]["deck"]["slides"]
    assert [s[0] for s in slides[1:]] == [deck[k][1] for k in ("headline", "value_by_tier", "playbook", "segments",
                                                              "warning", "migration", "migration_effect")]  # fmt: skip
    assert "客户分层管理回顾" in slides[0]
    playbook = " ".join(slides[3])
    labels = run["config"]["tiers"]["labels"]
    assert all(v[1] in playbook for v in labels.values())
    assert "Important" not in playbook and "Keep close" not in playbook
    assert "300 天未购买" in " ".join(slides[5])


def test_stages_that_did_not_run_are_absent(run):
    slides = _slides(build_deck(run["base"] / "plain.pptx", run["plain"]))
    deck = run["config"]["deck"]
    titles = [s[0] for s in slides[1:]]
    assert deck["slides"]["warning"][0] not in titles and deck["slides"]["migration"][0] not in titles
    text = " ".join(slides[1])
    assert deck["headline"]["high_risk"][0] not in text and deck["headline"]["clv_12m"][0] not in text
    assert deck["headline"]["class_a_share"][0] in text


def test_a_folder_that_is_no_run_and_an_unknown_language_are_one_line_errors(run, tmp_path):
    with pytest.raises(UserError, match="not a run directory"):
        build_deck(tmp_path / "x.pptx", tmp_path)
    with pytest.raises(UserError, match="use en or zh"):
        build_deck(tmp_path / "x.pptx", run["full"], lang="fr")


def test_the_same_run_gives_the_same_bytes(run):
    first = build_deck(run["base"] / "a.pptx", run["full"], lang="zh", history_dir=run["history"]).read_bytes()
    again = build_deck(run["base"] / "b.pptx", run["full"], lang="zh", history_dir=run["history"]).read_bytes()
    assert first == again


def test_value_by_tier_chart_has_one_bar_per_tier_with_its_value(run):
    import matplotlib.pyplot as plt

    from analysis.report.plots import plot_value_by_tier, value_by_tier

    customers = pd.read_parquet(run["full"] / "customers.parquet")
    labels = run["config"]["tiers"]["labels"]
    ax = plot_value_by_tier(customers, lang="zh", config=run["config"])
    widths = [p.get_width() for p in ax.patches]
    expected = [customers.loc[customers["tier"] == v[0], "monetary"].sum() for v in labels.values()]
    assert widths == pytest.approx(expected)
    assert [t.get_text() for t in ax.get_yticklabels()] == [v[1] for v in labels.values()]
    assert value_by_tier(customers, run["config"])["customers"].sum() == len(customers)
    plt.close("all")


def test_without_amounts_no_revenue_nor_value_is_shown(run, tmp_path):
    import shutil

    path = shutil.copytree(run["plain"], tmp_path / "events")
    customers = pd.read_parquet(path / "customers.parquet")
    customers.assign(monetary=np.nan).to_parquet(path / "customers.parquet", index=False)
    quality = json.loads((path / "quality.json").read_text())
    (path / "quality.json").write_text(json.dumps({**quality, "has_amounts": False}))
    segments = json.loads((path / "segments.json").read_text())
    segments["settings"]["abc_value"] = "orders"
    (path / "segments.json").write_text(json.dumps(segments))
    assert {"revenue", "class_a_share"} & set(headline(path)) == set()
    slides = _slides(build_deck(tmp_path / "events.pptx", path))
    deck = run["config"]["deck"]
    assert deck["slides"]["value_by_tier"][0] not in [s[0] for s in slides]
    playbook = next(s for s in slides if s[0] == deck["slides"]["playbook"][0])
    assert deck["playbook_fields"]["value_share"][0] not in playbook
    assert deck["headline"]["revenue"][0] not in " ".join(slides[1])


def _with_forecast(run, tmp_path, amounts=True):
    """A copy of the full run whose clv.json has the forecast keys the CLV stage writes (analysis.clv.monthly,
    analysis.clv.new_customer), on made-up numbers."""
    import shutil

    from analysis.clv import backtest_months, monthly
    from analysis.clv.new_customer import new_customer_text
    from analysis.jsonable import jsonable

    path = shutil.copytree(run["full"], tmp_path / "forecast")
    nan = float("nan")
    revenue, draws = (230187.4, [227905.1, 231983.2]) if amounts else (nan, [])
    quarter = monthly.quarter_entry(pd.Timestamp("1998-06-30"), pd.Timestamp("1998-09-30"), 2357, 593.2, revenue,
                                    draws, 1.0)  # fmt: skip
    table = pd.DataFrame(
        {
            "actual_purchases": [200.0, 190.0, 180.0],
            "forecast_purchases": [180.0, 190.0, 190.0],
            "actual_revenue": [8000.0, 7600.0, 7000.0],
            "forecast_revenue": [7200.0, 7600.0, 7700.0],
        }
    )
    if not amounts:
        table[["actual_revenue", "forecast_revenue"]] = nan
    part = backtest_months.backtest_errors(
        table, monthly.month_windows("1998-03-31", "1998-06-30"), pd.Timestamp("1998-03-31"), pd.Timestamp("1998-06-30")
    )
    new = {
        "horizon_months": 12,
        "discount_rate_monthly": 0.01,
        "margin": None,
        "expected_purchases": 1.48,
        "expected_spend_per_purchase": 36.09 if amounts else nan,
        "expected_value": 50.49 if amounts else nan,
        "expected_value_low": nan,
        "expected_value_high": nan,
    }
    new["text"] = new_customer_text(new)
    clv = json.loads((path / "clv.json").read_text())
    record = {**clv, "forecast_quarter": quarter, **part, "new_customer": new}
    (path / "clv.json").write_text(json.dumps(jsonable(record), ensure_ascii=False), encoding="utf-8")
    return path, record


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_the_forecast_slide_follows_the_headline_with_its_range_backtest_and_new_customer(run, tmp_path, lang):
    from pptx import Presentation

    from analysis.report.deck import FORECAST_TEXTS

    path, record = _with_forecast(run, tmp_path)
    deck = build_deck(tmp_path / "deck.pptx", path, lang=lang)
    slide = _slides(deck)[2]
    assert slide[0] == FORECAST_TEXTS["title"][lang]
    text = " ".join(slide)
    assert "230,187" in text and "227,905" in text and "231,983" in text
    for said in (record["forecast_quarter"]["scope"], record["monthly_backtest_text"], record["new_customer"]["text"]):
        assert said[lang] in text
    pictures = [s for s in Presentation(str(deck)).slides[2].shapes if s.shape_type == 13]  # the backtest chart
    assert len(pictures) == 1


def test_the_forecast_slide_without_amounts_shows_purchases_and_an_old_record_none(run, tmp_path):
    from analysis.report.deck import FORECAST_TEXTS

    path, _ = _with_forecast(run, tmp_path, amounts=False)
    slide = _slides(build_deck(tmp_path / "deck.pptx", path))[2]
    assert FORECAST_TEXTS["purchases"]["en"] in " ".join(slide) and "593" in " ".join(slide)
    assert "nan" not in " ".join(slide).lower()
    titles = [s[0] for s in _slides(build_deck(tmp_path / "old.pptx", run["full"]))]
    assert FORECAST_TEXTS["title"]["en"] not in titles
