"""Masking personal data in stakeholder pages (``--mask-pii``): names, phone numbers, e-mails and ids.

The analyst outputs (customer table, executed notebooks) keep the real values; the deck and the HTML pages
show masked ones:

- ``mask_name("张三") == "张*"``, ``mask_name("Alice Smith") == "A**** S****"``
- ``mask_phone("13812341234") == "138****1234"``
- ``mask_email("alice.smith@example.com") == "a***@example.com"``
- ``mask_id("12345", key) == "c-" + 8 hex digits``, the same for the same id and key in every run.

A hash of a short id without a secret can be undone by hashing every id: ids are keyed (HMAC-SHA256) by the key
of :func:`page_salt`, the environment variable ``ANALYSIS_MASK_SALT`` or else a random key kept beside the reports
(``<reports>/.mask-key``, readable by its owner only), so masked ids stay the same from run to run of one reports
folder and cannot be undone without the key.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import re
import secrets
import unicodedata
from pathlib import Path

import pandas as pd

from analysis.errors import UserError

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
    """A stable short hash of an id: ``c-`` and the first ``length`` hex digits of HMAC-SHA256 of the id keyed by
    ``salt`` (pages use :func:`page_salt`; without the key the hash cannot be recomputed from a list of ids)."""
    if value is None or (not isinstance(value, str) and pd.isna(value)):
        return value
    digest = hmac.new(str(salt).encode(), str(value).encode(), hashlib.sha256).hexdigest()
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


SALT_VARIABLE = "ANALYSIS_MASK_SALT"
KEY_FILE = ".mask-key"  # in the reports folder, beside the run directories and history/
# The key file this process masks with: the one of the last run directory given to page_salt or use_key_of.
_KEY_FILE: list[Path] = []
_PROCESS_KEY: list[str] = []


def key_file(run_dir: str | Path) -> Path:
    """Where the mask key of ``run_dir`` is kept: ``.mask-key`` in the reports folder that holds the run."""
    return Path(run_dir).resolve().parent / KEY_FILE


def use_key_of(run_dir: str | Path) -> None:
    """Mask with the key of ``run_dir``'s reports folder from now on in this process (e.g. a notebook's kernel,
    where :func:`for_pages` is called without the run directory). Reads and creates nothing until a key is needed."""
    _KEY_FILE[:] = [key_file(run_dir)]


def page_salt(run_dir: str | Path | None = None) -> str:
    """The key of the id hash on stakeholder pages, a secret that never goes into a page, ``run.json`` or
    ``settings.json``: the environment variable ``ANALYSIS_MASK_SALT`` when set (share one key across machines
    this way); else the random key in ``.mask-key`` beside the run directory ``run_dir`` (the reports folder),
    created with mode 0600 by the first masked run and reused by the later ones, so ids stay the same from month
    to month. ``run_dir`` is remembered (:func:`use_key_of`) for later calls without it; with none ever given,
    a random key for this process alone (masked ids then differ from those of other processes, and never are
    an unkeyed hash)."""
    salt = os.environ.get(SALT_VARIABLE, "")
    if salt:
        return salt
    if run_dir is not None:
        use_key_of(run_dir)
    if _KEY_FILE:
        return _read_or_create_key(_KEY_FILE[0])
    if not _PROCESS_KEY:
        _PROCESS_KEY.append(secrets.token_hex(32))
    return _PROCESS_KEY[0]


def _read_or_create_key(path: Path) -> str:
    """The key in ``path``; a new random one written there first if there is none (readable by its owner only;
    two runs starting at once agree on one key: the file appears whole, and only once)."""
    if not path.exists():
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")
        descriptor = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(descriptor, "w", encoding="ascii") as out:
                out.write(secrets.token_hex(32) + "\n")
            os.link(tmp, path)  # fails if another run created the key meanwhile: then its key is used
        except FileExistsError:
            pass
        finally:
            tmp.unlink(missing_ok=True)
    key = path.read_text(encoding="ascii").strip()
    if not key:
        raise UserError(f"the mask key {path} is empty: delete it to make a new one, or set {SALT_VARIABLE}")
    return key


def for_pages(frame: pd.DataFrame, mask: bool) -> pd.DataFrame:
    """``frame`` as a chart or a sentence that names customers should show it: unchanged, or with names, phones,
    e-mails and ids masked (:func:`mask_frame`, ids keyed by :func:`page_salt`) when ``mask``."""
    return mask_frame(frame, page_salt()) if mask else frame
