"""Every sentence a run writes for people has its Chinese: the warnings, reasons and notes in the stages' JSON
records of a whole report run."""

import json
import re

CJK = re.compile(r"[\u2e80-\u9fff\uff00-\uffef]")
TOKEN = re.compile(r"^[\w.\-/%]*$")


def _texts(node, where=""):
    """Every ``{en, zh}`` text inside a JSON value, with where it is."""
    if isinstance(node, dict):
        if isinstance(node.get("en"), str) and "zh" in node:
            yield where, node
        for key, value in node.items():
            yield from _texts(value, f"{where}.{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            yield from _texts(value, f"{where}[{i}]")


def test_every_text_in_the_run_records_reads_in_chinese(sample_runs):
    run_dir = sample_runs[-1]
    records = {p.name: json.loads(p.read_text(encoding="utf-8")) for p in sorted(run_dir.glob("*.json"))}
    texts = [(f"{name}{where}", t) for name, record in records.items() for where, t in _texts(record)]
    assert len(texts) > 10  # the stages do write texts: warnings, reasons, names, the choice of model
    english = [(where, t["en"]) for where, t in texts
               if not isinstance(t["zh"], str) or not (CJK.search(t["zh"]) or TOKEN.match(t["zh"]))]
    assert not english, english
