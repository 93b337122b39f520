// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmqctl -w SECONDS stats [DEV]: the same request again and again over one
 * connection, every answer printed with the rates since the one before,
 * taken over the time measured between the two (CLOCK_MONOTONIC).
 *
 * SIGINT and SIGTERM end it with exit status 0: between samples they wake
 * the wait; during a request the handler shuts the connection down, so
 * that even a daemon that never answers cannot hold vmqctl.
 */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "vmqctl.h"

static volatile sig_atomic_t watch_stop;
static volatile sig_atomic_t watch_fd = -1;

static void on_signal(int sig)
{
	int saved = errno, fd = watch_fd;

	(void)sig;
	watch_stop = 1;
	if (fd >= 0)
		shutdown(fd, SHUT_RDWR);
	errno = saved;
}

struct watch_signals {
	sigset_t set; /* SIGINT, SIGTERM */
	struct sigaction old_int, old_term;
	bool caught_int, caught_term;
};

/* A signal ignored when vmqctl started stays ignored: a shell without job
 * control ignores SIGINT in the background jobs it starts, so that ^C
 * reaches only the foreground. */
static int catch_one(int sig, const struct sigaction *sa, struct sigaction *old, bool *caught)
{
	*caught = false;
	if (sigaction(sig, NULL, old))
		return -errno;
	if (old->sa_handler == SIG_IGN)
		return 0;
	if (sigaction(sig, sa, NULL))
		return -errno;
	*caught = true;
	return 0;
}

/* ctl_main may run again (the unit tests): leave signals as they were. */
static void signals_restore(struct watch_signals *s)
{
	watch_fd = -1;
	if (s->caught_int)
		sigaction(SIGINT, &s->old_int, NULL);
	if (s->caught_term)
		sigaction(SIGTERM, &s->old_term, NULL);
	s->caught_int = s->caught_term = false;
}

/* No SA_RESTART: a signal must interrupt the wait. */
static int signals_catch(struct watch_signals *s)
{
	struct sigaction sa = { .sa_handler = on_signal };
	int err;

	sigemptyset(&sa.sa_mask);
	sigemptyset(&s->set);
	sigaddset(&s->set, SIGINT);
	sigaddset(&s->set, SIGTERM);
	watch_stop = 0;
	err = catch_one(SIGINT, &sa, &s->old_int, &s->caught_int);
	if (!err)
		err = catch_one(SIGTERM, &sa, &s->old_term, &s->caught_term);
	if (err)
		signals_restore(s);
	return err;
}

static double clock_seconds(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Sleeps until deadline (CLOCK_MONOTONIC) or a signal. The signals stay
 * blocked from the test of watch_stop until ppoll() unblocks them
 * atomically: one arriving in between still ends the wait. */
static void wait_until(const struct watch_signals *s, double deadline)
{
	sigset_t old;

	pthread_sigmask(SIG_BLOCK, &s->set, &old);
	while (!watch_stop) {
		double left = deadline - clock_seconds(CLOCK_MONOTONIC);
		struct timespec ts;

		if (left <= 0)
			break;
		ts.tv_sec = (time_t)left;
		ts.tv_nsec = (long)((left - (double)ts.tv_sec) * 1e9);
		if (ppoll(NULL, 0, &ts, &old) < 0 && errno != EINTR)
			break;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
}

static struct json_object *seconds_json(double s)
{
	char text[32];

	snprintf(text, sizeof(text), "%.3f", s);
	return json_object_new_double_s(s, text);
}

/* Adds val to obj, which then owns it; false (val dropped) on failure. */
static bool put(struct json_object *obj, const char *key, struct json_object *val)
{
	if (!val)
		return false;
	if (json_object_object_add(obj, key, val)) {
		json_object_put(val);
		return false;
	}
	return true;
}

/* {"time", "interval" (null on the first), "devs"}: one line under -j. */
static struct json_object *sample_new(struct json_object *result, double when, double interval)
{
	struct json_object *sample = json_object_new_object(), *devs = NULL;
	bool ok = sample != NULL;

	json_object_object_get_ex(result, "devs", &devs);
	ok = ok && put(sample, "time", seconds_json(when));
	if (interval > 0)
		ok = ok && put(sample, "interval", seconds_json(interval));
	else
		ok = ok && !json_object_object_add(sample, "interval", NULL);
	ok = ok && put(sample, "devs", devs ? json_object_get(devs) : json_object_new_array());
	if (!ok) {
		json_object_put(sample);
		return NULL;
	}
	return sample;
}

static int print_sample(struct ctl_ctx *ctx, struct json_object *sample, unsigned int every_ms,
			bool first, struct ctl_err *e)
{
	int err = 0;

	if (ctx->json) {
		ctl_print_json(ctx->out, sample);
	} else {
		/* a terminal shows the latest sample alone, like watch(1) */
		if (isatty(fileno(ctx->out)))
			fputs("\033[H\033[2J", ctx->out);
		else if (!first)
			fputc('\n', ctx->out);
		err = ctl_stats_print_sample(ctx->out, sample, every_ms);
		if (err)
			return ctl_err_set(e, -err, "cannot print the result: %s", strerror(-err));
	}
	/* each sample as it comes, also through a pipe */
	if (fflush(ctx->out))
		return ctl_err_set(e, errno, "write error: %s", strerror(errno));
	return 0;
}

int ctl_watch(struct ctl_ctx *ctx, const struct ctl_call *call, const struct ctl_opts *opts)
{
	struct json_object *resp = NULL, *prev_resp = NULL, *result, *prev = NULL, *sample;
	double period = opts->watch_ms / 1000.0, next, taken, prev_taken = 0;
	struct watch_signals sig;
	struct ctl_err e = { 0 };
	__u32 n = 0;
	int err;

	err = signals_catch(&sig);
	if (err) {
		ctl_err_set(&e, -err, "cannot catch SIGINT and SIGTERM: %s", strerror(-err));
		ctl_report(ctx, &e);
		return 1;
	}
	if (ctx->conn.fd < 0)
		err = ctl_conn_open(&ctx->conn, ctx->socket_path, &e);
	watch_fd = ctx->conn.fd;
	next = clock_seconds(CLOCK_MONOTONIC);
	while (!err && !watch_stop) {
		double when = clock_seconds(CLOCK_REALTIME);

		taken = clock_seconds(CLOCK_MONOTONIC);
		err = ctl_execute(ctx, call, &resp, &result, &e);
		if (err)
			break;
		if (prev && ctl_stats_rates(result, prev, taken - prev_taken))
			err = ctl_err_set(&e, ENOMEM, "out of memory");
		sample = err ? NULL : sample_new(result, when, prev ? taken - prev_taken : 0);
		if (!err && !sample)
			err = ctl_err_set(&e, ENOMEM, "out of memory");
		if (!err)
			err = print_sample(ctx, sample, opts->watch_ms, !prev, &e);
		json_object_put(sample);
		/* this answer is the next one's "before" */
		json_object_put(prev_resp);
		prev_resp = resp;
		resp = NULL;
		prev = result;
		prev_taken = taken;
		if (err || (opts->count && ++n == opts->count))
			break;
		/* on the beat of the first sample; beats a slow answer missed are skipped */
		next += period;
		while (next < clock_seconds(CLOCK_MONOTONIC))
			next += period;
		wait_until(&sig, next);
	}
	/* a request cut short by the signal is the end asked for, not a failure */
	if (err && watch_stop)
		err = 0;
	if (err)
		ctl_report(ctx, &e);
	signals_restore(&sig);
	json_object_put(resp);
	json_object_put(prev_resp);
	return err ? 1 : 0;
}
