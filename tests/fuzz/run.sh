#!/usr/bin/env bash
# Runs every fuzzer in $BUILD/fuzz for $FUZZ_SECONDS each (default 60), one
# at a time, on a scratch copy of its corpus (tests/fuzz/corpus/<name>/),
# and prints executions and crashes per harness. Exit 1 when one crashed,
# leaked or hung: its input is kept in $BUILD/fuzz/artifacts/.
# FUZZ_ONLY=name runs one harness; FUZZ_ARGS adds libFuzzer options.
set -u
BUILD=${BUILD:-$(cd "$(dirname "$0")/../.." && pwd)/build}
here=$(cd "$(dirname "$0")" && pwd)
seconds=${FUZZ_SECONDS:-60}
scratch=$(mktemp -d "${TMPDIR:-/tmp}/vmq-fuzz-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
mkdir -p "$BUILD/fuzz/artifacts"
failed=()

for bin in "$BUILD"/fuzz/fuzz_*; do
	[ -x "$bin" ] || continue
	name=${bin##*/fuzz_}
	[ -z "${FUZZ_ONLY:-}" ] || [ "$FUZZ_ONLY" = "$name" ] || continue
	work=$scratch/$name
	mkdir -p "$work/corpus" "$work/tmp"
	# The committed corpus stays as it is: new inputs go to the copy.
	cp "$here/corpus/$name"/* "$work/corpus/" 2>/dev/null
	# shellcheck disable=SC2086 # FUZZ_ARGS is a list of options
	TMPDIR=$work/tmp "$bin" -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 \
		-print_final_stats=1 -artifact_prefix="$BUILD/fuzz/artifacts/$name-" \
		${FUZZ_ARGS:-} "$work/corpus" >"$work/log" 2>&1
	rc=$?
	execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$work/log" | tail -1)
	crashes=$(grep -c '^==[0-9]*==ERROR\|^SUMMARY: \|ALARM: working on the last Unit\|^Slowest unit\|deadly signal' "$work/log")
	printf '  %-12s %10s executions in %ss, %s crashes/leaks/hangs (exit %d)\n' \
		"$name" "${execs:-?}" "$seconds" "$crashes" "$rc"
	if [ "$rc" -ne 0 ]; then
		failed+=("$name")
		grep -A30 -m1 '^==[0-9]*==\|ERROR\|^answer\|deadly' "$work/log" | head -40 >&2
		ls "$BUILD/fuzz/artifacts/$name-"* 2>/dev/null >&2
	fi
done
if [ ${#failed[@]} -ne 0 ]; then
	echo "fuzz: failed: ${failed[*]}" >&2
	exit 1
fi
