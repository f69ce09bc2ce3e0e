"""Which column plays which role: the roles, the known headers of real exports (``defaults/headers.yaml``), and
the search for the header row.

Column roles come from the explicit mapping first (config ``data.columns`` or ``--column``), then from the
known headers of real exports in English and Chinese, compared without case, spaces or punctuation. Within a
role the table is in order of preference (a payment time before a creation time, a paid amount before a list
amount); the other headers seen for a role are reported. :func:`header_index` finds the header row below
title rows by the same table.
"""

from __future__ import annotations

import functools
import re

from analysis.errors import UserError

# The roles a column can play; the headers known for each are data (``defaults/headers.yaml``).
ROLES = (
    "customer_id",
    "order_id",
    "timestamp",
    "amount",
    "refund",
    "quantity",
    "unit_price",
    "margin",
    "product_id",
    "description",
    "status",
    "deal_stage",
    "customer_name",
    "country",
    "region",
    "city",
    "industry",
    "customer_type",
    "size",
)
REQUIRED = ("customer_id", "timestamp")
HEADER_SEARCH_ROWS = 20  # a header below title rows is looked for among this many first rows


def known_headers(table: dict[str, list] | None = None, headers: list[str] | None = None) -> dict[str, tuple[str, ...]]:
    """role → its known headers, normalised, in order of preference: from ``table`` (config
    ``data.headers``) or, when None, the shipped ``defaults/headers.yaml``.

    An entry is a header, or ``{header: H, with: [A, B]}``: H plays the role only in an input
    that also has the headers A and B (Shopify's ``Name`` is the order number beside
    ``Financial Status``; elsewhere a ``Name`` is a person). Such entries are left out unless
    ``headers`` (the input's) hold their companions."""
    if table is None:
        table = _default_headers()
    present = {_normalise(h) for h in headers or ()}
    known = {}
    for role in ROLES:
        names = []
        for entry in table.get(role) or ():
            if isinstance(entry, dict):
                if not {_normalise(h) for h in entry.get("with") or ()} <= present:
                    continue
                entry = entry["header"]
            names.append(_normalise(entry))
        known[role] = tuple(names)
    return known


@functools.cache
def _default_headers() -> dict[str, list]:
    from analysis.config import default_config

    return default_config()["data"]["headers"]


def find_roles(
    headers: list[str], explicit: dict[str, str] | None = None, table: dict[str, list] | None = None
) -> dict[str, str]:
    """role → header: the explicit mapping wins, known headers (``table``, see
    :func:`known_headers`) fill in the other roles, the most preferred header first."""
    mapping: dict[str, str] = {}
    for role, header in (explicit or {}).items():
        if role not in ROLES:
            raise UserError(f"unknown column role {role!r}: use one of {', '.join(ROLES)}")
        if header not in headers:
            raise UserError(
                f"column {header!r} (given for {role}) is not in the input; its headers are {listing(headers)}"
            )
        mapping[role] = header
    taken = set(mapping.values())
    by_name: dict[str, str] = {}
    for header in headers:
        by_name.setdefault(_normalise(header), header)
    for role, names in known_headers(table, headers).items():
        if role in mapping:
            continue
        for name in names:
            header = by_name.get(name)
            if header is not None and header not in taken:
                mapping[role] = header
                taken.add(header)
                break
    return mapping


def seen_alternatives(
    headers: list[str], mapping: dict[str, str], table: dict[str, list] | None = None
) -> dict[str, list[str]]:
    """role → the other known headers of a mapped role present in the input and used by no role
    (say 订单创建时间 beside the 订单付款时间 taken), in the input's column order."""
    used = set(mapping.values())
    known = known_headers(table, headers)
    seen = {}
    for role, taken in mapping.items():
        names = set(known.get(role, ()))
        others = [h for h in headers if h != taken and h not in used and _normalise(h) in names]
        if others:
            seen[role] = others
    return seen


def header_index(rows: list[list[str]], explicit: dict[str, str], table: dict[str, list] | None = None) -> int | None:
    """The 0-based position of the header among the first ``rows`` (each a list of cell texts): 0 when
    the first row gives the required roles and holds every ``explicit`` header; else the row whose cells
    map the most roles (:func:`find_roles` on the ``table`` of known headers) among those giving the
    required roles, every explicit header and an amount or a price; the first of equals. None: no row does."""
    if rows and _header_roles(rows[0], explicit, table, money=False):
        return 0
    best, found = 0, None
    for i, row in enumerate(rows[1:HEADER_SEARCH_ROWS], start=1):
        roles = _header_roles(row, explicit, table, money=True)
        if len(roles) > best:
            best, found = len(roles), i
    return found


def _header_roles(cells: list[str], explicit: dict[str, str], table: dict[str, list] | None, money: bool) -> dict:
    """The roles a row of cells would map as the header; empty when it lacks a required role, an explicit
    header or (``money``) an amount or price."""
    present = [c for c in cells if c]
    if not set(explicit.values()) <= set(present):
        return {}
    roles = find_roles(present, explicit, table)
    if any(r not in roles for r in REQUIRED) or money and not {"amount", "unit_price"} & set(roles):
        return {}
    return roles


def _normalise(header: object) -> str:
    return re.sub(r"[\s_\-./()（）:：#]+", "", str(header).strip().lower())


def listing(headers) -> str:
    shown = [str(h) for h in headers]
    return ", ".join(shown) if shown else "(none)"
