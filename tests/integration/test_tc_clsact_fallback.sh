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
set -u
here=$(cd "$(dirname "$0")" && pwd)
export VMQ_TC_MODE=clsact
rc=0
for t in test_vmqd_lifecycle test_vmqd_restart test_vmqd_detach test_scenario_vms; do
	printf '   -- %s (VMQ_TC_MODE=clsact)\n' "$t"
	r=0
	bash "$here/$t.sh" || r=$?
	case $r in
	0) ;;
	77) printf '   %s skipped\n' "$t" ;;
	*)
		printf '   FAIL: %s in clsact mode (exit %d)\n' "$t" "$r" >&2
		rc=1
		;;
	esac
done
exit "$rc"
