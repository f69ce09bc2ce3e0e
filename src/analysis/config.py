"""Settings: documented defaults in ``analysis/defaults/*.yaml``, overridden by a user's YAML file.

Each default file owns one concern (``data.yaml`` for loading and validation, ``segments.yaml``
for RFM, ABC, lifecycle, tiers and the playbook, ``clv.yaml`` for lifetime value). They are merged
in file-name order; the user's file is deep-merged on top, so a user overrides one threshold
without repeating the rest.
"""

from __future__ import annotations

import copy
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from analysis.errors import UserError


def deep_merge(base: dict, override: dict) -> dict:
    """Return ``base`` updated by ``override``: nested dicts merge, anything else is replaced."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = deep_merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


# Mappings whose keys are the user's to choose (a header per role, a label or playbook entry per tier or
# segment); every other mapping in the defaults has a fixed set of keys, at every level.
OPEN_MAPPINGS = frozenset({"data.columns", "tiers.labels", "playbook.tiers", "playbook.segments"})

# Settings that take one of a few words (for a list, each item does).
CHOICES: dict[str, tuple[str, ...]] = {
    "validation.zero_amount": ("keep", "quarantine"),
    "features.time_unit": ("weeks", "days"),
    "rfm.frequency": ("orders", "purchase_days"),
    "rfm.monetary": ("total_spend", "per_purchase_day"),
    "rfm.scoring": ("quantiles", "edges"),
    "rfm.threshold": ("mean", "median", "fixed"),
    "rfm.threshold_on": ("values", "scores"),
    "abc.value": ("revenue", "margin", "orders"),
    "clv.models": ("bgnbd", "pareto", "mbgnbd"),
    "clv.time_unit": ("weeks", "days"),
    "clv.choose_by": ("rmse", "mae", "spearman", "total_error"),
    "crm.missing_name": ("id", "skip"),
}

# Settings that take a row number counted from 1, as a spreadsheet counts (or null).
ROW_NUMBERS = frozenset({"data.header_row"})

# Settings that need a column of the input: (setting, value) -> the column role it needs.
NEEDS_COLUMN: dict[tuple[str, str], str] = {
    ("abc.value", "margin"): "margin",
}


def check_columns(config: dict, roles: set[str]) -> None:
    """Stop with one line when a setting needs a column the input does not have (``NEEDS_COLUMN``), before
    any work is done on the data."""
    for (name, value), role in NEEDS_COLUMN.items():
        section, key = name.split(".", 1)
        if (config.get(section) or {}).get(key) == value and role not in roles:
            raise UserError(f"setting {name}: {value} needs a {role} column, and the input has none: map one with "
                            f"--column {role}=HEADER or change {name}")


def _check_value(name: str, value: Any, default: Any, source: str) -> None:
    """Stop when ``value`` is not of the kind of ``default`` (a mapping, list, yes/no or number) or not one of
    the words ``CHOICES`` allows for ``name``."""
    for kind, word in ((dict, "a mapping"), (list, "a list"), (bool, "true or false")):
        if isinstance(default, kind) and not isinstance(value, kind):
            raise UserError(f"setting {name!r} in {source} must be {word}, not {value!r}")
    number = isinstance(default, int | float) and not isinstance(default, bool)
    if number and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise UserError(f"setting {name!r} in {source} must be a number, not {value!r}")
    if name in ROW_NUMBERS and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
        raise UserError(f"setting {name!r} in {source} must be a row number from 1 up (1 = the first row), "
                        f"not {value!r}")
    allowed = CHOICES.get(name)
    if allowed:
        for item in value if isinstance(value, list) else [value]:
            if item not in allowed:
                raise UserError(f"setting {name!r} in {source} is {item!r}: use one of {', '.join(allowed)}")


def check_settings(user: dict, defaults: dict, source: str, prefix: str = "") -> None:
    """Stop with a clear one-line error on a misspelt section or setting at any level (except in the
    ``OPEN_MAPPINGS``, whose keys are the user's), a value of the wrong kind, or a word a setting does not
    take (``CHOICES``)."""
    for key, value in user.items():
        name = f"{prefix}{key}"
        if key not in defaults:
            known = ", ".join(map(str, defaults))
            raise UserError(f"unknown setting {name!r} in {source}: known settings here are {known}")
        default = defaults[key]
        if value is None:
            if default is None or isinstance(default, list) or name == "data.columns":  # null: none of them
                continue
            raise UserError(f"setting {name!r} in {source} cannot be empty (null): leave it out for its default, "
                            f"{default!r}")
        if default is not None:
            _check_value(name, value, default, source)
        elif name in CHOICES or name in ROW_NUMBERS:
            _check_value(name, value, value, source)
        if isinstance(default, dict) and name not in OPEN_MAPPINGS:
            check_settings(value, default, source, f"{name}.")


def default_config() -> dict[str, Any]:
    """The merged defaults of every ``defaults/*.yaml`` shipped with the package."""
    config: dict[str, Any] = {}
    folder = resources.files("analysis") / "defaults"
    for entry in sorted(folder.iterdir(), key=lambda p: p.name):
        if entry.name.endswith(".yaml"):
            config = deep_merge(config, yaml.safe_load(entry.read_text(encoding="utf-8")) or {})
    return config


def load_config(path: str | Path | None = None, overrides: dict | None = None) -> dict[str, Any]:
    """Defaults, then the user's YAML file at ``path`` (if any), then ``overrides`` (if any)."""
    config = default_config()
    if path:
        p = Path(path)
        if not p.is_file():
            raise UserError(f"config file not found: {p}")
        try:
            user = yaml.safe_load(p.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            first = str(exc).splitlines()[0]
            raise UserError(f"config file {p} is not valid YAML: {first}") from None
        if not isinstance(user, dict):
            raise UserError(f"config file {p} must hold a mapping of settings, not {type(user).__name__}")
        check_settings(user, config, source=str(p))
        config = deep_merge(config, user)
    if overrides:
        config = deep_merge(config, overrides)
    return config
