#!/usr/bin/env bash
# SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
#
# The clsact fallback (kernels before 6.6 have no tcx), forced with
# VMQ_TC_MODE=clsact: the key scenarios run again in that mode. Their
# checks of vmq's hook (lib.sh's vmqt_assert_hooked, vmqt_port_show) then
# require vmq's clsact filter (pref 1, handle 0x766d71) and "hook":
# "clsact", and no tcx link.
#   test_vmqd_lifecycle  attach, queues, groups, detach
#   test_vmqd_restart    SIGKILL/SIGTERM restarts adopt without a gap
#   test_vmqd_detach     detach leaves qdiscs and others' filters as found
#   test_scenario_vms    port bindings on clsact ingress
#
# Cases (tests/run.sh test_tc_clsact_fallback CASE...), one per script run
# in clsact mode, each standing alone: vmqd_lifecycle, vmqd_restart,
# vmqd_detach, scenario_vms.
# shellcheck source=tests/integration/lib.sh
. "$(dirname "$0")/lib.sh"
vmqt_init
here=$(cd "$(dirname "$0")" && pwd)

# clsact_run TEST: runs tests/integration/TEST.sh with VMQ_TC_MODE=clsact.
# Its own cases stay out of the case log (they are reported here as one),
# its output is indented under this case's.
clsact_run() {
	local r=0
	printf '   -- %s (VMQ_TC_MODE=clsact)\n' "$1"
	VMQ_TC_MODE=clsact VMQT_CASE_LOG="" bash "$here/$1.sh" 2>&1 | sed 's/^/   /' || r=$?
	case $r in
	0) ;;
	77) vmqt_skip "$1 skipped in clsact mode" ;;
	*) vmqt_fail "$1 in clsact mode (exit $r)" ;;
	esac
}

vmqt_case vmqd_lifecycle
case_vmqd_lifecycle() { clsact_run test_vmqd_lifecycle; }

vmqt_case vmqd_restart
case_vmqd_restart() { clsact_run test_vmqd_restart; }

vmqt_case vmqd_detach
case_vmqd_detach() { clsact_run test_vmqd_detach; }

vmqt_case scenario_vms
case_scenario_vms() { clsact_run test_scenario_vms; }

vmqt_cases "$@"
