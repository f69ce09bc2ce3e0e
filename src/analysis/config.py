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
        config = deep_merge(config, user)
    if overrides:
        config = deep_merge(config, overrides)
    return config
