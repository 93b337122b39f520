// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Global options: one table for getopt_long and for --help. */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <stdint.h>
#include <string.h>

#include "libvmq.h"
#include "vmqctl.h"

const struct ctl_option ctl_options[] = {
	{ 'j', "json", NULL, "print results, and errors, as JSON on stdout" },
	{ 's', "socket", "PATH", "socket (default: $VMQ_SOCKET, or " VMQ_SOCKET_DEFAULT ")" },
	{ 'b', "batch", "FILE", "run FILE's commands, one per line (\"-\": stdin)" },
	{ 'w', "watch", "SECONDS", "stats every SECONDS (0.1..86400), with rates" },
	{ 'c', "count", "N", "with -w: stop after N samples (default: at ^C)" },
	{ 't', "timeout", "SECONDS", "give up on vmqd after SECONDS (default 10)" },
	{ 'h', "help", NULL, "print this help" },
	{ 'V', "version", NULL, "print vmqctl's version" },
	{ 0, NULL, NULL, NULL },
};

#define OPTIONS_MAX 16

int ctl_parse_seconds(const char *s, unsigned int *ms)
{
	unsigned long long v = 0; /* milliseconds, capped just past the maximum */
	unsigned int scale = 100;
	const char *p = s;

	/* DIGITS[.DIGITS]: no sign, no exponent, no "inf", no blanks. */
	if (!isdigit((unsigned char)*p))
		return -EINVAL;
	for (; isdigit((unsigned char)*p); p++)
		if (v <= CTL_WATCH_MAX_MS) /* past it, only the syntax matters */
			v = v * 10 + (unsigned int)(*p - '0') * 1000ULL;
	if (*p == '.') {
		if (!isdigit((unsigned char)p[1]))
			return -EINVAL;
		for (p++; isdigit((unsigned char)*p); p++) {
			if (!scale)
				return -EINVAL; /* finer than a millisecond */
			v += (unsigned int)(*p - '0') * scale;
			scale /= 10;
		}
	}
	if (*p)
		return -EINVAL;
	if (v < CTL_WATCH_MIN_MS || v > CTL_WATCH_MAX_MS)
		return -ERANGE;
	*ms = (unsigned int)v;
	return 0;
}

const struct ctl_option *ctl_option_word(const char *word)
{
	for (const struct ctl_option *o = ctl_options; o->short_name; o++) {
		size_t len = strlen(o->long_name);

		if (word[0] == '-' && word[1] == o->short_name && !word[2])
			return o;
		if (!strncmp(word, "--", 2) && !strncmp(word + 2, o->long_name, len) &&
		    (!word[2 + len] || word[2 + len] == '='))
			return o;
	}
	return NULL;
}

static int parse_watch(const char *s, unsigned int *ms, struct ctl_err *e)
{
	char q[CTL_QUOTE_SIZE];
	int err = ctl_parse_seconds(s, ms);

	if (err == -ERANGE)
		return ctl_err_set(e, ERANGE, "--watch \"%s\": out of range (%g..%d seconds)",
				   ctl_quote(s, q, sizeof(q)), CTL_WATCH_MIN_MS / 1000.0,
				   CTL_WATCH_MAX_MS / 1000);
	if (err)
		return ctl_err_set(e, EINVAL,
				   "--watch \"%s\": not a number of seconds (N or N.NNN, such "
				   "as 2 or 0.5)",
				   ctl_quote(s, q, sizeof(q)));
	return 0;
}

static int parse_timeout(const char *s, unsigned int *ms, struct ctl_err *e)
{
	char q[CTL_QUOTE_SIZE];
	int err = ctl_parse_seconds(s, ms);

	if (err == -ERANGE)
		return ctl_err_set(e, ERANGE, "--timeout \"%s\": out of range (%g..%d seconds)",
				   ctl_quote(s, q, sizeof(q)), CTL_WATCH_MIN_MS / 1000.0,
				   CTL_WATCH_MAX_MS / 1000);
	if (err)
		return ctl_err_set(e, EINVAL,
				   "--timeout \"%s\": not a number of seconds (N or N.NNN, such "
				   "as 5 or 0.5)",
				   ctl_quote(s, q, sizeof(q)));
	return 0;
}

static int parse_count(const char *s, __u32 *count, struct ctl_err *e)
{
	char q[CTL_QUOTE_SIZE];
	int err = vmq_parse_u32(s, UINT32_MAX, count);

	if (err == -EINVAL)
		return ctl_err_set(e, EINVAL, "--count \"%s\": not a number",
				   ctl_quote(s, q, sizeof(q)));
	if (err || !*count)
		return ctl_err_set(e, ERANGE, "--count \"%s\": out of range (1..%u)",
				   ctl_quote(s, q, sizeof(q)), UINT32_MAX);
	return 0;
}

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
	struct ctl_err later; /* errors after the first are not reported */
	int c, err = 0, verr;

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
		case 'w':
			verr = parse_watch(optarg, &opts->watch_ms, err ? &later : e);
			err = err ? err : verr;
			break;
		case 'c':
			verr = parse_count(optarg, &opts->count, err ? &later : e);
			err = err ? err : verr;
			break;
		case 't':
			verr = parse_timeout(optarg, &ctx->conn.timeout_ms, err ? &later : e);
			err = err ? err : verr;
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
