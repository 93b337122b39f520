#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# lib.sh's named cases (vmqt_case, vmqt_cases), on tests/fixtures/cases.sh:
# each case reported PASS, FAIL or SKIP; a failing case stops at its failing
# command but not the cases after it; a case needing a failed one is
# skipped; state and registrations are handed from case to case, and what a
# failed case created is still removed at exit; a case selected alone runs
# after what it needs, and nothing else; an unknown case is an error.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
vmqt_init
FIX=$VMQT_ROOT/tests/fixtures/cases.sh

# fixture OUT SEEN CASE...: runs the fixture; sets RC.
fixture() {
	local out=$1 seen=$2
	shift 2
	: >"$seen"
	RC=0
	VMQT_CASE_LOG=$VMQT_TMP/log bash "$FIX" "$seen" "$@" >"$out" 2>&1 || RC=$?
}

# --- every case -------------------------------------------------------------
fixture "$VMQT_TMP/all" "$VMQT_TMP/seen"
out=$(cat "$VMQT_TMP/all")
vmqt_assert_eq "exit status with a failed case" 1 "$RC"
for want in "PASS case ok" "FAIL case broken" "SKIP case after_broken" "SKIP case skipper" \
	"PASS case later" "cases: 2 passed, 1 failed, 2 skipped"; do
	vmqt_assert_match "report" "^   $want\$" "$out"
done
vmqt_assert_match "why after_broken was skipped" "skipped: needs broken FAIL" "$out"
vmqt_assert_match "the failing command named" "error: line [0-9]+: command failed \(exit 1\): false" "$out"
seen=$(cat "$VMQT_TMP/seen")
ns=$(sed -n 's/^netns //p' <<<"$seen")
vmqt_assert_match "broken made a namespace" "^vmqt-" "$ns"
vmqt_assert_eq "what the cases saw" "ok
netns $ns
later: x=1 kept=yes netns=1" "$seen"
if ip netns list | grep -qw -- "$ns"; then
	vmqt_fail "namespace $ns of the failed case left behind"
fi
vmqt_assert_eq "case log" "cases ok PASS
cases broken FAIL
cases after_broken SKIP
cases skipper SKIP
cases later PASS" "$(cat "$VMQT_TMP/log")"
vmqt_ok "all cases: ok PASS, broken FAIL (stopped at its failing command), after_broken and skipper SKIP, later PASS with ok's state; broken's namespace removed"

# --- one case, after what it needs --------------------------------------------
rm -f "$VMQT_TMP/log"
fixture "$VMQT_TMP/later" "$VMQT_TMP/seen" later
vmqt_assert_eq "exit status of later alone" 0 "$RC"
vmqt_assert_eq "what ran for later alone" "ok
later: x=1 kept=yes netns=0" "$(cat "$VMQT_TMP/seen")"
vmqt_assert_eq "case log of later alone" "cases ok PASS
cases later PASS" "$(cat "$VMQT_TMP/log")"
fixture "$VMQT_TMP/ab" "$VMQT_TMP/seen" after_broken
vmqt_assert_eq "exit status of after_broken alone" 1 "$RC"
vmqt_assert_match "after_broken alone" "^   SKIP case after_broken\$" "$(cat "$VMQT_TMP/ab")"
fixture "$VMQT_TMP/sk" "$VMQT_TMP/seen" skipper
vmqt_assert_eq "exit status when every case selected is skipped" 77 "$RC"
vmqt_ok "later alone runs ok then later; after_broken alone runs broken, is skipped, exit 1; skipper alone exits 77"

# --- an unknown case ------------------------------------------------------------
fixture "$VMQT_TMP/unknown" "$VMQT_TMP/seen" nosuch
vmqt_assert_eq "exit status for an unknown case" 1 "$RC"
vmqt_assert_match "unknown case" "no case 'nosuch'; its cases: ok broken after_broken skipper later" \
	"$(cat "$VMQT_TMP/unknown")"
vmqt_assert_eq "cases run for an unknown one" "" "$(cat "$VMQT_TMP/seen")"
vmqt_ok "an unknown case: exit 1, the cases listed, none run"
