"""Masking personal data in stakeholder pages (``--mask-pii``): names, phone numbers, e-mails and ids.

The analyst outputs (customer table, executed notebooks) keep the real values; the deck and the HTML pages
show masked ones:

- ``mask_name("张三") == "张*"``, ``mask_name("Alice Smith") == "A**** S****"``
- ``mask_phone("13812341234") == "138****1234"``
- ``mask_email("alice.smith@example.com") == "a***@example.com"``
- ``mask_id("12345") == "c-" + 8 hex digits``, the same for the same id (and ``salt``) in every run.

A short unsalted hash of a short id can be undone by trying every id; pass a secret ``salt`` when the
masked pages leave the company.
"""

from __future__ import annotations

import hashlib
import os
import re
import unicodedata

import pandas as pd

# Column names (lower case) that hold personal data, by kind.
PII_COLUMNS = {
    "name": ("customer_name", "name", "contact_name", "contact", "full_name", "first_name", "last_name"),
    "phone": ("phone", "mobile", "telephone", "tel", "phone_number", "mobile_phone"),
    "email": ("email", "e_mail", "e-mail", "email_address", "mail"),
    "id": ("customer_id",),
}

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
_PHONE = re.compile(r"(?<!\d)(?:\+?\d[\d \-]{8,}\d)(?!\d)")


def _wide(ch: str) -> bool:
    """Whether ``ch`` is a CJK (wide) character: such names are masked per character, not per word."""
    return unicodedata.east_asian_width(ch) in ("W", "F")


def mask_name(name: object) -> object:
    """The first character of each word, the rest as ``*``: ``张三`` → ``张*``, ``Alice Smith`` →
    ``A**** S****``. Missing values stay missing."""
    if name is None or (not isinstance(name, str) and pd.isna(name)):
        return name
    text = str(name).strip()
    if not text:
        return text
    if any(_wide(ch) for ch in text):
        chars = [ch for ch in text if not ch.isspace()]
        return chars[0] + "*" * max(len(chars) - 1, 1)
    return " ".join(word[0] + "*" * max(len(word) - 1, 1) for word in text.split())


def mask_phone(phone: object) -> object:
    """Digits kept at both ends only: ``13812341234`` → ``138****1234`` (the first 3 and last 4 digits of
    numbers with 11 digits or more; the last 2 of shorter ones). Separators are dropped, a leading ``+`` kept."""
    if phone is None or (not isinstance(phone, str) and pd.isna(phone)):
        return phone
    text = str(phone).strip()
    digits = re.sub(r"\D", "", text)
    if not digits:
        return "*" * len(text)
    plus = "+" if text.startswith("+") else ""
    if len(digits) >= 11:
        return plus + digits[:3] + "*" * (len(digits) - 7) + digits[-4:]
    if len(digits) >= 7:
        return plus + "*" * (len(digits) - 4) + digits[-4:]
    return plus + "*" * max(len(digits) - 2, 1) + digits[-2:]


def mask_email(email: object) -> object:
    """The first character of the local part, then ``***``, and the domain: ``alice@example.com`` →
    ``a***@example.com``; text without ``@`` is masked as a name."""
    if email is None or (not isinstance(email, str) and pd.isna(email)):
        return email
    text = str(email).strip()
    local, at, domain = text.partition("@")
    if not at:
        return mask_name(text)
    return (local[:1] or "*") + "***@" + domain


def mask_id(value: object, salt: str = "", length: int = 8) -> object:
    """A stable short hash of an id: ``c-`` and the first ``length`` hex digits of SHA-256(salt + id)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return value
    digest = hashlib.sha256(f"{salt}{value}".encode()).hexdigest()
    return f"c-{digest[:length]}"


def mask_text(text: str) -> str:
    """Free text with every e-mail address and phone number in it masked."""
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    return _PHONE.sub(lambda m: mask_phone(m.group(0)), text)


MASKERS = {"name": mask_name, "phone": mask_phone, "email": mask_email}


def pii_kind(column: str) -> str | None:
    """``name``, ``phone``, ``email`` or ``id`` for a column that holds personal data, else ``None``."""
    lower = str(column).lower()
    for kind, names in PII_COLUMNS.items():
        if lower in names:
            return kind
    return None


def mask_frame(frame: pd.DataFrame, salt: str = "", ids: bool = True) -> pd.DataFrame:
    """A copy of ``frame`` with its personal columns (``PII_COLUMNS``) masked; ``customer_id`` hashed when
    ``ids``. Other columns are left as they are."""
    out = frame.copy()
    for column in out.columns:
        kind = pii_kind(column)
        if kind == "id":
            if ids:
                out[column] = out[column].map(lambda v: mask_id(v, salt))
        elif kind is not None:
            out[column] = out[column].map(MASKERS[kind])
    return out


def page_salt() -> str:
    """The key of the id hash on stakeholder pages: the environment variable ``ANALYSIS_MASK_SALT`` (empty when
    unset). A secret, so it lives in the environment of the run, never in a settings file."""
    return os.environ.get("ANALYSIS_MASK_SALT", "")


def for_pages(frame: pd.DataFrame, mask: bool) -> pd.DataFrame:
    """``frame`` as a chart or a sentence that names customers should show it: unchanged, or with names, phones,
    e-mails and ids masked (:func:`mask_frame`, ids keyed by :func:`page_salt`) when ``mask``."""
    return mask_frame(frame, page_salt()) if mask else frame
