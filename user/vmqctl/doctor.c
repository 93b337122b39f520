// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vmqctl doctor: vmqd checks DEV for what silently defeats steering; one
 * line per check, and the worst verdict is the exit status. */
#include <errno.h>
#include <string.h>

#include "show.h"
#include "util.h"
#include "vmqctl.h"

static const struct ctl_param run_params[] = {
	{ .arg = &ctl_arg_dev, .required = true },
	{ 0 },
};

/* Mildest first. WARN is 2, not 1, so that 1 keeps meaning "failed",
 * whether a check or the command itself. */
static const struct {
	const char *name;
	int status;
} verdicts[] = {
	{ "PASS", 0 },
	{ "WARN", 2 },
	{ "FAIL", 1 },
};

#define NVERDICTS ARRAY_SIZE(verdicts)

/* "PASS  pins        program and maps pinned and attached", the names
 * padded to the longest; then "eth0: WARN (...)". */
static int doctor_print(FILE *out, struct json_object *args, struct json_object *result)
{
	struct json_object *checks = ctl_jarray(result, "checks");
	size_t n = checks ? json_object_array_length(checks) : 0, width = 0;
	size_t count[NVERDICTS] = { 0 };
	const char *dev = ctl_jstr(result, "dev"), *worst = ctl_jstr(result, "worst");

	(void)args;
	for (size_t i = 0; i < n; i++) {
		const char *name = ctl_jstr(json_object_array_get_idx(checks, i), "name");
		size_t len = strlen(name ? name : "-");

		if (len > width)
			width = len;
	}
	for (size_t i = 0; i < n; i++) {
		struct json_object *c = json_object_array_get_idx(checks, i);
		const char *status = ctl_jstr(c, "status"), *name = ctl_jstr(c, "name");
		const char *detail = ctl_jstr(c, "detail");

		status = status ? status : "-";
		for (size_t v = 0; v < NVERDICTS; v++)
			if (!strcmp(status, verdicts[v].name))
				count[v]++;
		if (detail && *detail)
			fprintf(out, "%-4s  %-*s  %s\n", status, (int)width, name ? name : "-",
				detail);
		else
			fprintf(out, "%-4s  %s\n", status, name ? name : "-");
	}
	fprintf(out, "%s: %s (%zu checks: %zu PASS, %zu WARN, %zu FAIL)\n", dev ? dev : "-",
		worst ? worst : "-", n, count[0], count[1], count[2]);
	return 0;
}

static int doctor_status(struct json_object *result, struct ctl_err *e)
{
	const char *worst = ctl_jstr(result, "worst");

	for (size_t v = 0; worst && v < NVERDICTS; v++)
		if (!strcmp(worst, verdicts[v].name))
			return verdicts[v].status;
	return ctl_err_set(e, EPROTO,
			   "malformed answer from vmqd: doctor's \"worst\" is not PASS, WARN "
			   "or FAIL");
}

static const struct ctl_cmd doctor_cmds[] = {
	{ .name = "run",
	  .params = run_params,
	  .help = "check DEV for what defeats steering; exit 0 PASS, 2 WARN, 1 FAIL",
	  .print = doctor_print,
	  .status = doctor_status },
	{ 0 },
};

const struct ctl_object ctl_object_doctor = { .name = "doctor",
					      .cmds = doctor_cmds,
					      .help = "what silently defeats steering, checked",
					      .implicit_cmd = "run" };
