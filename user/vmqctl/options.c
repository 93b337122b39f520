// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Global options: one table for getopt_long and for --help. */
#include <errno.h>
#include <getopt.h>
#include <string.h>

#include "vmqctl.h"

const struct ctl_option ctl_options[] = {
	{ 'j', "json", NULL, "print results, and errors, as JSON on stdout" },
	{ 's', "socket", "PATH", "vmqd's control socket (default " VMQ_SOCKET_DEFAULT ")" },
	{ 'b', "batch", "FILE", "run FILE's commands, one per line (\"-\": stdin)" },
	{ 'h', "help", NULL, "print this help" },
	{ 'V', "version", NULL, "print vmqctl's version" },
	{ 0, NULL, NULL, NULL },
};

#define OPTIONS_MAX 16

static void build_getopt_tables(char *shortopts, struct option *longopts)
{
	size_t n = 0, i;

	/* "+": stop at OBJECT, so that "queue add eth0 id -1" reaches the
	 * argument parser; ":": report a missing value ourselves. */
	shortopts[n++] = '+';
	shortopts[n++] = ':';
	for (i = 0; ctl_options[i].short_name && i < OPTIONS_MAX; i++) {
		const struct ctl_option *o = &ctl_options[i];

		shortopts[n++] = (char)o->short_name;
		if (o->metavar)
			shortopts[n++] = ':';
		longopts[i] =
			(struct option){ o->long_name, o->metavar ? required_argument : no_argument,
					 NULL, o->short_name };
	}
	shortopts[n] = '\0';
	longopts[i] = (struct option){ NULL, 0, NULL, 0 };
}

/* Remembers the first error but reads on, so that a later -j still decides
 * how that error is printed. Returns the index of OBJECT in argv. */
int ctl_parse_options(struct ctl_ctx *ctx, int argc, char **argv, struct ctl_opts *opts,
		      struct ctl_err *e)
{
	char shortopts[2 * OPTIONS_MAX + 3], q[CTL_QUOTE_SIZE];
	struct option longopts[OPTIONS_MAX + 1];
	int c, err = 0;

	build_getopt_tables(shortopts, longopts);
	memset(opts, 0, sizeof(*opts));
	opterr = 0;
	optind = 0; /* 0, not 1: glibc starts over (ctl_main may run more than once) */
	while ((c = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		switch (c) {
		case 'j':
			ctx->json = true;
			break;
		case 's':
			ctx->socket_path = optarg;
			break;
		case 'b':
			opts->batch = optarg;
			break;
		case 'h':
			opts->help = true;
			break;
		case 'V':
			opts->version = true;
			break;
		case ':':
			if (!err)
				err = ctl_err_set(e, EINVAL, "option \"%s\" needs a value",
						  ctl_quote(argv[optind - 1], q, sizeof(q)));
			break;
		default:
			/* optopt names a short option even inside "-jx"; a long
			 * one is the whole word just passed. */
			if (optopt)
				snprintf(q, sizeof(q), "-%c", optopt);
			else
				ctl_quote(argv[optind - 1], q, sizeof(q));
			if (!err)
				err = ctl_err_set(e, EINVAL,
						  "unknown option \"%s\" (try \"vmqctl help\")", q);
		}
	}
	return err ? err : optind;
}
