"""Command line: ``python -m analysis run|check --input PATH [options]``.

A user's mistake ends with one line ``error: ...`` and exit status 2, never a traceback. A failed
report step ends with ``error: step NAME failed: cause`` and exit status 2 when the cause is the user's
data or settings, 1 for an internal failure. Progress goes to standard output, errors to standard error.
"""

from __future__ import annotations

import argparse
import json
import os
import sys

from analysis.errors import UserError


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--input", required=True, help="transactions: CSV, XLSX, Parquet, CDNOW text, "
                        "a DuckDB file, or a database URL (with --table)")
    parser.add_argument("--as-of", default=None, help="end of the observation window, YYYY-MM-DD "
                        "(default: the last purchase date)")
    parser.add_argument("--config", default=None, help="YAML file overriding the defaults")
    parser.add_argument("--column", action="append", default=[], metavar="ROLE=HEADER",
                        help="map a column role to a header, e.g. customer_id=客户ID (repeatable)")
    parser.add_argument("--customers", default=None, metavar="PATH",
                        help="customer list (ids, names, attributes), including customers who never bought")
    parser.add_argument("--encoding", default=None, help="force the CSV text encoding (e.g. gb18030)")
    parser.add_argument("--sheet", default=None, help="Excel sheet name")
    parser.add_argument("--table", default=None, help="table name in a database input")
    parser.add_argument("--query", default=None, help="a SELECT whose rows are the input, instead of --table")
    parser.add_argument("--date-format", default=None, help="strftime format of the date column")
    parser.add_argument("--header-row", default=None, metavar="N",
                        help="row of the column headers in a CSV or Excel file, counted from 1 (default: the first "
                             "row, or the row found below title rows)")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m analysis", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    run = sub.add_parser("run", help="full report run: data quality, segments, CLV")
    _common(run)
    run.add_argument("--out", default="reports", help="folder for run directories (default reports/)")
    run.add_argument("--notebooks", default=None, help=argparse.SUPPRESS)
    run.add_argument("--crm", action="append", default=[], metavar="SYSTEM",
                     help="also write the tier table as import files for zoho, salesforce, hubspot or fxiaoke "
                          "(repeatable)")
    run.add_argument("--lang", choices=("en", "zh"), default="en",
                     help="language of the pages, charts and landing page (default en); the summary and the deck "
                          "come in both")
    run.add_argument("--mask-pii", action="store_true",
                     help="mask customer names, phones, e-mails and ids on the pages and in the deck (the customer "
                          "table and executed notebooks keep them; ANALYSIS_MASK_SALT, or the reports folder's "
                          ".mask-key, keys the id hash)")
    run.add_argument("--strict", action="store_true",
                     help="exit 2 when a stage declines for lack of data (default: the report is made without it)")
    run.add_argument("--quiet", action="store_true",
                     help="no progress lines, only errors (the JSON lines of --log-format json are still written)")
    run.add_argument("--log-format", choices=("text", "json"), default="text",
                     help="progress as text lines (default) or one JSON object per line, for schedulers (written "
                          "with --quiet too)")
    check = sub.add_parser("check", help="data-quality summary without a report run")
    _common(check)
    check.add_argument("--json", action="store_true", help="print the summary as one JSON object")
    return parser


def _overrides(args: argparse.Namespace) -> dict:
    """Command-line data options as a config override (``--column`` goes to ``data.columns``)."""
    from analysis.data.pipeline import parse_column_options

    data = {k: v for k, v in {"encoding": args.encoding, "sheet": args.sheet, "table": args.table,
                              "query": args.query, "date_format": args.date_format}.items() if v is not None}
    columns = parse_column_options(args.column)
    if columns:
        data["columns"] = columns
    if args.header_row is not None:
        data["header_row"] = _row_number(args.header_row)
    return {"data": data} if data else {}


def _row_number(text: str) -> int:
    """``--header-row N``: a row number from 1 up (the override is not checked as a YAML file's settings are)."""
    digits = text.strip()
    if not (digits.isascii() and digits.isdigit()) or int(digits) < 1:
        raise UserError(f"--header-row takes a row number from 1 up (1 = the first row), got {text!r}")
    return int(digits)


def _check(args: argparse.Namespace) -> int:
    from analysis.config import load_config
    from analysis.data.pipeline import prepare
    from analysis.data.quality import summary_lines

    config = load_config(args.config, _overrides(args))
    prepared = prepare(args.input, config, args.as_of, args.customers)
    if args.json:
        print(json.dumps(prepared.quality, ensure_ascii=False, default=str))
    else:
        print("\n".join(summary_lines(prepared.quality)))
    return 0


def _run(args: argparse.Namespace) -> int:
    from analysis.config import load_config

    load_config(args.config, _overrides(args))  # settings first: a mistake stops before the heavy imports
    from analysis.report.progress import reporter
    from analysis.report.runner import RunFailed, run_report

    try:
        run_report(args.input, as_of=args.as_of, config_path=args.config, overrides=_overrides(args),
                   customers_path=args.customers, out_dir=args.out, notebooks_dir=args.notebooks,
                   crm_systems=args.crm, lang=args.lang, mask_pii=args.mask_pii,
                   strict=args.strict, log=reporter(args.log_format, args.quiet))
    except RunFailed as exc:  # 2: the user's data or settings; 1: an internal failure
        print(f"error: {exc}", file=sys.stderr)
        return 2 if exc.user_error else 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return _check(args) if args.command == "check" else _run(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # a bug, not the user's mistake: still one line, the traceback on request
        if os.environ.get("ANALYSIS_DEBUG"):
            raise
        print(f"error: unexpected {type(exc).__name__}: {exc} (please report it; ANALYSIS_DEBUG=1 shows the "
              "traceback)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    raise SystemExit(main())
