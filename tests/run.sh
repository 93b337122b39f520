#!/usr/bin/env bash
# Runs every test: the CMocka suites (unit and BPF_PROG_TEST_RUN), a short
# run of each fuzzer, then the network-namespace integration scripts. Exit 0
# only when none failed.
# A test exits 77 to say "skipped" (with its reason on stderr).
#   tests/run.sh [integration [PATTERN]]: the integration scripts only, those
#   whose name holds PATTERN when given (make check-san).
set -u
BUILD=${BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build}
export BUILD
here=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0 skip=0 failed=()

if [ "$(id -u)" -ne 0 ]; then
	echo "make test needs root: the tests load BPF programs and create network namespaces" >&2
	exit 1
fi

run() { # name, command...
	local name=$1 rc
	shift
	printf '== %s\n' "$name"
	"$@"
	rc=$?
	case $rc in
	0) pass=$((pass + 1)); printf '   PASS %s\n' "$name" ;;
	77) skip=$((skip + 1)); printf '   SKIP %s\n' "$name" ;;
	*) fail=$((fail + 1)); failed+=("$name"); printf '   FAIL %s (exit %d)\n' "$name" "$rc" ;;
	esac
}

only=${1:-} pattern=${2:-}
if [ -n "$only" ] && [ "$only" != integration ]; then
	echo "usage: tests/run.sh [integration [PATTERN]]" >&2
	exit 2
fi

if [ -z "$only" ]; then
	for t in "$BUILD"/tests/test_*; do
		[ -x "$t" ] || continue
		run "unit/$(basename "$t")" "$t"
	done
	# A few seconds of each fuzzer (make fuzz runs them longer): a crash fails.
	if compgen -G "$BUILD/fuzz/fuzz_*" >/dev/null; then
		run "fuzz/smoke" env FUZZ_SECONDS="${FUZZ_SMOKE_SECONDS:-5}" FUZZ_ONLY= bash "$here/fuzz/run.sh"
	fi
fi
for t in "$here"/integration/test_*.sh; do
	[ -f "$t" ] || continue
	[[ $(basename "$t") == *"$pattern"* ]] || continue
	run "integration/$(basename "$t" .sh)" bash "$t"
done

printf '\n%d passed, %d failed, %d skipped\n' "$pass" "$fail" "$skip"
if [ "$fail" -ne 0 ]; then
	printf 'failed: %s\n' "${failed[*]}"
	exit 1
fi
