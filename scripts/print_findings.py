"""Print the table of numbers for each of the four findings from the cached experiment results
(data/experiments/*.json): theory at the sampled width and sampled finite networks with error bars.

Usage: python scripts/print_findings.py [--quick] [--directory DIR]
(the same as ``python -m tflmini.experiments findings``). Missing results are listed with the command
that produces them.
"""

from __future__ import annotations

import argparse

from tflmini.experiments import findings_tables, format_tables


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--quick", action="store_true", help="read the --quick results (NAME.quick.json)")
    ap.add_argument("--directory", default=None, help="results directory (default: data/experiments)")
    args = ap.parse_args(argv)
    print(format_tables(findings_tables(quick=args.quick, directory=args.directory)))


if __name__ == "__main__":
    main()
