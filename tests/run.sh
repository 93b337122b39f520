#!/usr/bin/env bash
# Runs every test: the CMocka suites (unit and BPF_PROG_TEST_RUN), a short
# run of each fuzzer, then the network-namespace integration scripts. Exit 0
# only when none failed.
# A test exits 77 to say "skipped" (with its reason on stderr).
#   tests/run.sh integration [PATTERN]: the integration scripts only, those
#   whose name holds PATTERN when given (make check-san).
#   tests/run.sh TEST [CASE...]: one integration script (test_vmqd_lifecycle,
#   or its path); with CASEs, only those of its named cases (and what they
#   need). Scripts split into cases (tests/integration/lib.sh's vmqt_case)
#   report each case PASS, FAIL or SKIP; a failing case does not stop the
#   next, and the summary lists the failed ones.
set -u
BUILD=${BUILD:-$(cd "$(dirname "$0")/.." && pwd)/build}
export BUILD
here=$(cd "$(dirname "$0")" && pwd)
pass=0 fail=0 skip=0 failed=()
# Where scripts split into cases append each case's result (lib.sh).
VMQT_CASE_LOG=$(mktemp /tmp/vmq-cases.XXXXXX)
export VMQT_CASE_LOG
trap 'rm -f "$VMQT_CASE_LOG"' EXIT

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
one="" cases=()
if [ -n "$only" ] && [ "$only" != integration ]; then
	one=$(basename "$only" .sh)
	shift
	cases=("$@")
	if [[ $one != test_* ]] || [ ! -f "$here/integration/$one.sh" ]; then
		echo "usage: tests/run.sh [integration [PATTERN] | TEST [CASE...]]" >&2
		echo "no integration script $one.sh under tests/integration" >&2
		exit 2
	fi
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
if [ -n "$one" ]; then
	run "integration/$one" bash "$here/integration/$one.sh" "${cases[@]}"
else
	for t in "$here"/integration/test_*.sh; do
		[ -f "$t" ] || continue
		[[ $(basename "$t") == *"$pattern"* ]] || continue
		run "integration/$(basename "$t" .sh)" bash "$t"
	done
fi

printf '\n%d passed, %d failed, %d skipped\n' "$pass" "$fail" "$skip"
if [ -s "$VMQT_CASE_LOG" ]; then
	awk '{ n[$3]++ } $3 == "FAIL" { f = f " " $1 ":" $2 }
		END { printf "cases: %d passed, %d failed, %d skipped\n", n["PASS"], n["FAIL"], n["SKIP"]
			if (f != "") print "failed cases:" f }' "$VMQT_CASE_LOG"
fi
if [ "$fail" -ne 0 ]; then
	printf 'failed: %s\n' "${failed[*]}"
	exit 1
fi
