"""Every sentence of the cohorts page, in English and Chinese, made from the numbers the stage found (its
``facts``, :func:`analysis.cohorts.stage.summary_facts`): the managers' sentences (:func:`sentences`, first the
comparison of a recent cohort with one won a year earlier), the warnings (:func:`warnings`: short history, few
cohorts, no amounts, a period not over yet), the managers' bullets (:func:`summary`) and the names of cohorts and
periods (:func:`cohort_label`, :func:`period_words`).

The templates are in catalogues keyed by message id (``TEXTS``, ``PERIOD_WORDS``), each ``{"en": ..., "zh": ...}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import pandas as pd

from analysis.i18n import check_language
from analysis.stage import LANGUAGES, Text

if TYPE_CHECKING:
    from analysis.cohorts.stage import CohortsResult

# A period's name, one and several (the Chinese has one form), and "a year earlier" in that unit.
PERIOD_WORDS: dict[str, dict[str, Text]] = {
    "month": {"one": {"en": "month", "zh": "个月"}, "many": {"en": "months", "zh": "个月"},
              "the": {"en": "month", "zh": "月"}, "next": {"en": "month", "zh": "下个月"},
              "this": {"en": "month", "zh": "当月"}},
    "week": {"one": {"en": "week", "zh": "周"}, "many": {"en": "weeks", "zh": "周"},
             "the": {"en": "week", "zh": "周"}, "next": {"en": "week", "zh": "下一周"},
             "this": {"en": "week", "zh": "当周"}},
    "quarter": {"one": {"en": "quarter", "zh": "个季度"}, "many": {"en": "quarters", "zh": "个季度"},
                "the": {"en": "quarter", "zh": "季度"}, "next": {"en": "quarter", "zh": "下一季度"},
                "this": {"en": "quarter", "zh": "当季"}},
}  # fmt: skip

TEXTS: dict[str, Text] = {
    "compare_year": {
        "en": "**{r_recent}** of the customers won in {recent} bought again {k} {periods} later ({then}), "
              "against **{r_earlier}** of those won a year earlier ({earlier}).",
        "zh": "{recent}获得的新客户中，**{r_recent}** 在 {k} {periods}后（{then}）再次购买；"
              "一年前（{earlier}）获得的客户为 **{r_earlier}**。",
    },
    "compare_first": {
        "en": "**{r_recent}** of the customers won in {recent} bought again {k} {periods} later ({then}), "
              "against **{r_earlier}** of the first cohort ({earlier}, which may also hold customers won before "
              "the data begins); no cohort was won a year before {recent}, so there is no year-on-year comparison yet.",
        "zh": "{recent}获得的新客户中，**{r_recent}** 在 {k} {periods}后（{then}）再次购买；"
              "最早一批（{earlier}，可能包含数据开始前就已获得的客户）为 **{r_earlier}**。"
              "数据中没有早一年的客户批次，暂时无法同比。",
    },
    "compare_value": {
        "en": " By then each had brought **{v_recent:,.2f}** on average, against {v_earlier:,.2f}.",
        "zh": "截至当时，平均每位客户贡献 **{v_recent:,.2f}**，对比批次为 {v_earlier:,.2f}。",
    },
    "compare_orders": {
        "en": " By then each had placed **{o_recent:,.2f}** orders on average, against {o_earlier:,.2f}.",
        "zh": "截至当时，平均每位客户下单 **{o_recent:,.2f}** 笔，对比批次为 {o_earlier:,.2f} 笔。",
    },
    "pooled": {
        "en": "Of the {customers:,} customers of the {cohorts:,} cohorts observed for {k} {periods}, **{r1:.0%}** "
              "bought again in the {next} after the one they were won in and **{rk:.0%}** {k} {periods} later.",
        "zh": "已观察满 {k} {periods}的 {cohorts:,} 批客户（{customers:,} 位）中，"
              "**{r1:.0%}** 在获客后的{next}再次购买，**{rk:.0%}** 在 {k} {periods}后仍有购买。",
    },
    "pooled_value": {
        "en": " A customer acquired brings **{vk:,.2f}** in revenue by then, the first purchase {the} included.",
        "zh": "截至当时，每位新客户平均贡献收入 **{vk:,.2f}**（含首次购买{this}）。",
    },
    "pooled_orders": {
        "en": " A customer acquired places **{ok:,.2f}** orders by then, the first purchase {the} included.",
        "zh": "截至当时，每位新客户平均下单 **{ok:,.2f}** 笔（含首次购买{this}）。",
    },
    "sizes": {
        "en": "**{n:,}** new customers were won in {latest}, against {mean:,.0f} a {one} on average in the {m} "
              "{periods} before.",
        "zh": "{latest}获得新客户 **{n:,}** 位，此前 {m} {periods}平均每{the} {mean:,.0f} 位。",
    },
    "thin": {
        "en": "All {customers:,} customers were won in {cohorts} {periods} ({first} to {last}) of the {observed} "
              "observed: with so few cohorts, comparing them says little. Read how each cohort kept buying over "
              "time instead.",
        "zh": "全部 {customers:,} 位客户都是在观察期 {observed} {periods}中的 {cohorts} {periods}内"
              "（{first} 至 {last}）获得的：客户批次太少，批次之间的比较意义不大，请着重看每批客户随时间的留存。",
    },
    "thin_one": {
        "en": "All {customers:,} customers were won in one {one} ({first}): there is no other cohort to compare "
              "with, so the page shows how that cohort kept buying over time.",
        "zh": "全部 {customers:,} 位客户都是在同一{the}（{first}）获得的：没有其他批次可比，"
              "本页展示这批客户随时间的留存。",
    },
    "short": {
        "en": "The data covers less than two calendar months ({start} to {as_of}): too short to see whether "
              "customers come back. The cohort tables are shown as they stand.",
        "zh": "数据覆盖不足两个自然月（{start} 至 {as_of}），时间太短，还看不出客户是否回购。"
              "下面的客户批次表按现有数据列出。",
    },
    "no_amounts": {
        "en": "The data has no amounts, so revenue is absent: the page counts customers and orders instead.",
        "zh": "数据没有金额，因此没有收入数字：本页改为统计客户数和订单数。",
    },
    "incomplete": {
        "en": "The last {the} ({label}) is not over yet (the data ends on {as_of}): its cells count only the days "
              "so far, are marked in the charts and are left out of the averages and comparisons.",
        "zh": "最后一个{the}（{label}）尚未结束（数据截至 {as_of}）：其数字只包含已过去的天数，在图中单独标出，"
              "不计入平均值和比较。",
    },
    "listed": {
        "en": "{n:,} customers on the customer list have not bought yet and belong to no cohort.",
        "zh": "客户名单中有 {n:,} 位客户尚未购买，不属于任何客户批次。",
    },
}  # fmt: skip

QUARTER = {"en": "{year}-Q{q}", "zh": "{year}年第{q}季度"}
WEEK = {"en": "week of {day}", "zh": "{day} 当周"}
MONTH = {"en": "{year}-{month:02d}", "zh": "{year}年{month}月"}


def check_period(period: str) -> None:
    """A ``ValueError`` for a period length the page has no words for."""
    if period not in PERIOD_WORDS:
        raise ValueError(f"period {period!r}: use {', '.join(PERIOD_WORDS)}")


def period_words(period: str, lang: str) -> dict[str, str]:
    """The words of a period length in ``lang``: ``one`` (a month), ``many`` (3 months), ``the`` (the month),
    ``next`` (下个月), ``this`` (当月)."""
    check_language(lang)
    check_period(period)
    return {k: v[lang] for k, v in PERIOD_WORDS[period].items()}


def cohort_label(start: Any, period: str, lang: str = "en", in_sentence: bool = False) -> str:
    """A cohort (or any period) named by its first day in ``lang``: ``2011-03`` / ``2011年3月``, ``2011-Q3`` /
    ``2011年第3季度``, ``week of 2011-03-07`` / ``2011-03-07 当周`` (``in_sentence``: "the week of ..." in English)."""
    check_language(lang)
    check_period(period)
    day = pd.Timestamp(start)
    if period == "quarter":
        return QUARTER[lang].format(year=day.year, q=(day.month - 1) // 3 + 1)
    if period == "week":
        label = WEEK[lang].format(day=day.date().isoformat())
        return f"the {label}" if in_sentence and lang == "en" else label  # "won in the week of 2011-04-25"
    return MONTH[lang].format(year=day.year, month=day.month)


def share_pair(a: float, b: float) -> tuple[str, str]:
    """Two shares as percentages, whole unless they would then read the same (then to one decimal)."""
    digits = 1 if f"{a:.0%}" == f"{b:.0%}" and a != b else 0
    return f"{a:.{digits}%}", f"{b:.{digits}%}"


def _both(make) -> Text:
    """``{en, zh}`` from ``make(lang)``, the same sentence written once per language."""
    return {lang: make(lang) for lang in LANGUAGES}


def comparison_text(facts: dict[str, Any]) -> Text | None:
    """The headline: a recent cohort's retention (and value, or orders, per customer) ``k`` periods after it was
    won, against the cohort won a year earlier (or the first cohort); None without a comparison."""
    c = facts["comparison"]
    if c is None:
        return None
    period = facts["period"]
    then = pd.Timestamp(c["recent"]) + (
        pd.DateOffset(weeks=c["period"])
        if period == "week"
        else pd.DateOffset(months=c["period"] * (3 if period == "quarter" else 1))
    )

    def make(lang: str) -> str:
        w = period_words(period, lang)
        names = {"recent": cohort_label(c["recent"], period, lang, True), "k": c["period"],
                 "earlier": cohort_label(c["earlier"], period, lang, True), "then": cohort_label(then, period, lang),
                 "periods": w["many"] if c["period"] > 1 else w["one"]}  # fmt: skip
        recent, earlier = share_pair(c["retention_recent"], c["retention_earlier"])
        out = TEXTS["compare_year" if c["kind"] == "year" else "compare_first"][lang].format(
            r_recent=recent, r_earlier=earlier, **names
        )
        if facts["has_amounts"]:
            return out + TEXTS["compare_value"][lang].format(v_recent=c["value_recent"], v_earlier=c["value_earlier"])
        return out + TEXTS["compare_orders"][lang].format(o_recent=c["orders_recent"], o_earlier=c["orders_earlier"])

    return _both(make)


def pooled_text(facts: dict[str, Any]) -> Text | None:
    """Retention one period after acquisition and at the comparison period over all cohorts, and what a customer
    acquired brings by then; None before any period after acquisition is over."""
    if facts["k"] < 1 or pd.isna(facts["retention_1"]):
        return None

    def make(lang: str) -> str:
        w = period_words(facts["period"], lang)
        periods = w["many"] if facts["k"] > 1 else w["one"]
        out = TEXTS["pooled"][lang].format(cohorts=facts["cohorts_k"], customers=facts["customers_k"],
                                           r1=facts["retention_1"], rk=facts["retention_k"], k=facts["k"],
                                           periods=periods, next=w["next"])  # fmt: skip
        if facts["has_amounts"]:
            return out + TEXTS["pooled_value"][lang].format(vk=facts["value_k"], the=w["the"], this=w["this"])
        return out + TEXTS["pooled_orders"][lang].format(ok=facts["orders_k"], the=w["the"], this=w["this"])

    return _both(make)


def sizes_text(facts: dict[str, Any]) -> Text | None:
    """The latest complete cohort's size against the average of the ones before it; None with fewer than two."""
    s = facts["sizes"]
    if s is None:
        return None

    def make(lang: str) -> str:
        w = period_words(facts["period"], lang)
        latest = cohort_label(s["latest"], facts["period"], lang, True)
        return TEXTS["sizes"][lang].format(n=s["latest_customers"], latest=latest, mean=s["mean_before"],
                                           m=s["before"], one=w["one"], the=w["the"], periods=w["many"])  # fmt: skip

    return _both(make)


def thin_text(facts: dict[str, Any]) -> Text | None:
    """Why comparing cohorts says little, with few cohorts (None otherwise, or when the history is too short)."""
    if not facts["thin"] or facts["short_history"]:
        return None
    period = facts["period"]

    def make(lang: str) -> str:
        w = period_words(period, lang)
        return TEXTS["thin_one" if facts["cohorts"] == 1 else "thin"][lang].format(
            customers=facts["customers"], cohorts=facts["cohorts"], observed=facts["periods_observed"],
            first=cohort_label(facts["first_cohort"], period, lang), last=cohort_label(facts["last_cohort"], period,
            lang), one=w["one"], the=w["the"], periods=w["many"])  # fmt: skip

    return _both(make)


def sentences(facts: dict[str, Any]) -> list[Text]:
    """The managers' sentences, most telling first: a short history says so and nothing else is claimed; else the
    comparison across cohorts (or why it is thin), the average retention and value, and the cohorts' sizes."""
    if facts["short_history"]:
        return [_both(lambda lang: TEXTS["short"][lang].format(start=_day(facts["first_day"]),
                                                               as_of=_day(facts["as_of"])))]  # fmt: skip
    made = [thin_text(facts), comparison_text(facts), pooled_text(facts), sizes_text(facts)]
    return [t for t in made if t is not None]


def warnings(facts: dict[str, Any]) -> list[Text]:
    """What the reader should know about the numbers: no amounts, the last period not over, customers on the list
    without a purchase (each ``{en, zh}``)."""
    out = []
    if not facts["has_amounts"]:
        out.append(dict(TEXTS["no_amounts"]))
    if not facts["last_period_complete"] and facts["cohorts"]:
        label = {lang: cohort_label(facts["as_of_period"], facts["period"], lang) for lang in LANGUAGES}
        out.append(
            _both(
                lambda lang: TEXTS["incomplete"][lang].format(
                    the=period_words(facts["period"], lang)["the"], label=label[lang], as_of=_day(facts["as_of"])
                )
            )
        )
    if facts["listed_only"]:
        out.append(_both(lambda lang: TEXTS["listed"][lang].format(n=facts["listed_only"])))
    return out


def _day(value: Any) -> str:
    """A date as ISO text."""
    return pd.Timestamp(value).date().isoformat()


def summary(result: CohortsResult, lang: str = "en") -> str:
    """The managers' bullets in ``lang`` (Markdown): the sentences, then the warnings."""
    check_language(lang)
    record = result.record
    return "\n".join(f"- {t[lang]}" for t in [*record["sentences"], *record["warnings"]])


NO_ATTRIBUTES: Text = {
    "en": "The data has no customer attribute with two groups of at least {n:,} customers won (country, region, "
          "city, industry, customer type, size), so there is no breakdown.",
    "zh": "数据中没有可拆分的客户属性（国家、地区、城市、行业、客户类型、规模中"
          "至少有两个分组各有 {n:,} 位以上获得的客户），因此不作拆分。",
}  # fmt: skip


def no_attributes_text(result: CohortsResult, lang: str = "en") -> str:
    """Why the page has no breakdown by attribute, in ``lang`` (empty when it has one)."""
    check_language(lang)
    if result.facts["attributes"]:
        return ""
    return NO_ATTRIBUTES[lang].format(n=max(result.settings["min_group_customers"], 1))
