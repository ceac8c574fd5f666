#!/usr/bin/env bash
# newcomer.sh: what a new user does first, from a fresh clone, as the README
# says: make demo, then surge from anywhere (make install, surge version,
# surge inspect). It asserts that the outputs the README names exist.
# make test runs it; it needs no servers (the demo platform is built in).
#
#   scripts/newcomer.sh [REPO]   REPO defaults to this checkout (its HEAD)
set -euo pipefail
repo=${1:-$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/surge-newcomer-XXXXXX")
trap 'rm -rf "$tmp"' EXIT
say() { echo "newcomer: $*" >&2; }
fail() { say "FAIL: $*"; exit 1; }

git clone --quiet "$repo" "$tmp/surge"
cd "$tmp/surge"

say "make demo (README, first line)"
make demo >"$tmp/demo.log" 2>&1 || { tail -40 "$tmp/demo.log" >&2; fail "make demo exited $?"; }
for f in out/demo/match-night.parquet out/demo/results.parquet out/demo/summary.json; do
	[[ -s $f ]] || fail "make demo left no $f"
done
grep -q '"verdict"' out/demo/summary.json || fail "out/demo/summary.json has no verdict"
grep -q 'demo platform, as the server saw it' "$tmp/demo.log" || fail "make demo printed no platform table"

say "make install; surge version; surge inspect"
GOBIN="$tmp/bin" make install >"$tmp/install.log" 2>&1 || { cat "$tmp/install.log" >&2; fail "make install"; }
# Outputs are captured, not piped to grep -q: under pipefail a closed pipe
# would fail the command.
out=$("$tmp/bin/surge" version) || fail "surge version exited $?"
[[ $out == surge\ * ]] || fail "surge version printed: $out"
out=$(cd "$tmp" && "$tmp/bin/surge" inspect surge/out/demo/match-night.parquet) || fail "surge inspect exited $?"
[[ $out == *events* ]] || fail "surge inspect printed: $out"
say "ok: the README's first steps work from a fresh clone"
