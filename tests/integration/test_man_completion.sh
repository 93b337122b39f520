#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The manual pages and the bash completion that `make install` installs:
#   man pages   docs/man/vmqd.8 and vmqctl.8 render with `man -l` without a
#               warning, and name every option and command the programs'
#               --help lists (so neither can fall behind the other)
#   completion  contrib/bash-completion/vmqctl, run the way bash runs it
#               (COMP_WORDS, COMP_CWORD) against a real vmqd: objects,
#               commands, keywords, the uplinks and queue IDs vmqd has,
#               and abbreviations
#   install     `make install DESTDIR=...` puts both where man and
#               bash-completion look
#
# Cases (tests/run.sh test_man_completion CASE...): man_pages,
# man_commands, completion, install.
# shellcheck source=tests/integration/lib.sh disable=SC2034
. "$(dirname "$0")/lib.sh"
vmqt_init man
vmqt_need_python
vmqt_need_file "$BUILD/vmqd" "$BUILD/vmqctl"

MAN=$VMQT_ROOT/docs/man
COMPLETION=$VMQT_ROOT/contrib/bash-completion/vmqctl

# --- man pages -------------------------------------------------------------
vmqt_case man_pages
case_man_pages() {
	for page in vmqd vmqctl; do
		err=$(MANWIDTH=80 man --warnings=all -l -Tutf8 "$MAN/$page.8" 2>&1 >/dev/null) ||
			vmqt_fail "man -l $page.8 failed: $err"
		vmqt_assert_eq "warnings rendering $page.8" "" "$err"
		text=$(MANWIDTH=200 man -l "$MAN/$page.8" 2>/dev/null | col -b)
		# Every long option of --help, in the OPTIONS section.
		for opt in $("$BUILD/$page" --help | grep -o -- '--[a-z][a-z-]*' | sort -u); do
			grep -q -- "$opt" <<<"$text" || vmqt_fail "$page.8 does not document $opt (it is in $page --help)"
		done
		vmqt_ok "$page.8 renders without warnings and documents every option of $page --help"
	done
}

vmqt_case man_commands
case_man_commands() {
	n=0
	while read -r obj cmd; do
		grep -qE "^ +$obj \[?$cmd\]?( |$)" <<<"$(MANWIDTH=200 man -l "$MAN/vmqctl.8" 2>/dev/null | col -b)" ||
			vmqt_fail "vmqctl.8 does not document \"$obj $cmd\" (it is in vmqctl help)"
		n=$((n + 1))
	done < <("$BUILD/vmqctl" help | awk '/^  [a-z]+ \[?[a-z]/ { gsub(/[][]/, "", $2); print $1, $2 }')
	[ "$n" -ge 22 ] || vmqt_fail "read only $n commands from vmqctl help"
	vmqt_ok "vmqctl.8 documents all $n commands of vmqctl help"
}

# --- completion against a real vmqd -----------------------------------------------
# complete WORDS...: what the completion offers for the last word (possibly
# empty), sorted, one line; run inside the host namespace, where the links are.
complete_words() {
	vmqt_in "$HNS" bash -c '
		PATH=$1:$PATH
		. "$2"
		shift 2
		COMP_WORDS=("$@")
		COMP_CWORD=$((${#COMP_WORDS[@]} - 1))
		_vmqctl
		printf "%s\n" "${COMPREPLY[@]}" | sort -u | tr "\n" " " | sed "s/ $//"
	' bash "$BUILD" "$COMPLETION" "$@"
}

check() { # WHAT EXPECTED WORDS...
	local what=$1 want=$2
	shift 2
	vmqt_assert_eq "completion of '$*' ($what)" "$want" "$(complete_words "$@")"
}

vmqt_case completion
case_completion() {
	vmqt_vmqd_setup
	vmqt_vmqd_start "$HNS" "$VMQT_SOCK" "$PINS"
	vmqt_ctl dev attach "$DEV" >/dev/null
	vmqt_ctl queue add "$DEV" id 7 txq 1 >/dev/null
	vmqt_ctl queue add "$DEV" id 42 txq 2 >/dev/null
	vmqt_ctl group add "$DEV" id 3 txqs 4,5 >/dev/null

	S=(vmqctl -s "$VMQT_SOCK")
	check "objects" "apply daemon dev doctor filter group help port queue save stats" "${S[@]}" ""
	check "options" "--batch" "${S[@]}" --b
	check "queue's commands" "add del help set show" "${S[@]}" queue ""
	check "an abbreviated object" "set show" "${S[@]}" q s
	check "uplinks vmqd has, or a keyword" "id $DEV" "${S[@]}" queue show ""
	check "links to attach" "$DEV" "${S[@]}" dev attach vmqu
	check "queue IDs of DEV" "0 42 7" "${S[@]}" queue set "$DEV" id ""
	check "queue add: auto, no existing ID" "auto" "${S[@]}" queue add "$DEV" id ""
	check "group IDs" "3" "${S[@]}" group del "$DEV" id ""
	check "keywords of queue add" "group id name owner placement txq vm" "${S[@]}" queue add "$DEV" ""
	check "keywords not given yet" "group name owner placement vm" "${S[@]}" queue add "$DEV" id 9 txq 1 ""
	check "values after txq" "any auto" "${S[@]}" queue set "$DEV" id 7 txq ""
	check "values after placement" "auto operator" "${S[@]}" queue add "$DEV" id 9 placement ""
	check "dev attach flags" "default-txq force mark-mask queues rx" "${S[@]}" dev attach "$DEV" ""
	check "values after dev set rx" "off on" "${S[@]}" dev set "$DEV" rx ""
	check "values after queue set rx" "cpu pass port" "${S[@]}" queue set "$DEV" id 7 rx ""
	check "keywords of filter add" "mac queue vlan" "${S[@]}" filter add "$DEV" ""
	check "queue IDs for a filter" "0 42 7" "${S[@]}" filter add "$DEV" queue ""
	check "port bind's uplink" "$DEV" "${S[@]}" port bind "$DEV" dev ""
	vmqt_ok "bash completion: objects, commands, keywords, values, uplinks and IDs from vmqd"
}

# --- make install --------------------------------------------------------------------
vmqt_case install
case_install() {
	DEST=$VMQT_TMP/dest
	make -s -C "$VMQT_ROOT" BUILD="$BUILD" DESTDIR="$DEST" PREFIX=/usr install >/dev/null
	vmqt_assert_file "installed vmqd.8" "$DEST/usr/share/man/man8/vmqd.8"
	vmqt_assert_file "installed vmqctl.8" "$DEST/usr/share/man/man8/vmqctl.8"
	vmqt_assert_file "installed completion" "$DEST/usr/share/bash-completion/completions/vmqctl"
	vmqt_ok "make install puts the man pages and the completion in place"
}

vmqt_cases "$@"
