"""Cost of the full local preflight of a signed 10-line invoice against signature verification.

``check`` is :func:`fe_tui.checks.preflight` without a registry (XSD, signature,
dates, CUFE with DIAN's habilitación key, totals, taxes, lines, code lists…);
``verify`` is :func:`fe_tui.crypto.verify.verify_document` alone, on the same
bytes, in the same run. Goal (issue 13): ratio <= 2.0.

Method as ``bench/sign.py``: cases interleaved, order rotated each round, 5
untimed warm-up calls per batch, the ratio is the median over rounds.

Run: ``python bench/check.py [--rounds 7] [--docs 30]``
"""

from __future__ import annotations

import argparse
import statistics
import sys
from pathlib import Path

# ``python bench/check.py`` as its docstring says: the repository on the path, not bench/.
ROOT = Path(__file__).resolve().parent.parent
sys.path[:] = [p for p in sys.path if Path(p or ".").resolve() != ROOT / "bench"]
sys.path.insert(0, str(ROOT))

from bench.sign import BenchKey, ten_line_request, timed  # noqa: E402
from fe_tui.checks import preflight  # noqa: E402
from fe_tui.crypto import xades  # noqa: E402
from fe_tui.crypto.verify import verify_document  # noqa: E402
from fe_tui.ubl import builder  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--docs", type=int, default=30)
    args = parser.parse_args()

    signed = xades.sign(builder.build(ten_line_request()).root, BenchKey())
    report = preflight(signed)
    rejected = [f.code for f in report.rechazos if f.code != "ZE02"]  # self-signed bench key
    assert not rejected, rejected

    cases = {"check": lambda: preflight(signed), "verify": lambda: verify_document(signed)}
    results: dict[str, list[float]] = {k: [] for k in cases}
    ratios: list[float] = []
    names = list(cases)
    for r in range(args.rounds):
        order = names[r % len(names) :] + names[: r % len(names)]
        ms = {name: timed(cases[name], args.docs) for name in order}
        for name, value in ms.items():
            results[name].append(value)
        ratios.append(ms["check"] / ms["verify"])
    print(f"10-line invoice: {len(signed)} B signed; {args.rounds} rounds x {args.docs} documents")
    for name, values in results.items():
        print(f"{name:<7} {statistics.median(values):7.2f} ms")
    print(f"ratio check / verify  {statistics.median(ratios):.2f}")


if __name__ == "__main__":
    main()
