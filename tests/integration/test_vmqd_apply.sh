#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# vmqctl save and apply against a real vmqd:
#   - `save | apply --dry-run -` finds no change
#   - an edited file: --dry-run prints only the difference and changes
#     nothing; apply makes the running state equal the file (save prints
#     the file back), keeping what the file lacks
#   - --prune removes what the file lacks
#   - a file with one bad line applies nothing and names the line
#   - id auto, txq any and port bind queue auto print what vmqd chose
#
# Cases (tests/run.sh test_vmqd_apply CASE...): auto_alloc, save_no_change,
# apply_edited (needs both), apply_prune (needs apply_edited),
# apply_bad_line.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl"

vmqt_vmqd_setup
TAP1=vmqap$RANDOM
TAP2=vmqbp$RANDOM
for t in "$TAP1" "$TAP2"; do
	vmqt_in "$HNS" ip tuntap add dev "$t" mode tap
done
vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"

vmqt_ctl dev attach "$DEV" default-txq 7 >/dev/null
vmqt_ctl group add "$DEV" id 1 txqs 4,5 >/dev/null
vmqt_ctl queue add "$DEV" id 10 txq 1 vm web >/dev/null
vmqt_ctl queue add "$DEV" id 11 group 1 vm db name db-tx >/dev/null
vmqt_ctl port bind "$TAP1" dev "$DEV" queue 10 >/dev/null

# --- automatic allocation prints what vmqd chose -------------------------------------------
vmqt_case auto_alloc
case_auto_alloc() {
	out=$(vmqt_ctl queue add "$DEV" id auto txq any vm cache)
	vmqt_assert_match "queue add id auto txq any" "^queue 1 on $DEV: txq 0\$" "$out"
	out=$(vmqt_ctl -j port bind "$TAP2" dev "$DEV" queue auto vm mail)
	vmqt_assert_eq "port bind queue auto (-j)" '{"queue":2,"txq":2}' "$(vmqt_json j <<<"$out")"
	vmqt_ok "id auto and txq any: queue 1 on txq 0; queue auto: queue 2 on txq 2 (the least used)"

}

# --- save | apply --dry-run: no change ---------------------------------------------------
vmqt_case save_no_change
case_save_no_change() {
	vmqt_ctl save >"$VMQT_TMP/saved"
	out=$(vmqt_ctl apply --dry-run - <"$VMQT_TMP/saved")
	vmqt_assert_eq "save | apply --dry-run -" "# no change" "$out"
	vmqt_ok "save | apply --dry-run -: no change ($(wc -l <"$VMQT_TMP/saved") lines saved)"

}

# --- an edited file ------------------------------------------------------------------------
vmqt_case apply_edited auto_alloc save_no_change
case_apply_edited() {
	# queue 10 moves, queue 11 loses its group for a TX queue, queue 12 is new,
	# queue 1 and the group stay only in the daemon.
	sed -e "s/^queue add $DEV id 10 txq 1 vm web\$/queue add $DEV id 10 txq 3 vm web/" \
		-e "s/^queue add $DEV id 11 group 1 vm db name db-tx\$/queue add $DEV id 11 txq 6 vm db name db-tx/" \
		-e "/^queue add $DEV id 1 /d" -e "/^group add /d" "$VMQT_TMP/saved" >"$VMQT_TMP/want"
	echo "queue add $DEV id 12 txq 5 vm new" >>"$VMQT_TMP/want"
	before=$(vmqt_state)
	plan=$(vmqt_ctl apply --dry-run "$VMQT_TMP/want")
	vmqt_assert_eq "--dry-run changed nothing" "$before" "$(vmqt_state)"
	for line in "queue set $DEV id 10 txq 3" "queue set $DEV id 11 txq 6" "queue add $DEV id 12 txq 5 vm new"; do
		grep -qxF "$line" <<<"$plan" || vmqt_fail "the plan lacks \"$line\":$(printf '\n%s' "$plan" | sed 's/^/   | /')"
	done
	steps=$(grep -vc '^#' <<<"$plan" || true)
	vmqt_assert_eq "steps in the plan (3 changes, nothing pruned)" 3 "$steps"
	vmqt_ctl apply "$VMQT_TMP/want" >/dev/null
	vmqt_ctl save >"$VMQT_TMP/after"
	for line in "queue add $DEV id 10 txq 3 vm web" "queue add $DEV id 12 txq 5 vm new" \
		"queue add $DEV id 1 txq 0 vm cache placement auto" "group add $DEV id 1 txqs 4,5"; do
		grep -qxF "$line" "$VMQT_TMP/after" ||
			vmqt_fail "after apply, save lacks \"$line\":$(sed 's/^/   | /' "$VMQT_TMP/after")"
	done
	vmqt_ok "apply: 3 changes, the rest kept: $(tr '\n' ';' <<<"$plan")"

}

# --- --prune ------------------------------------------------------------------------------
vmqt_case apply_prune apply_edited
case_apply_prune() {
	vmqt_ctl apply --prune "$VMQT_TMP/want" >/dev/null
	out=$(vmqt_ctl save | vmqt_ctl apply --dry-run -)
	vmqt_assert_eq "after --prune: save | apply --dry-run -" "# no change" "$out"
	sort "$VMQT_TMP/want" >"$VMQT_TMP/want.sorted"
	vmqt_ctl save | sort >"$VMQT_TMP/now.sorted"
	diff -u "$VMQT_TMP/want.sorted" "$VMQT_TMP/now.sorted" >&2 ||
		vmqt_fail "after apply --prune, save differs from the file"
	vmqt_ok "apply --prune: the running state is the file, line for line"

}

# --- one bad line: nothing applied -----------------------------------------------------------
vmqt_case apply_bad_line
case_apply_bad_line() {
	before=$(vmqt_state)
	{
		echo "queue add $DEV id 20 txq 1"
		echo "queue add $DEV id 21 txq 99x"
	} >"$VMQT_TMP/bad"
	vmqt_ctl_fails apply "$VMQT_TMP/bad"
	vmqt_assert_one_error "apply with a bad line 2" "$VMQT_TMP/bad:2: "
	vmqt_assert_eq "state after a refused apply" "$before" "$(vmqt_state)"
	vmqt_ok "a bad line 2: nothing applied; \"$VMQT_CTL_ERR\""
}

vmqt_cases "$@"
