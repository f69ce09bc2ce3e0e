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

# Column names (lower case) that hold personal data, by kind; with the usual Chinese headers.
PII_COLUMNS = {
    "name": ("customer_name", "name", "contact_name", "contact", "full_name", "first_name", "last_name",
             "姓名", "客户姓名", "客户名称", "联系人"),
    "phone": ("phone", "mobile", "telephone", "tel", "phone_number", "mobile_phone",
              "电话", "手机", "手机号", "联系电话", "电话号码"),
    "email": ("email", "e_mail", "e-mail", "email_address", "mail", "邮箱", "电子邮箱", "电子邮件"),
    "id": ("customer_id",),
}  # fmt: skip

_EMAIL = re.compile(r"[A-Za-z0-9._%+\-]+@[A-Za-z0-9.\-]+\.[A-Za-z]{2,}")
# A phone number in free text: 10 to 15 digits in groups joined by single spaces or hyphens, an optional ``+`` and
# area code in brackets. Without a ``+``, the groups after the first have 3 digits or more, and a date never starts
# one, so dates (1998-06-30 12:00), lists of small numbers and columns of plain-text tables are not phones.
_PHONE = re.compile(r"(?<![0-9A-Za-z+])(?<!\d[.,])\+?(?:\(\d{1,5}\)[ \-]?)?\d+(?:[ \-]\d+)*(?![0-9A-Za-z]|[.,]\d)")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


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


def _phone_in_text(match: re.Match) -> str:
    text = match.group(0)
    date = _DATE.match(text)
    if date:  # a date, perhaps followed by a phone number
        rest = text[date.end() :]
        return text[: date.end()] + _PHONE.sub(_phone_in_text, rest)
    groups = re.findall(r"\d+", text)
    digits = sum(len(g) for g in groups)
    if not 10 <= digits <= 15 or (not text.startswith("+") and any(len(g) < 3 for g in groups[1:])):
        return text
    return mask_phone(text)


def mask_text(text: str) -> str:
    """Free text with every e-mail address and phone number in it masked (a phone number has 10 to 15 digits;
    shorter ones are masked only when known, by :class:`KnownValues`)."""
    text = _EMAIL.sub(lambda m: mask_email(m.group(0)), text)
    return _PHONE.sub(_phone_in_text, text)


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


# Letters and digits of Latin scripts: a known name written in them matches only as whole words. Names in wide (CJK)
# characters match anywhere: Chinese text has no spaces between words.
_NARROW = "0-9A-Za-z\u00c0-\u024f"
_TOKEN = re.compile(f"[{_NARROW}]+|[^\\s{_NARROW}]")
_NARROW_CHAR = re.compile(f"[{_NARROW}]")


def _texts(values) -> pd.Series:
    """``values`` as they are written in text, distinct, without missing or blank ones (``13812341234.0`` read
    from a numeric column as ``13812341234``)."""
    series = pd.Series(values, dtype=object) if not isinstance(values, pd.Series) else values
    series = series.dropna()
    if pd.api.types.is_float_dtype(series) or series.map(type).eq(float).any():
        series = series.map(lambda v: int(v) if isinstance(v, float) and v.is_integer() else v)
    text = series.astype(str).str.strip().drop_duplicates()
    return text[text.str.len() > 0]


class KnownValues:
    """Every exact occurrence in free text of the known customers' names, phone numbers and e-mails, replaced by
    its mask in one pass: ``KnownValues(names=["张三", "Alice Smith"])("Alice Smith 和 张三") == "A**** S**** 和 张*"``.

    Names shorter than 2 characters, phones with fewer than 6 digits and e-mails without ``@`` are left out (they
    would mask ordinary words and numbers). A name in Latin letters matches whole words only; the longest known
    value wins where several start at one place. Lookup is by the first word (or the first two wide characters),
    then by length, so a page is read once whatever the number of customers."""

    def __init__(self, names=(), phones=(), emails=()):
        kinds: dict[str, str] = {}  # value -> its kind; masked when met, so a big customer table is read fast
        for kind, values in (("email", emails), ("phone", phones), ("name", names)):
            text = _texts(values)
            if kind == "email":
                text = text[text.str.contains("@", regex=False)]
            elif kind == "phone":
                text = text[text.str.count(r"\d") >= 6]
            else:
                text = text[text.str.len() >= 2]
            kinds.update((value, kind) for value in text if value not in kinds)
        self.kinds = kinds
        # value's first word (or first two characters) -> the lengths of the values it starts, as bits of an int
        table = pd.DataFrame({"value": list(kinds)}, dtype=object)
        table["key"] = table["value"].str.extract(f"^([{_NARROW}]+|.{{1,2}})", expand=False)
        table["bit"] = [1 << len(value) for value in table["value"]]
        self._lengths: dict[str, int] = {}
        for key, bit in zip(table["key"], table["bit"], strict=True):
            self._lengths[key] = self._lengths.get(key, 0) | bit

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> KnownValues:
        """The names, phones and e-mails in the columns of ``frame`` whose :func:`pii_kind` says so."""
        values: dict[str, list] = {"name": [], "phone": [], "email": []}
        for column in frame.columns:
            kind = pii_kind(column)
            if kind in values:
                values[kind].append(frame[column])
        return cls(**{f"{kind}s": pd.concat(parts) if parts else () for kind, parts in values.items()})

    def __len__(self) -> int:
        return len(self.kinds)

    def __call__(self, text: str) -> str:
        if not self.kinds or not text:
            return text
        out, done = [], 0
        for token in _TOKEN.finditer(text):
            start = token.start()
            if start < done:
                continue
            word = token.group(0)
            key = word if _NARROW_CHAR.match(word) else text[start : start + 2]
            lengths = self._lengths.get(key, 0)
            while lengths:  # longest first
                length = lengths.bit_length() - 1
                lengths ^= 1 << length
                value = text[start : start + length]
                if value in self.kinds and not (
                    _NARROW_CHAR.match(value[-1]) and _NARROW_CHAR.match(text[start + length : start + length + 1])
                ):
                    out += [text[done:start], MASKERS[self.kinds[value]](value)]
                    done = start + length
                    break
        return "".join(out) + text[done:] if out else text


def page_salt() -> str:
    """The key of the id hash on stakeholder pages: the environment variable ``ANALYSIS_MASK_SALT`` (empty when
    unset). A secret, so it lives in the environment of the run, never in a settings file."""
    return os.environ.get("ANALYSIS_MASK_SALT", "")


def for_pages(frame: pd.DataFrame, mask: bool) -> pd.DataFrame:
    """``frame`` as a chart or a sentence that names customers should show it: unchanged, or with names, phones,
    e-mails and ids masked (:func:`mask_frame`, ids keyed by :func:`page_salt`) when ``mask``."""
    return mask_frame(frame, page_salt()) if mask else frame
