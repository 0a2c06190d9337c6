"""Cross-validation over sites of the schema extraction on the product benchmark's development half.

The extraction's rules are code, not fitted parameters, so "fit on some sites, score on the
others" is a way of working: a rule change is decided by looking only at the failures of the
training sites of one fold (``--errors --fold K --train``), and its effect is then read on the
held-out sites of that fold (``--compare`` against a board saved before the change). A rule that
only fits the pages it was written for shows no gain, or a loss, on the sites it never saw.

Pages are grouped by site: the host of each page's ``url`` in the ground truth, and with the
default ``--group site`` also the same shop under other country domains (its templates are
shared, so a rule written for one would otherwise be "validated" on its twin). The groups are
dealt into K folds (fixed seed, sizes balanced), pages of one site always in one fold.

Scores are the benchmark's own: ``score.py`` run as a program (``--raw --errors``) on the
predictions written to a temporary folder; its wrong-or-missing list gives each page's outcome per
attribute, from which each fold's field accuracy is counted.

``--untouched K`` keeps fold K out of every error listing and hides its figures while rules are
being changed, so that at the end (a run without it) its figure is one of pages nobody studied
or judged a change by.

Run:
  .venv/bin/python bench/extraction_cv.py                          # per-fold held-out, pooled
  .venv/bin/python bench/extraction_cv.py --untouched 0 --compare /tmp/before.json  # fold 0 hidden
  .venv/bin/python bench/extraction_cv.py --errors --fold 2 --train # failures to study for fold 2
  .venv/bin/python bench/extraction_cv.py --save /tmp/before.json   # a board to compare with
  .venv/bin/python bench/extraction_cv.py --compare /tmp/before.json
"""

from __future__ import annotations

import argparse
import gzip
import json
import random
import subprocess
import sys
import tempfile
from collections import defaultdict
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from smooth_agents.local.extraction import ExtractionError, extract_structured  # noqa: E402

# The scorer's pooled attributes ("overall"), in its order.
MAIN = ("price", "currency", "sku", "brand", "availability*")
# Labels that name no shop: country-code and generic second-level domains, and host prefixes.
_NOT_A_NAME = frozenset({"www", "m", "shop", "store", "com", "co", "net", "org", "gov", "edu", "ac"})

Outcomes = dict[str, dict[str, bool]]  # page id -> attribute -> correct (attributes it has truth for)


def host_of(url: str) -> str:
    return (urlsplit(url).hostname or "").lower()


def site_of(url: str) -> str:
    """The shop's name in its host ("www.shop.co.uk" and "shop.de" -> "shop")."""
    labels = [label for label in host_of(url).split(".") if label]
    body = labels[:-1] if len(labels) > 1 else labels  # the top-level domain names no shop
    names = [label for label in body if label not in _NOT_A_NAME]
    return names[-1] if names else host_of(url)


def assign_folds(groups: dict[str, list[str]], folds: int, seed: int) -> list[list[str]]:
    """Sites dealt into ``folds`` folds of near-equal page counts: largest sites first, ties shuffled."""
    names = sorted(groups)
    random.Random(seed).shuffle(names)
    names.sort(key=lambda name: len(groups[name]), reverse=True)  # stable: the shuffle breaks ties
    dealt: list[list[str]] = [[] for _ in range(folds)]
    sizes = [0] * folds
    for name in names:
        smallest = min(range(folds), key=lambda index: (sizes[index], index))
        dealt[smallest].append(name)
        sizes[smallest] += len(groups[name])
    return dealt


def extract_all(folder: Path, truth: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    predictions: dict[str, Any] = {}
    for page_id, expected in sorted(truth.items()):
        html = gzip.decompress((folder / "dataset" / "html" / f"{page_id}.html.gz").read_bytes())
        try:
            found = extract_structured(html.decode("utf-8", "replace"), schema, url=expected.get("url"))
        except ExtractionError:
            found = {}
        predictions[page_id] = found if isinstance(found, dict) else {}
    return predictions


def run_scorer(folder: Path, predictions: dict[str, Any]) -> str:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "predictions.json"
        path.write_text(json.dumps(predictions), "utf-8")
        done = subprocess.run(
            [sys.executable, str(folder / "score.py"), str(path), "--raw", "--errors"],
            capture_output=True,
            text=True,
            check=True,
            cwd=folder,
        )
    return done.stdout


def outcomes_from(report: str, truth: dict[str, Any]) -> tuple[Outcomes, list[str]]:
    """Each page's outcome per attribute, and the scorer's error lines.

    A page has an attribute when its ground truth lists values for it (the scorer's support); it
    is correct unless the scorer lists it as wrong or missing.
    """
    by_prefix = {page_id[:12]: page_id for page_id in truth}  # the scorer prints 12 characters
    failed: set[tuple[str, str]] = set()
    error_lines = []
    for line in report.splitlines():
        parts = line.split("\t")
        if len(parts) == 5 and parts[0] in MAIN and parts[1] in by_prefix:
            failed.add((by_prefix[parts[1]], parts[0]))
            error_lines.append(line)
    outcomes: Outcomes = {}
    for page_id, expected in truth.items():
        outcomes[page_id] = {
            attribute: (page_id, attribute) not in failed
            for attribute in MAIN
            if expected.get(attribute.rstrip("*"))
        }
    return outcomes, error_lines


def accuracy(outcomes: Outcomes, pages: list[str], attribute: str | None = None) -> tuple[int, int]:
    """(correct, support) over ``pages`` for one attribute, or pooled over the main ones."""
    wanted = MAIN if attribute is None else (attribute,)
    results = [outcomes[page][name] for page in pages for name in wanted if name in outcomes[page]]
    return sum(results), len(results)


def ratio(correct: int, support: int) -> str:
    return f"{correct / support:.3f}" if support else "  n/a"


def print_table(
    outcomes: Outcomes, fold_pages: list[list[str]], sites_in: list[list[str]], hidden: frozenset[int]
) -> None:
    header = f"  {'fold':<6}{'pages':>6}{'overall':>9}" + "".join(f"{name:>14}" for name in MAIN)
    print(header)
    for index, pages in enumerate(fold_pages):
        if index in hidden:
            print(f"  {index:<6}{len(pages):>6}   (untouched: hidden until the end)")
            continue
        cells = "".join(f"{ratio(*accuracy(outcomes, pages, name)):>14}" for name in MAIN)
        print(f"  {index:<6}{len(pages):>6}{ratio(*accuracy(outcomes, pages)):>9}{cells}")
    everything = [page for index, pages in enumerate(fold_pages) if index not in hidden for page in pages]
    correct, support = accuracy(outcomes, everything)
    cells = "".join(f"{ratio(*accuracy(outcomes, everything, name)):>14}" for name in MAIN)
    print(f"  {'pooled':<6}{len(everything):>6}{ratio(correct, support):>9}{cells}  ({correct}/{support})")
    folds = [accuracy(outcomes, pages) for index, pages in enumerate(fold_pages) if index not in hidden]
    rates = [c / s for c, s in folds if s]
    spread = f"{min(rates):.3f}..{max(rates):.3f}" if rates else "n/a"
    print(f"  held-out folds range {spread}; sites per fold: {[len(sites) for sites in sites_in]}")


def print_comparison(
    before: Outcomes, after: Outcomes, fold_pages: list[list[str]], hidden: frozenset[int]
) -> None:
    """Per fold: the change's effect in correct fields, and how many fields it fixed and broke."""
    print(f"  {'fold':<6}{'before':>8}{'after':>8}{'fixed':>7}{'broke':>7}")
    total_fixed = total_broken = 0
    for index, pages in enumerate(fold_pages):
        if index in hidden:
            print(f"  {index:<6}   (untouched: hidden until the end)")
            continue
        pairs = [(page, name) for page in pages for name in after[page] if name in before.get(page, {})]
        fixed = sum(after[p][n] and not before[p][n] for p, n in pairs)
        broken = sum(before[p][n] and not after[p][n] for p, n in pairs)
        total_fixed, total_broken = total_fixed + fixed, total_broken + broken
        print(
            f"  {index:<6}{ratio(*accuracy(before, pages)):>8}{ratio(*accuracy(after, pages)):>8}"
            f"{fixed:>7}{broken:>7}"
        )
    everything = [page for index, pages in enumerate(fold_pages) if index not in hidden for page in pages]
    print(
        f"  {'pooled':<6}{ratio(*accuracy(before, everything)):>8}{ratio(*accuracy(after, everything)):>8}"
        f"{total_fixed:>7}{total_broken:>7}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "benchmarks" / "product")
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--group", choices=["site", "host"], default="site", help="site: one shop's country domains together"
    )
    parser.add_argument("--fold", type=int, help="the fold --errors is about")
    which = parser.add_mutually_exclusive_group()
    which.add_argument("--train", action="store_true", help="with --errors: the fold's training sites")
    which.add_argument("--test", action="store_true", help="with --errors: the fold's held-out sites")
    parser.add_argument("--errors", action="store_true", help="the scorer's wrong or missing values")
    parser.add_argument(
        "--untouched",
        type=int,
        action="append",
        default=[],
        help="a fold kept out of --errors and hidden in the tables (repeatable): a figure no rule was"
        " fitted to, read at the end without it",
    )
    parser.add_argument("--save", type=Path, help="write each page's outcomes here (for --compare)")
    parser.add_argument("--compare", type=Path, help="per-fold effect against outcomes saved with --save")
    args = parser.parse_args()
    if not args.data.is_dir():
        print(f"No product benchmark at {args.data}: nothing to measure (pass --data).")
        return
    if args.errors and (args.fold is None or not (args.train or args.test)):
        parser.error("--errors needs --fold K and --train or --test")

    truth = json.loads((args.data / "dataset" / "ground-truth.json").read_text("utf-8"))
    schema = json.loads((args.data / "product_schema.json").read_text("utf-8"))
    group_of = site_of if args.group == "site" else host_of
    groups: dict[str, list[str]] = defaultdict(list)
    for page_id, expected in sorted(truth.items()):
        groups[group_of(expected.get("url", ""))].append(page_id)
    sites_in = assign_folds(groups, args.folds, args.seed)
    fold_pages = [sorted(page for site in sites for page in groups[site]) for sites in sites_in]

    report = run_scorer(args.data, extract_all(args.data, truth, schema))
    outcomes, error_lines = outcomes_from(report, truth)
    scorer_overall = next((line for line in report.splitlines() if line.startswith("overall")), "")

    if args.errors:
        chosen = set(fold_pages[args.fold])
        if args.train:
            chosen = set(truth) - chosen
        if args.fold in args.untouched and args.test:
            parser.error(f"fold {args.fold} is kept untouched: its errors are not listed")
        for kept in args.untouched:
            chosen -= set(fold_pages[kept])
        side = "training" if args.train else "held-out"
        untouched = f", folds {args.untouched} left out" if args.untouched else ""
        print(f"Errors on the {side} sites of fold {args.fold} ({len(chosen)} pages{untouched}):")
        by_prefix = {page_id[:12]: page_id for page_id in truth}
        for line in error_lines:
            if by_prefix[line.split("\t")[1]] in chosen:
                print(line)
        return

    print(
        f"Product extraction, {len(truth)} pages in {len(groups)} {args.group}s, {args.folds} folds"
        f" over {args.group}s (seed {args.seed}); each fold's figure is on sites held out of it"
    )
    hidden = frozenset(args.untouched)
    print_table(outcomes, fold_pages, sites_in, hidden)
    if not hidden:
        print(f"  scorer on the whole half: {' '.join(scorer_overall.split())}")
    if args.compare:
        before = json.loads(args.compare.read_text("utf-8"))
        print(f"Against {args.compare}:")
        print_comparison(before, outcomes, fold_pages, hidden)
    if args.save:
        args.save.write_text(json.dumps(outcomes), "utf-8")
        print(f"  outcomes saved to {args.save}")


if __name__ == "__main__":
    main()
