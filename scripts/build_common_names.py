"""Build agents/leaderwatch/leaders/data/common_names.tsv: leader short forms that are also common words or names.

A surname on this list ("Moon", "Johnson", "Trump") counts only with context (a full name, a
title before it, or the person named elsewhere in the document); a distinctive one ("Obama",
"Modi") also counts alone. Inputs are build-time only:
  --words     a lowercase English word list (Debian package wamerican: /usr/share/dict/words)
  --surnames  US Census 1990 surname list, ranked (dist.all.last inside the PyPI sdist `names` 0.3.0)
  --first     US Census 1990 first-name lists (dist.male.first, dist.female.first, same sdist)
Usage: python scripts/build_common_names.py --words /usr/share/dict/words --census-dir DIR
"""
from __future__ import annotations

import argparse
from pathlib import Path

import orjson

DATA = Path(__file__).resolve().parents[1] / "agents" / "leaderwatch" / "leaders" / "data"
# words on the lists that are in practice only the leader's name in news text
DISTINCTIVE = {"Macron"}


def ranked(path: Path, top: int) -> dict[str, int]:
    names = {}
    for line in path.read_text().splitlines()[:top]:
        parts = line.split()
        names[parts[0].title()] = int(parts[3])
    return names


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--words", default="/usr/share/dict/words")
    parser.add_argument("--census-dir", required=True)
    parser.add_argument("--surname-top", type=int, default=2000)
    parser.add_argument("--first-top", type=int, default=500)
    parser.add_argument("--out", default=str(DATA / "common_names.tsv"))
    args = parser.parse_args()
    words = {w.strip() for w in Path(args.words).read_text(encoding="utf-8", errors="replace").splitlines() if w.strip().islower()}
    census = Path(args.census_dir)
    surnames = ranked(census / "dist.all.last", args.surname_top)
    first = {**ranked(census / "dist.male.first", args.first_top), **ranked(census / "dist.female.first", args.first_top)}
    shorts = set()
    for line in (DATA / "gazetteer.jsonl").read_bytes().splitlines():
        shorts.update(orjson.loads(line).get("short") or ())
    rows = []
    for short in sorted(shorts):
        why = []
        if short.lower() in words:
            why.append("english word")
        if short.title() in surnames:
            why.append(f"US surname #{surnames[short.title()]}")
        if short.title() in first:
            why.append("US first name")
        if why and short not in DISTINCTIVE:
            rows.append(f"{short}\t{'; '.join(why)}")
    header = "# short form\twhy it needs context (built by scripts/build_common_names.py; edit by hand freely)\n"
    Path(args.out).write_text(header + "\n".join(rows) + "\n", encoding="utf-8")
    print(f"{len(rows)} of {len(shorts)} short forms are common words or names -> {args.out}")


if __name__ == "__main__":
    main()
