"""Tiers: ordered rules over ``abc_class``, ``lifecycle_stage`` and ``rfm_segment``, first match wins
(:func:`tier_keys`). The recommended action is the tier's, unless a playbook situation (e.g. a dormant VIP)
applies (:func:`recommended_actions`). The playbooks as tables: :func:`playbook_table`,
:func:`segment_playbook_table`.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.errors import UserError
from analysis.i18n import check_language

PLAYBOOK_FIELDS = ("service_level", "contact_cadence", "channel", "offer", "owner")


def first_match(frame: pd.DataFrame, rules: list[dict]) -> np.ndarray:
    """Index of the first rule whose ``when``/``unless`` conditions hold for each row (-1: none)."""
    out = np.full(len(frame), -1)
    for i, rule in enumerate(rules):
        hit = out == -1
        for col, allowed in (rule.get("when") or {}).items():
            hit &= frame[col].isin(allowed).to_numpy()
        for col, barred in (rule.get("unless") or {}).items():
            hit &= ~frame[col].isin(barred).to_numpy()
        out[hit] = i
    return out


def match_rules(frame: pd.DataFrame, rules: list[dict], key: str) -> pd.Series:
    """``rule[key]`` of the first matching rule for each row; missing where no rule matches."""
    values = np.empty(len(rules) + 1, dtype=object)
    values[:-1] = [rule[key] for rule in rules]
    values[-1] = None
    return pd.Series(values[first_match(frame, rules)], index=frame.index, dtype=object)


def labelled(keys: pd.Categorical, table: dict, lang: int) -> pd.Categorical:
    """``table[key][lang]`` for each key, as a Categorical of the labels (every key must be in ``table``)."""
    positions = pd.Index(list(table)).get_indexer(keys.categories)
    used = np.bincount(keys.codes[keys.codes >= 0], minlength=len(positions)) > 0
    if (positions[used] < 0).any() or (keys.codes < 0).any():
        shown = sorted({str(k) for k in keys.categories[used]} | ({"nan"} if (keys.codes < 0).any() else set()))
        raise UserError(f"a label is missing for one of {shown}")
    return categorical(positions[keys.codes], [table[k][lang] for k in table])


def categorical(codes: np.ndarray, names: list) -> pd.Categorical:
    """``names[code]`` for each code (-1: missing) as a Categorical of the distinct names (names may repeat)."""
    distinct = list(dict.fromkeys(names))
    remap = np.array([distinct.index(n) for n in names] + [-1], dtype=np.int64)
    return pd.Categorical.from_codes(remap[codes], categories=pd.Index(distinct, dtype="str"))


def check_tier_rules(tiers: dict, playbook: dict) -> None:
    """A ``UserError`` naming the first tier rule whose tier has no label in ``tiers.labels`` or no entry in
    ``playbook.tiers``."""
    known = set(tiers["labels"])
    for rule in tiers["rules"]:
        if rule.get("tier") not in known or rule["tier"] not in playbook["tiers"]:
            raise UserError(
                f"tier rule {rule} names tier {rule.get('tier')!r}: use one of {', '.join(known)} "
                "(each needs a label in tiers.labels and an entry in playbook.tiers)"
            )


def tier_keys(keyed: pd.DataFrame, rules: list[dict]) -> pd.Categorical:
    """Each customer's tier key (``vip``, ``important``, ...): the first matching rule's, ``ordinary`` when none
    matches. ``keyed`` has ``abc_class``, ``lifecycle_stage`` and ``rfm_segment``."""
    matched = first_match(keyed, rules)
    return categorical(np.where(matched < 0, len(rules), matched), [rule["tier"] for rule in rules] + ["ordinary"])


def recommended_actions(keyed: pd.DataFrame, playbook: dict) -> tuple[np.ndarray, list]:
    """(each customer's action as a position in the list of actions, the actions ``[English, Chinese]``): the
    first matching situation's (situations are listed first), else the tier's from the playbook. ``keyed`` has
    ``tier`` (a Categorical of tier keys) besides the columns the situations name."""
    actions = [s["action"] for s in playbook["situations"]]
    by_tier = {t: len(actions) + i for i, t in enumerate(playbook["tiers"])}
    actions += [entry["action"] for entry in playbook["tiers"].values()]
    choice = first_match(keyed, playbook["situations"])
    tier_action = np.array([by_tier[t] for t in keyed["tier"].cat.categories])[keyed["tier"].cat.codes]
    return np.where(choice >= 0, choice, tier_action), actions


def playbook_table(cfg: dict, lang: str = "en") -> pd.DataFrame:
    """The treatment of each tier: label, service level, cadence, channel, offer, owner, action."""
    i = check_language(lang)  # the settings write each text [English, 中文]
    labels = cfg["tiers"]["labels"]
    rows = []
    for key, entry in cfg["playbook"]["tiers"].items():
        rows.append({"tier": labels[key][i], **{f: entry[f][i] for f in (*PLAYBOOK_FIELDS, "action")}})
    return pd.DataFrame(rows).set_index("tier")


def segment_playbook_table(cfg: dict, lang: str = "en") -> pd.DataFrame:
    """The treatment of each named RFM segment."""
    i = check_language(lang)  # the settings write each text [English, 中文]
    names = {rule["name"][0]: rule["name"][i] for rule in cfg["rfm"]["segments"]}
    names[cfg["rfm"]["others"][0]] = cfg["rfm"]["others"][i]
    rows = [
        {"segment": names.get(seg, seg), **{f: v[i] for f, v in zip(PLAYBOOK_FIELDS, values, strict=True)}}
        for seg, values in cfg["playbook"]["segments"].items()
    ]
    return pd.DataFrame(rows).set_index("segment")
