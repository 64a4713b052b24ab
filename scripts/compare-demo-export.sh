#!/bin/sh
# Compares a demo day's exports of two commits byte for byte (issue 17: "readings, tallies, ledger bytes and
# published records are unchanged").
#
#   scripts/compare-demo-export.sh <base-commit> [<other-commit>]    (other: HEAD; the same commit twice works)
#
# For each commit: a detached git worktree (node_modules symlinked from this checkout), then the same demo day
# (`tallyproof demo --seed`, run from the sources) with scripts/compare-demo-export/pin.cjs preloaded, which
# pins the clock, the station key and BIP 340's auxiliary randomness for this harness only. The second run
# reuses the first run's election keys (the demo reuses a keys/ folder it finds). Then every file of
#   auditor-bundle/                    the auditor's bundle (`ledger export`: records, checkpoints, tally, …)
#   election-day/publish/              signed transactions, outbox, publication files
#   election-day/tapes/                the zero and results tapes (PDF)
#   election-day/ledger/*.jsonl        printed heads
#   ledger-official.txt, ledger-test.txt   every row of every ledger table, blobs in hex (dump-ledger.cjs)
#   tally.json                          `tallyproof ledger tally`
#   deck/truth.json, deck/pile.json    what the deck holds (the readings' input)
# is compared with cmp; the files that differ (or exist on one side only) are listed, and the exit code is 1.
#
# Environment: COMPARE_SEED (default 1234), COMPARE_BALLOTS (default: the demo's minimum), COMPARE_WORK (a
# directory to keep the worktrees and outputs in; default a temporary one, removed at the end when equal).
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
  echo "usage: $0 <base-commit> [<other-commit>]" >&2
  exit 2
fi
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/.." && pwd)
pin="$here/compare-demo-export/pin.cjs"
dump="$here/compare-demo-export/dump-ledger.cjs"
modules=$(readlink -f "$repo/node_modules")
seed=${COMPARE_SEED:-1234}
base=$(git -C "$repo" rev-parse --verify "$1^{commit}")
other=$(git -C "$repo" rev-parse --verify "${2:-HEAD}^{commit}")
work=${COMPARE_WORK:-$(mktemp -d "${TMPDIR:-/tmp}/compare-demo-export.XXXXXX")}
mkdir -p "$work"

cleanup() {
  for side in a b; do
    [ -d "$work/$side/tree" ] && git -C "$repo" worktree remove --force "$work/$side/tree" 2>/dev/null || true
  done
}
trap cleanup EXIT

# run_side <a|b> <commit>: worktree, demo day, collected exports in $work/<side>/out
run_side() {
  side=$1
  commit=$2
  tree="$work/$side/tree"
  data="$work/$side/data"
  out="$work/$side/out"
  rm -rf "$work/$side"
  mkdir -p "$work/$side" "$data" "$out"
  git -C "$repo" worktree add --detach --quiet "$tree" "$commit"
  ln -s "$modules" "$tree/node_modules"
  if [ -d "$work/keys" ]; then cp -a "$work/keys" "$data/keys"; fi
  echo "== $side: $commit: demo day, seed $seed (log: $work/$side/demo.log)" >&2
  set -- demo --data "$data" --seed "$seed"
  if [ -n "${COMPARE_BALLOTS:-}" ]; then set -- "$@" --ballots "$COMPARE_BALLOTS"; fi
  if ! (cd "$work/$side" && NODE_PATH="$modules" node -r "$pin" -e "require('$tree/scripts/register-ts'); require('$tree/app/cli/main').run(process.argv.slice(1)).then((c) => { process.exitCode = c; setTimeout(() => process.exit(c), 2000).unref(); })" "$@" >"$work/$side/demo.log" 2>&1); then
    echo "the demo day of $commit failed: see $work/$side/demo.log" >&2
    tail -20 "$work/$side/demo.log" >&2
    exit 1
  fi
  # the first run's election keys serve the second (the demo reuses a keys/ folder)
  if [ ! -d "$work/keys" ]; then cp -a "$data/keys" "$work/keys"; fi

  cp -a "$data/auditor-bundle" "$out/auditor-bundle"
  day="$data/election-day"
  cp -a "$day/publish" "$out/publish"
  cp -a "$day/tapes" "$out/tapes"
  mkdir -p "$out/heads" "$out/deck"
  for f in "$day"/ledger/*.jsonl; do [ -e "$f" ] && cp "$f" "$out/heads/"; done
  cp "$data/deck/truth.json" "$data/deck/pile.json" "$out/deck/"
  for mode in official test; do
    if [ -f "$day/ledger/$mode.sqlite" ]; then NODE_PATH="$modules" node "$dump" "$day/ledger/$mode.sqlite" "$out/ledger-$mode.txt"; fi
  done
  (cd "$work/$side" && NODE_PATH="$modules" node -e "require('$tree/scripts/register-ts'); require('$tree/app/cli/main').run(process.argv.slice(1)).then((c) => { process.exitCode = c; })" ledger tally --data "$day" >"$out/tally.json")
}

run_side a "$base"
run_side b "$other"

echo "== comparing $work/a/out ($base) with $work/b/out ($other)" >&2
differ=0
list=$( (cd "$work/a/out" && find . -type f; cd "$work/b/out" && find . -type f) | sort -u)
count=0
for f in $list; do
  count=$((count + 1))
  if [ ! -f "$work/a/out/$f" ]; then
    echo "only in $other: $f"
    differ=1
  elif [ ! -f "$work/b/out/$f" ]; then
    echo "only in $base: $f"
    differ=1
  elif ! cmp -s "$work/a/out/$f" "$work/b/out/$f"; then
    echo "differs: $f"
    differ=1
  fi
done
if [ "$differ" -eq 0 ]; then
  echo "identical: $count files (seed $seed)"
  [ -n "${COMPARE_WORK:-}" ] || rm -rf "$work"
else
  echo "kept for inspection: $work" >&2
fi
exit "$differ"
