"""Time and peak memory of each hostile input of issue 20 through the real pages (prints figures; not a test).

    OMP_NUM_THREADS=1 python tests/bench/bench_hostile_text.py [--root CHECKOUT] [--timeout S] [CASE ...]

Each case (tests/app/hostile_inputs.py) runs in a fresh process on the checkout at --root (this one by default;
another checkout needs its own copy of tests/app/hostile_inputs.py), the page already open: the seconds of
the hostile run, how far it raised the process's peak memory, what the page then did on reruns, and the
first thing the page said. A run still going after --timeout seconds is stopped and reported as such.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

from tests.app.hostile_inputs import CASES, ROOT, measure  # noqa: E402


def reruns(result: dict) -> str:
    """What the page's later runs cost: seconds (and peak rise) of the reruns, evaluations of an agent."""
    parts = []
    if "rerun_seconds" in result:
        seconds = result["rerun_seconds"]
        parts.append("rerun " + ", ".join(f"{s:.2f}" for s in (seconds if isinstance(seconds, list) else [seconds]))
                     + " s")
    if "rerun_peak_rise_mb" in result:
        parts.append(f"+{result['rerun_peak_rise_mb']:.0f} MB")
    if "evaluations" in result:
        parts.append(f"{result['evaluations']} evaluation{'s' * (result['evaluations'] != 1)}")
    if "most_options" in result:
        parts.append(f"select box of {result['most_options']:,} options")
    return "; ".join(parts)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cases", nargs="*", metavar="CASE", help=f"some of {', '.join(CASES)} (default: all)")
    parser.add_argument("--root", type=Path, default=ROOT, help="the checkout whose pages are measured")
    parser.add_argument("--timeout", type=float, default=300, help="seconds a hostile run may take")
    args = parser.parse_args(argv)
    print(f"checkout {args.root}")
    print(f"{'case':<14} {'seconds':>8} {'peak rise':>10} {'peak':>8}  reruns / what the page said")
    for case in args.cases or CASES:
        result = measure(case, args.root, args.timeout)
        if "timed_out" in result:
            print(f"{case:<14} {'>' + format(args.timeout, '.0f'):>8} {'':>10} {'':>8}  stopped: {result['timed_out']}")
            continue
        said = (result.get("said") or result.get("exception") or ["(nothing)"])[0]
        print(f"{case:<14} {result['seconds']:>8.2f} {result['peak_rise_mb']:>7.0f} MB {result['peak_mb']:>5.0f} MB  "
              f"{reruns(result)}\n{'':>44}{said[:110]}", flush=True)


if __name__ == "__main__":
    main()
