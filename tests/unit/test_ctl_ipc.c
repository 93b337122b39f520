// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmqctl against a fake vmqd: a thread on a temporary Unix socket answering
 * canned lines. Covers the line framing, the transport, the response
 * checks, the output of one command, and batch mode.
 */
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/un.h>
#include <time.h>

#include "vmq_test.h"
#include "linebuf.h"
#include "vmqctl/vmqctl.h"

#define WORDS_MAX 64

/* --- line framing --------------------------------------------------------- */

static void put(int fd, const char *s)
{
	assert_int_equal(write(fd, s, strlen(s)), (ssize_t)strlen(s));
}

static void test_linebuf_splits_and_joins(void **state)
{
	struct vmq_linebuf lb;
	int p[2];
	char *line;
	size_t len;

	(void)state;
	assert_int_equal(pipe(p), 0);
	vmq_linebuf_init(&lb, 64);
	put(p[1], "ab\ncd");
	assert_int_equal(vmq_linebuf_fill(&lb, p[0]), 5);
	assert_int_equal(vmq_linebuf_next(&lb, &line, &len), 1);
	assert_string_equal(line, "ab");
	assert_int_equal(len, 2);
	assert_int_equal(vmq_linebuf_next(&lb, &line, &len), 0);
	assert_int_equal(vmq_linebuf_pending(&lb), 2);
	put(p[1], "e\n\nf\n");
	assert_int_equal(vmq_linebuf_fill(&lb, p[0]), 5);
	assert_int_equal(vmq_linebuf_next(&lb, &line, &len), 1);
	assert_string_equal(line, "cde");
	assert_int_equal(vmq_linebuf_next(&lb, &line, &len), 1);
	assert_string_equal(line, "");
	assert_int_equal(vmq_linebuf_next(&lb, &line, &len), 1);
	assert_string_equal(line, "f");
	assert_int_equal(vmq_linebuf_next(&lb, &line, &len), 0);
	assert_int_equal(vmq_linebuf_pending(&lb), 0);
	close(p[1]);
	assert_int_equal(vmq_linebuf_fill(&lb, p[0]), 0); /* end of file */
	close(p[0]);
	vmq_linebuf_free(&lb);
}

/* max counts the newline: "abc\n" fits in 4, "abcd\n" does not, and a line
 * that already has max bytes without its newline fails before it ends. */
static void test_linebuf_cap(void **state)
{
	struct vmq_linebuf lb;
	int p[2];
	char *line;
	size_t len;

	(void)state;
	assert_int_equal(pipe(p), 0);
	vmq_linebuf_init(&lb, 4);
	put(p[1], "abc\n");
	assert_true(vmq_linebuf_fill(&lb, p[0]) > 0);
	assert_int_equal(vmq_linebuf_next(&lb, &line, &len), 1);
	assert_string_equal(line, "abc");
	put(p[1], "abcd\n");
	while (vmq_linebuf_next(&lb, &line, &len) == 0)
		assert_true(vmq_linebuf_fill(&lb, p[0]) > 0);
	assert_int_equal(vmq_linebuf_next(&lb, &line, &len), -EMSGSIZE);
	vmq_linebuf_free(&lb);
	close(p[0]);
	close(p[1]);
}

/* A line much longer than the first allocation arrives whole. */
static void test_linebuf_grows(void **state)
{
	static char big[50001];
	struct vmq_linebuf lb;
	int sv[2], got;
	char *line;
	size_t len;

	(void)state;
	memset(big, 'x', sizeof(big) - 1);
	big[sizeof(big) - 2] = '\n';
	assert_int_equal(socketpair(AF_UNIX, SOCK_STREAM, 0, sv), 0);
	put(sv[1], big);
	vmq_linebuf_init(&lb, VMQ_RESPONSE_MAX);
	while ((got = vmq_linebuf_next(&lb, &line, &len)) == 0)
		assert_true(vmq_linebuf_fill(&lb, sv[0]) > 0);
	assert_int_equal(got, 1);
	assert_int_equal(len, sizeof(big) - 2);
	vmq_linebuf_free(&lb);
	close(sv[0]);
	close(sv[1]);
}

/* --- the fake vmqd --------------------------------------------------------- */

struct fake;
/* The answer line to a request (without its newline); NULL: hang up. */
typedef const char *(*fake_answer_fn)(struct fake *f, struct json_object *req);

struct fake {
	char dir[96];
	char path[108];	 /* the socket */
	char batch[128]; /* a batch file for the test to write */
	int lfd;
	pthread_t thread;
	atomic_bool stop;
	fake_answer_fn answer;
	/* written by the server thread, read after fake_stop() */
	int connections;
	int requests;
	char last_request[1024];
	char log[16][512]; /* the first requests */
	/* for answers that depend on more than the request */
	const char *worst;     /* doctor's verdict */
	const char *canned;    /* answer_canned's answer to every request */
	int signal_at;	       /* request number that gets a signal sent... */
	bool signal_after;     /* ...after its answer rather than before */
	pthread_t main_thread; /* ...to this thread */
	char answer_buf[4096];
};

static const char *arg_str(struct json_object *req, const char *key)
{
	struct json_object *v;

	if (!json_object_object_get_ex(req, key, &v))
		return "";
	return json_object_get_string(v);
}

static int64_t arg_id(struct json_object *req)
{
	struct json_object *args, *id;

	if (!json_object_object_get_ex(req, "args", &args) ||
	    !json_object_object_get_ex(args, "id", &id))
		return -1;
	return json_object_get_int64(id);
}

#define QUEUE_17_ERROR "queue 17 on eth0: txq 9 out of range (eth0 has 8 TX queues)"

/* A well-behaved vmqd: queue 17 is the one that fails. */
static const char *answer_normal(struct fake *f, struct json_object *req)
{
	const char *object = arg_str(req, "object"), *command = arg_str(req, "command");

	(void)f;
	if (!strcmp(object, "daemon") && !strcmp(command, "ping"))
		return "{\"version\":1,\"ok\":true,\"result\":{\"version\":1,\"pid\":42}}";
	if (!strcmp(object, "queue") && !strcmp(command, "show"))
		return "{\"version\":1,\"ok\":true,\"result\":{\"queues\":[{\"dev\":\"eth0\","
		       "\"id\":7,\"txq\":3,\"vm\":\"web1\"}]}}";
	if (arg_id(req) == 17)
		return "{\"version\":1,\"ok\":false,\"error\":{\"errno\":34,\"message\":"
		       "\"" QUEUE_17_ERROR "\"}}";
	return "{\"version\":1,\"ok\":true,\"result\":{}}";
}

/* The same answer to every request, the test's f->canned (NULL: hang up). */
static const char *answer_canned(struct fake *f, struct json_object *req)
{
	(void)req;
	return f->canned;
}

/* --- doctor ---------------------------------------------------------------- */

/* doctor run: three checks, the verdict the test chose. */
static const char *answer_doctor(struct fake *f, struct json_object *req)
{
	(void)req;
	snprintf(f->answer_buf, sizeof(f->answer_buf),
		 "{\"version\":1,\"ok\":true,\"result\":{\"dev\":\"eth0\",\"checks\":["
		 "{\"name\":\"pins\",\"status\":\"PASS\",\"detail\":\"program and maps pinned and "
		 "attached\"},"
		 "{\"name\":\"xps\",\"status\":\"%s\",\"detail\":\"XPS on txq 3\"}],"
		 "\"worst\":\"%s\"}}",
		 f->worst, f->worst);
	return f->answer_buf;
}

/* A vmqd from before doctor. */
#define UNKNOWN_DOCTOR                                                                             \
	"{\"version\":1,\"ok\":false,\"error\":{\"errno\":22,\"message\":\"unknown "               \
	"object \\\"doctor\\\"\"}}"

/* --- stats, a little more every time --------------------------------------- */

/* Request n (1, 2, ...): queue 7 has sent 1000 n packets of 100 bytes, the
 * kernel's TX queue 3 twice as many; a signal goes
 * to the main thread at request signal_at. */
static const char *answer_stats(struct fake *f, struct json_object *req)
{
	long long n = f->requests;

	(void)req;
	if (f->signal_at == n && !f->signal_after)
		pthread_kill(f->main_thread, SIGINT);
	snprintf(f->answer_buf, sizeof(f->answer_buf),
		 "{\"version\":1,\"ok\":true,\"result\":{\"devs\":[{\"dev\":\"eth0\","
		 "\"queues\":[{\"id\":7,\"txq\":3,\"vm\":\"web1\",\"packets\":%lld,\"bytes\":%lld,"
		 "\"fallback_packets\":0,\"fallback_bytes\":0}],"
		 "\"txqs\":[{\"txq\":3,"
		 "\"kernel\":{\"packets\":%lld,\"bytes\":%lld},\"bql_inflight\":0}],"
		 "\"txq_counters\":\"mq\","
		 "\"kernel_choice\":{\"packets\":0,\"bytes\":0},"
		 "\"fallbacks\":{\"not_live\":{\"packets\":0,\"bytes\":0}}}]}}",
		 1000 * n, 100000 * n, 2000 * n, 200000 * n);
	return f->answer_buf;
}

/* Stats, until the third request: that device is gone. */
static const char *answer_stats_then_gone(struct fake *f, struct json_object *req)
{
	if (f->requests < 3)
		return answer_stats(f, req);
	return "{\"version\":1,\"ok\":false,\"error\":{\"errno\":19,\"message\":\"eth0: no "
	       "such device\"}}";
}

static void serve_connection(struct fake *f, int fd)
{
	struct vmq_linebuf lb;
	char *line;
	size_t len;
	int got;

	vmq_linebuf_init(&lb, VMQ_REQUEST_MAX);
	for (;;) {
		while ((got = vmq_linebuf_next(&lb, &line, &len)) == 1) {
			struct json_object *req = json_tokener_parse(line);
			const char *answer;

			if (f->requests < 16)
				snprintf(f->log[f->requests], sizeof(f->log[0]), "%s", line);
			f->requests++;
			snprintf(f->last_request, sizeof(f->last_request), "%s", line);
			answer = f->answer(f, req);
			json_object_put(req);
			if (!answer)
				goto out;
			/* MSG_NOSIGNAL: a client that already hung up (a watch
			 * stopped by its signal) must not kill the test with SIGPIPE. */
			if (send(fd, answer, strlen(answer), MSG_NOSIGNAL) < 0 ||
			    send(fd, "\n", 1, MSG_NOSIGNAL) < 0)
				goto out;
			if (f->signal_at == f->requests && f->signal_after)
				pthread_kill(f->main_thread, SIGTERM);
		}
		if (got < 0 || vmq_linebuf_fill(&lb, fd) <= 0)
			goto out;
	}
out:
	vmq_linebuf_free(&lb);
	close(fd);
}

static void *serve(void *arg)
{
	struct fake *f = arg;

	for (;;) {
		int fd = accept(f->lfd, NULL, NULL);

		if (fd < 0 || atomic_load(&f->stop)) {
			if (fd >= 0)
				close(fd);
			return NULL;
		}
		f->connections++;
		serve_connection(f, fd);
	}
}

/* Every fake daemon's directory lives under one per-run directory, which
 * the group teardown removes whole: also after a failed assertion. */
static char scratch[64];

static int scratch_make(void **state)
{
	(void)state;
	snprintf(scratch, sizeof(scratch), "/tmp/vmqctl-test-XXXXXX");
	return mkdtemp(scratch) ? 0 : -1;
}

static int scratch_remove(void **state)
{
	char cmd[96];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf -- '%s'", scratch);
	return system(cmd);
}

static void fake_start(struct fake *f, fake_answer_fn answer)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };

	memset(f, 0, sizeof(*f));
	f->answer = answer;
	f->main_thread = pthread_self();
	snprintf(f->dir, sizeof(f->dir), "%s/fake-XXXXXX", scratch);
	assert_non_null(mkdtemp(f->dir));
	snprintf(f->path, sizeof(f->path), "%s/vmqd.sock", f->dir);
	snprintf(f->batch, sizeof(f->batch), "%s/batch", f->dir);
	strcpy(addr.sun_path, f->path);
	f->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(f->lfd >= 0);
	assert_int_equal(bind(f->lfd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(listen(f->lfd, 8), 0);
	assert_int_equal(pthread_create(&f->thread, NULL, serve, f), 0);
}

/* Wakes the accept() with one last connection, then cleans up. */
static void fake_stop(struct fake *f)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	atomic_store(&f->stop, true);
	strcpy(addr.sun_path, f->path);
	assert_int_equal(connect(fd, (struct sockaddr *)&addr, sizeof(addr)), 0);
	assert_int_equal(pthread_join(f->thread, NULL), 0);
	close(fd);
	close(f->lfd);
	unlink(f->path);
	unlink(f->batch);
	assert_int_equal(rmdir(f->dir), 0);
}

/* --- running vmqctl --------------------------------------------------------- */

struct run {
	int status;
	char *out, *err;
};

/* "vmqctl -s SOCKET " + line; an "@" word becomes the fake's batch file. */
static void run(struct run *r, const struct fake *f, const char *line)
{
	char buf[1024], *words[WORDS_MAX], *argv[WORDS_MAX + 3];
	size_t olen, elen;
	FILE *out, *err;
	int n;

	snprintf(buf, sizeof(buf), "%s", line);
	n = ctl_split_words(buf, words, WORDS_MAX);
	assert_true(n >= 0);
	argv[0] = "vmqctl";
	argv[1] = "-s";
	argv[2] = (char *)f->path;
	for (int i = 0; i < n; i++)
		argv[3 + i] = strcmp(words[i], "@") ? words[i] : (char *)f->batch;
	out = open_memstream(&r->out, &olen);
	err = open_memstream(&r->err, &elen);
	r->status = ctl_main(n + 3, argv, out, err);
	fclose(out);
	fclose(err);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static void expect(const struct run *r, int status, const char *out, const char *err)
{
	if (r->status != status || strcmp(r->out, out) || strcmp(r->err, err))
		fail_msg("got status %d\nstdout: %s\nstderr: %s\nwant status %d\nstdout: "
			 "%s\nstderr: %s",
			 r->status, r->out, r->err, status, out, err);
}

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	assert_int_equal(fclose(f), 0);
}

/* One run of vmqctl and what it must print: a row of a test's table. */
struct step {
	const char *batch; /* written to the fake's batch file first, unless NULL */
	const char *line;  /* vmqctl's arguments, as run() takes them */
	int status;
	const char *out, *err;
};

/* Runs the steps in order against the fake F. */
static void run_steps(struct fake *f, const struct step *steps, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		struct run r;

		if (steps[i].batch)
			write_file(f->batch, steps[i].batch);
		run(&r, f, steps[i].line);
		expect(&r, steps[i].status, steps[i].out, steps[i].err);
		run_free(&r);
	}
}

#define RUN_STEPS(f, steps) run_steps((f), (steps), sizeof(steps) / sizeof((steps)[0]))

/* --- one command --------------------------------------------------------- */

static void test_show_text_and_json(void **state)
{
	static const struct step steps[] = {
		{ NULL, "queue show eth0", 0,
		  "DEV   ID  TARGET  VM    NAME  PLACED  OWNER\n"
		  "eth0   7  txq 3   web1  -     -       -\n",
		  "" },
		{ NULL, "-j q sh", 0,
		  "{\"queues\":[{\"dev\":\"eth0\",\"id\":7,\"txq\":3,\"vm\":\"web1\"}]}\n", "" },
		{ NULL, "daemon ping", 0, "vmqd pid 42, protocol version 1\n", "" },
	};
	struct fake f;

	(void)state;
	fake_start(&f, answer_normal);
	RUN_STEPS(&f, steps);
	fake_stop(&f);
	assert_int_equal(f.connections, 3);
	assert_int_equal(f.requests, 3);
}

/* What goes on the wire: one JSON object, one line. */
static void test_request_line(void **state)
{
	struct fake f;
	struct run r;

	(void)state;
	fake_start(&f, answer_normal);
	run(&r, &f, "queue add eth0 id 7 txq 3 vm web1");
	expect(&r, 0, "", ""); /* mutating: silent, like ip */
	run_free(&r);
	fake_stop(&f);
	assert_string_equal(
		f.last_request,
		"{\"version\":1,\"object\":\"queue\",\"command\":\"add\",\"args\":{\"dev\":"
		"\"eth0\",\"id\":7,\"txq\":3,\"vm\":\"web1\"}}");
}

static void test_mutating_json(void **state)
{
	struct fake f;
	struct run r;

	(void)state;
	fake_start(&f, answer_normal);
	run(&r, &f, "-j queue del eth0 id 7");
	expect(&r, 0, "{}\n", "");
	run_free(&r);
	fake_stop(&f);
}

static void test_daemon_error(void **state)
{
	static const struct step steps[] = {
		{ NULL, "queue add eth0 id 17 txq 9", 1, "", "vmqctl: " QUEUE_17_ERROR "\n" },
		{ NULL, "--json queue add eth0 id 17 txq 9", 1,
		  "{\"error\":{\"errno\":34,\"message\":\"" QUEUE_17_ERROR "\"}}\n", "" },
	};
	struct fake f;

	(void)state;
	fake_start(&f, answer_normal);
	RUN_STEPS(&f, steps);
	fake_stop(&f);
}

static void test_bad_answers(void **state)
{
	/* What a broken vmqd answers (NULL: it hangs up), what vmqctl says. */
	static const struct {
		const char *answer;
		const char *err;
	} cases[] = {
		{ "{\"version\":2,\"ok\":true,\"result\":{}}",
		  "vmqctl: vmqd speaks protocol version 2, vmqctl speaks 1\n" },
		{ "hello", NULL },
		{ "{\"version\":1,\"ok\":true,\"result\":{}} {}",
		  "vmqctl: malformed answer from vmqd: bytes after the JSON value\n" },
		{ "[1]", "vmqctl: malformed answer from vmqd: not a JSON object\n" },
		{ "{\"version\":1,\"ok\":true}",
		  "vmqctl: malformed answer from vmqd: no \"result\" object\n" },
		{ "{\"version\":1,\"ok\":false}",
		  "vmqctl: malformed answer from vmqd: a failure without \"error\": "
		  "{\"errno\", \"message\"}\n" },
		{ NULL, "vmqctl: vmqd closed the connection\n" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct fake f;
		struct run r;

		fake_start(&f, answer_canned);
		f.canned = cases[i].answer;
		run(&r, &f, "daemon ping");
		assert_int_equal(r.status, 1);
		assert_string_equal(r.out, "");
		if (cases[i].err)
			assert_string_equal(r.err, cases[i].err);
		else
			assert_non_null(strstr(r.err, "vmqctl: malformed answer from vmqd: "));
		run_free(&r);
		fake_stop(&f);
	}
}

/* --- batch --------------------------------------------------------------- */

#define FIVE_LINES                                                                                 \
	"# provisioning\n"                                                                         \
	"\n"                                                                                       \
	"queue add eth0 id 1 txq 1\n"                                                              \
	"   queue add\teth0 id 2 txq 1   \n"                                                       \
	"queue add eth0 id 17 txq 9\n"                                                             \
	"queue add eth0 id 3 txq 1\n"

static void test_batch_stops_at_first_error(void **state)
{
	struct fake f;
	struct run r;

	(void)state;
	fake_start(&f, answer_normal);
	write_file(f.batch, FIVE_LINES);
	run(&r, &f, "-b @");
	expect(&r, 1, "", "vmqctl: batch line 5: " QUEUE_17_ERROR "\n");
	run_free(&r);
	fake_stop(&f);
	/* line 6 was never sent; all went over one connection; lines 3 and 4
	 * were applied, so the state file is written */
	assert_int_equal(f.requests, 4);
	assert_int_equal(f.connections, 1);
	assert_string_equal(f.log[0],
			    "{\"version\":1,\"object\":\"queue\",\"command\":\"add\","
			    "\"args\":{\"dev\":\"eth0\",\"id\":1,\"txq\":1},\"sync\":false}");
	assert_non_null(strstr(f.log[2], "\"id\":17"));
	assert_string_equal(f.log[3], "{\"version\":1,\"object\":\"daemon\",\"command\":"
				      "\"sync\",\"args\":{}}");
}

static void test_batch_json(void **state)
{
	static const struct step steps[] = {
		/* results of show commands, in order */
		{ "queue show\ndaemon ping\n", "-j -b @", 0,
		  "[{\"queues\":[{\"dev\":\"eth0\",\"id\":7,\"txq\":3,\"vm\":\"web1\"}]},"
		  "{\"version\":1,\"pid\":42}]\n",
		  "" },
		{ NULL, "-b @", 0,
		  "DEV   ID  TARGET  VM    NAME  PLACED  OWNER\n"
		  "eth0   7  txq 3   web1  -     -       -\n"
		  "vmqd pid 42, protocol version 1\n",
		  "" },
	};
	struct json_object *arr, *last;
	struct fake f;
	struct run r;

	(void)state;
	fake_start(&f, answer_normal);
	write_file(f.batch, FIVE_LINES);
	run(&r, &f, "-j -b @");
	expect(&r, 1,
	       "[{},{},{\"error\":{\"errno\":34,\"message\":\"" QUEUE_17_ERROR "\",\"line\":5}}]\n",
	       "");
	arr = json_tokener_parse(r.out);
	assert_true(json_object_is_type(arr, json_type_array));
	last = json_object_array_get_idx(arr, 2);
	assert_true(json_object_object_get_ex(last, "error", NULL));
	json_object_put(arr);
	run_free(&r);

	RUN_STEPS(&f, steps);

	/* an empty batch is an empty array */
	write_file(f.batch, "# nothing\n");
	run(&r, &f, "-j -b @");
	expect(&r, 0, "[]\n", "");
	run_free(&r);
	fake_stop(&f);
}

static void test_batch_parse_error_names_line(void **state)
{
	static const struct step steps[] = {
		{ "queue add eth0 id 1 txq 1\n"
		  "queue add eth0 id 12abc txq 1\n"
		  "queue add eth0 id 2 txq 1\n",
		  "-b @", 1, "", "vmqctl: batch line 2: queue add: id \"12abc\": not a number\n" },
		{ "help\n", "-b @", 1, "", "vmqctl: batch line 1: help is not a batch command\n" },
		{ "vmqctl queue show\n", "-j -b @", 1,
		  "[{\"error\":{\"errno\":22,\"message\":\"unknown object \\\"vmqctl\\\" (try "
		  "\\\"vmqctl help\\\")\",\"line\":1}}]\n",
		  "" },
	};
	struct fake f;

	(void)state;
	fake_start(&f, answer_normal);
	RUN_STEPS(&f, steps);
	fake_stop(&f);
	assert_int_equal(f.requests, 2); /* line 1, then daemon sync */
	;
}

static void test_batch_cannot_start(void **state)
{
	static const struct step steps[] = {
		{ NULL, "-b /nonexistent/batch", 1, "",
		  "vmqctl: cannot open /nonexistent/batch: No such file or directory\n" },
		{ NULL, "-j -b /nonexistent/batch", 1,
		  "[{\"error\":{\"errno\":2,\"message\":\"cannot open /nonexistent/batch: No such "
		  "file or directory\"}}]\n",
		  "" },
	};
	struct fake f;

	(void)state;
	fake_start(&f, answer_normal);
	RUN_STEPS(&f, steps);
	fake_stop(&f);
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* The requirement: 4096 "queue add" lines well under 2 s. */
static void test_batch_4096_lines(void **state)
{
	struct fake f;
	struct run r;
	double t0, elapsed;
	FILE *file;

	(void)state;
	fake_start(&f, answer_normal);
	file = fopen(f.batch, "w");
	assert_non_null(file);
	for (int id = 1000; id < 1000 + 4096; id++)
		fprintf(file, "queue add eth0 id %d txq %d vm vm%d name q%d\n", id, id % 8, id, id);
	assert_int_equal(fclose(file), 0);
	t0 = now();
	run(&r, &f, "-b @");
	elapsed = now() - t0;
	expect(&r, 0, "", "");
	run_free(&r);
	fake_stop(&f);
	assert_int_equal(f.requests, 4096 + 1); /* and one daemon sync */
	assert_int_equal(f.connections, 1);
	print_message("4096 lines in %.3f s (sanitized build, fake vmqd)\n", elapsed);
	assert_true(elapsed < 2.0);
}

static void test_batch_stdin(void **state)
{
	struct fake f;
	struct run r;
	int saved, fd;

	(void)state;
	fake_start(&f, answer_normal);
	write_file(f.batch, "queue add eth0 id 1 txq 1\nqueue add eth0 id 2 txq 1\n");
	saved = dup(STDIN_FILENO);
	fd = open(f.batch, O_RDONLY);
	assert_true(saved >= 0 && fd >= 0);
	assert_int_equal(dup2(fd, STDIN_FILENO), STDIN_FILENO);
	close(fd);
	run(&r, &f, "-b -");
	assert_int_equal(dup2(saved, STDIN_FILENO), STDIN_FILENO);
	close(saved);
	clearerr(stdin);
	expect(&r, 0, "", "");
	run_free(&r);
	fake_stop(&f);
	assert_int_equal(f.requests, 3);
}

/* --- doctor --------------------------------------------------------------- */

static void test_doctor_exit_status(void **state)
{
	static const struct {
		const char *worst;
		int status;
	} cases[] = { { "PASS", 0 }, { "WARN", 2 }, { "FAIL", 1 } };

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char want[512];
		struct fake f;
		struct run r;

		fake_start(&f, answer_doctor);
		f.worst = cases[i].worst;
		run(&r, &f, "doctor eth0");
		snprintf(want, sizeof(want),
			 "PASS  pins  program and maps pinned and attached\n"
			 "%s  xps   XPS on txq 3\n"
			 "eth0: %s (2 checks: %d PASS, %d WARN, %d FAIL)\n",
			 cases[i].worst, cases[i].worst, 1 + (i == 0), i == 1, i == 2);
		expect(&r, cases[i].status, want, "");
		run_free(&r);
		/* -j: the result as it came, and the same status */
		run(&r, &f, "-j doctor run eth0");
		snprintf(want, sizeof(want),
			 "{\"dev\":\"eth0\",\"checks\":[{\"name\":\"pins\",\"status\":\"PASS\","
			 "\"detail\":\"program and maps pinned and attached\"},{\"name\":\"xps\","
			 "\"status\":\"%s\",\"detail\":\"XPS on txq 3\"}],\"worst\":\"%s\"}\n",
			 cases[i].worst, cases[i].worst);
		expect(&r, cases[i].status, want, "");
		run_free(&r);
		fake_stop(&f);
		assert_string_equal(f.last_request,
				    "{\"version\":1,\"object\":\"doctor\",\"command\":\"run\","
				    "\"args\":{\"dev\":\"eth0\"}}");
	}
}

static void test_doctor_errors(void **state)
{
	static const struct step steps[] = {
		{ NULL, "doctor eth0", 1, "",
		  "vmqctl: malformed answer from vmqd: doctor's \"worst\" is not PASS, WARN or "
		  "FAIL\n" },
		{ NULL, "-j doctor eth0", 1,
		  "{\"error\":{\"errno\":71,\"message\":\"malformed answer from vmqd: doctor's "
		  "\\\"worst\\\" is not PASS, WARN or FAIL\"}}\n",
		  "" },
		/* no DEV: a usage error, nothing sent */
		{ NULL, "doctor", 1, "", "vmqctl: doctor run: missing DEV\n" },
	};
	struct fake f;
	struct run r;

	(void)state;
	/* a verdict vmqctl does not know: an error, not a pass */
	fake_start(&f, answer_doctor);
	f.worst = "MAYBE";
	RUN_STEPS(&f, steps);
	fake_stop(&f);
	assert_int_equal(f.requests, 2);
	/* a vmqd from before doctor */
	fake_start(&f, answer_canned);
	f.canned = UNKNOWN_DOCTOR;
	run(&r, &f, "doctor eth0");
	expect(&r, 1, "", "vmqctl: unknown object \"doctor\"\n");
	run_free(&r);
	fake_stop(&f);
}

/* In a batch the verdict is printed but is no error: the batch goes on. */
static void test_doctor_in_batch(void **state)
{
	struct fake f;
	struct run r;

	(void)state;
	fake_start(&f, answer_doctor);
	f.worst = "FAIL";
	write_file(f.batch, "doctor eth0\ndoctor eth0\n");
	run(&r, &f, "-b @");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "eth0: FAIL (2 checks"));
	run_free(&r);
	fake_stop(&f);
	assert_int_equal(f.requests, 3);
}

/* --- stats --watch ---------------------------------------------------------- */

static struct json_object *member(struct json_object *obj, const char *path)
{
	char buf[128], *save = NULL;

	snprintf(buf, sizeof(buf), "%s", path);
	for (char *k = strtok_r(buf, ".", &save); k && obj; k = strtok_r(NULL, ".", &save)) {
		if (*k >= '0' && *k <= '9')
			obj = json_object_array_get_idx(obj, (size_t)atoi(k));
		else if (!json_object_object_get_ex(obj, k, &obj))
			obj = NULL;
	}
	return obj;
}

static double number(struct json_object *sample, const char *path)
{
	struct json_object *v = member(sample, path);

	if (!v ||
	    !(json_object_is_type(v, json_type_double) || json_object_is_type(v, json_type_int)))
		fail_msg("no number at %s in %s", path, json_object_to_json_string(sample));
	return json_object_get_double(v);
}

/* Lines of -j output, each one JSON object. */
static int json_lines(const char *out, struct json_object **lines, int max)
{
	const char *p = out;
	int n = 0;

	while (*p) {
		const char *nl = strchr(p, '\n');
		char *line;

		assert_non_null(nl);
		assert_true(n < max);
		line = strndup(p, (size_t)(nl - p));
		lines[n] = json_tokener_parse(line);
		if (!lines[n] || !json_object_is_type(lines[n], json_type_object))
			fail_msg("not a JSON object: %s", line);
		free(line);
		n++;
		p = nl + 1;
	}
	return n;
}

static void test_watch_json(void **state)
{
	struct json_object *lines[8];
	double t0 = now(), elapsed;
	struct fake f;
	struct run r;
	int n;

	(void)state;
	fake_start(&f, answer_stats);
	run(&r, &f, "-j -w 0.1 -c 3 stats eth0");
	elapsed = now() - t0;
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	n = json_lines(r.out, lines, 8);
	assert_int_equal(n, 3);
	/* the first: counters only, "interval" null */
	assert_true(number(lines[0], "time") > 1e9);
	assert_true(json_object_is_type(member(lines[0], "interval"), json_type_null));
	assert_null(member(lines[0], "devs.0.queues.0.packets_per_s"));
	assert_int_equal(number(lines[0], "devs.0.queues.0.packets"), 1000);
	for (int i = 1; i < n; i++) {
		double iv = number(lines[i], "interval");

		/* about 0.1 s apart, by the clock of each sample */
		assert_true(iv > 0.09 && iv < 1.0);
		assert_true(number(lines[i], "time") > number(lines[i - 1], "time"));
		/* rates from the deltas over the measured interval (3 decimals) */
		assert_float_equal(number(lines[i], "devs.0.queues.0.packets_per_s"), 1000 / iv,
				   1000 / iv * 0.01);
		assert_float_equal(number(lines[i], "devs.0.queues.0.bytes_per_s"), 100000 / iv,
				   100000 / iv * 0.01);
		assert_float_equal(number(lines[i], "devs.0.queues.0.fallback_packets_per_s"), 0,
				   0.0001);
		assert_null(member(lines[i], "devs.0.txqs.0.packets_per_s"));
		assert_float_equal(number(lines[i], "devs.0.txqs.0.kernel_packets_per_s"),
				   2000 / iv, 2000 / iv * 0.01);
		assert_float_equal(number(lines[i], "devs.0.txqs.0.kernel_bytes_per_s"),
				   200000 / iv, 200000 / iv * 0.01);
		assert_float_equal(number(lines[i], "devs.0.kernel_choice.packets_per_s"), 0,
				   0.0001);
		/* everything else as vmqd sent it */
		assert_int_equal(number(lines[i], "devs.0.queues.0.packets"), 1000 * (i + 1));
		assert_int_equal(number(lines[i], "devs.0.txqs.0.bql_inflight"), 0);
	}
	for (int i = 0; i < n; i++)
		json_object_put(lines[i]);
	run_free(&r);
	fake_stop(&f);
	/* one connection, one request per sample, and no sleeping after the last */
	assert_int_equal(f.connections, 1);
	assert_int_equal(f.requests, 3);
	assert_true(elapsed >= 0.19 && elapsed < 1.5);
	assert_string_equal(f.last_request, "{\"version\":1,\"object\":\"stats\",\"command\":"
					    "\"show\",\"args\":{\"dev\":\"eth0\"}}");
}

static void test_watch_text(void **state)
{
	const char *second;
	struct fake f;
	struct run r;

	(void)state;
	fake_start(&f, answer_stats);
	run(&r, &f, "-w 0.1 -c 2 stats");
	assert_int_equal(r.status, 0);
	assert_string_equal(r.err, "");
	/* not a terminal: no escape sequences; samples a blank line apart */
	assert_null(strchr(r.out, '\033'));
	assert_non_null(strstr(r.out, "  every 0.1 s, totals (rates from the next sample on)\n"
				      "dev eth0\n"
				      "  ID  VM    TARGET  PACKETS   BYTES  FALLBACKS\n"
				      "   7  web1  txq 3      1000  100000          0\n"));
	second = strstr(r.out, "\n\n20");
	if (!second)
		fail_msg("no second sample:\n%s", r.out);
	assert_non_null(strstr(second, "  every 0.1 s, rates over the last 0."));
	assert_non_null(strstr(second, "  ID  VM    TARGET  PKTS/S"));
	assert_non_null(strstr(second, "  TXQ  KERNEL PKTS/S"));
	if (!strstr(second, "  UNSTEERED          PKTS/S  BYTES/S\n"
			    "  kernel choice         0.0      0.0\n"
			    "  fallback not_live     0.0      0.0\n"))
		fail_msg("second sample:\n%s", second);
	run_free(&r);
	fake_stop(&f);
	assert_int_equal(f.connections, 1);
	assert_int_equal(f.requests, 2);
}

/* SIGINT during a request, SIGTERM during the wait: exit 0, whole lines. */
static void test_watch_signals(void **state)
{
	static const struct {
		bool after;
		int min_lines, max_lines;
	} cases[] = {
		/* the answer may or may not beat the shutdown */
		{ false, 1, 2 },
		{ true, 2, 2 },
	};
	struct sigaction dfl = { .sa_handler = SIG_DFL };

	(void)state;
	/* A test run as a background job of a shell without job control starts with SIGINT
	 * ignored, and vmqctl rightly keeps it so (test_watch_keeps_ignored_sigint): this
	 * test is about signals that are caught. */
	assert_int_equal(sigaction(SIGINT, &dfl, NULL), 0);
	assert_int_equal(sigaction(SIGTERM, &dfl, NULL), 0);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct json_object *lines[8];
		struct sigaction sa;
		double t0 = now();
		struct fake f;
		struct run r;
		int n;

		fake_start(&f, answer_stats);
		f.signal_at = 2;
		f.signal_after = cases[i].after;
		/* no --count: only the signal ends it */
		run(&r, &f, "-j -w 0.1 stats eth0");
		assert_int_equal(r.status, 0);
		assert_string_equal(r.err, "");
		n = json_lines(r.out, lines, 8);
		if (n < cases[i].min_lines || n > cases[i].max_lines)
			fail_msg("%d lines:\n%s", n, r.out);
		for (int j = 0; j < n; j++)
			json_object_put(lines[j]);
		run_free(&r);
		fake_stop(&f);
		assert_true(now() - t0 < 2.0);
		assert_int_equal(f.requests, 2);
		/* and the handlers are gone again */
		assert_int_equal(sigaction(SIGINT, NULL, &sa), 0);
		assert_true(sa.sa_handler == SIG_DFL);
		assert_int_equal(sigaction(SIGTERM, NULL, &sa), 0);
		assert_true(sa.sa_handler == SIG_DFL);
	}
}

/* A SIGINT ignored from the start (a script's background job) stays so. */
static void test_watch_keeps_ignored_sigint(void **state)
{
	struct json_object *lines[8];
	struct sigaction ign = { .sa_handler = SIG_IGN }, sa;
	struct fake f;
	struct run r;

	(void)state;
	sigemptyset(&ign.sa_mask);
	assert_int_equal(sigaction(SIGINT, &ign, NULL), 0);
	fake_start(&f, answer_stats);
	f.signal_at = 2;
	run(&r, &f, "-j -w 0.1 -c 3 stats eth0");
	assert_int_equal(r.status, 0);
	assert_int_equal(json_lines(r.out, lines, 8), 3);
	for (int j = 0; j < 3; j++)
		json_object_put(lines[j]);
	run_free(&r);
	fake_stop(&f);
	assert_int_equal(sigaction(SIGINT, NULL, &sa), 0);
	assert_true(sa.sa_handler == SIG_IGN);
	ign.sa_handler = SIG_DFL;
	assert_int_equal(sigaction(SIGINT, &ign, NULL), 0);
}

/* vmqd refusing mid-watch ends it: exit 1, the error after the samples. */
static void test_watch_error(void **state)
{
	struct fake f;
	struct run r;

	(void)state;
	fake_start(&f, answer_stats_then_gone);
	run(&r, &f, "-w 0.1 -c 10 stats eth0");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.err, "vmqctl: eth0: no such device\n");
	run_free(&r);
	fake_stop(&f);
	fake_start(&f, answer_stats_then_gone);
	run(&r, &f, "-j -w 0.1 -c 10 stats eth0");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.err, "");
	assert_non_null(strstr(r.out, "\n{\"error\":{\"errno\":19,\"message\":\"eth0: no such "
				      "device\"}}\n"));
	run_free(&r);
	fake_stop(&f);
}

/* --- automatic allocation, save, apply -------------------------------------- */

#define OK(result) "{\"version\":1,\"ok\":true,\"result\":" result "}"

/* What a vmqd with queue 5 and vnet0 on eth0, and eth1 not there yet, says. */
#define SAVED                                                                                      \
	"{\"requests\":["                                                                          \
	"{\"object\":\"dev\",\"command\":\"attach\",\"args\":{\"dev\":\"eth0\","                   \
	"\"default_txq\":\"auto\",\"mark_mask\":65535,\"queues\":4096}},"                          \
	"{\"object\":\"queue\",\"command\":\"add\",\"args\":{\"dev\":\"eth0\",\"id\":5,"           \
	"\"txq\":3,\"vm\":\"web\",\"placement\":\"auto\",\"owner\":\"port\"}},"                    \
	"{\"object\":\"dev\",\"command\":\"attach\",\"args\":{\"dev\":\"eth1\"},"                  \
	"\"pending\":true},"                                                                       \
	"{\"object\":\"port\",\"command\":\"bind\",\"args\":{\"port\":\"vnet0\",\"dev\":\"eth0\"," \
	"\"queue\":5}}]}"

#define SAVED_LINES                                                                                \
	"dev attach eth0 default-txq auto mark-mask 0xffff queues 4096\n"                          \
	"queue add eth0 id 5 txq 3 vm web placement auto owner port\n"                             \
	"# pending: waits for its device to appear\n"                                              \
	"dev attach eth1\n"                                                                        \
	"port bind vnet0 dev eth0 queue 5\n"

static const char *args_member(struct json_object *req, const char *key)
{
	struct json_object *args;

	if (!json_object_object_get_ex(req, "args", &args))
		return "";
	return arg_str(args, key);
}

/* A vmqd from before daemon save and sync. */
static const char *answer_old_vmqd(struct fake *f, struct json_object *req)
{
	if (!strcmp(arg_str(req, "object"), "daemon") && strcmp(arg_str(req, "command"), "ping"))
		return "{\"version\":1,\"ok\":false,\"error\":{\"errno\":22,\"message\":"
		       "\"daemon: unknown command \\\"sync\\\"\"}}";
	return answer_normal(f, req);
}

/* vmqd with the state above, choosing queue 5 on TX queue 3 for an "auto"
 * queue, queue 6 on TX queue 2 for a port's; queue 17 fails as always. */
static const char *answer_state(struct fake *f, struct json_object *req)
{
	const char *object = arg_str(req, "object"), *command = arg_str(req, "command");

	(void)f;
	if (!strcmp(object, "daemon") && !strcmp(command, "save"))
		return OK(SAVED);
	if (!strcmp(object, "queue") && !strcmp(command, "add") &&
	    !strcmp(args_member(req, "id"), "auto"))
		return OK("{\"id\":5,\"txq\":3}");
	if (!strcmp(object, "port") && !strcmp(command, "bind") &&
	    !strcmp(args_member(req, "queue"), "auto"))
		return OK("{\"queue\":6,\"txq\":2}");
	if (!strcmp(object, "port") && !strcmp(command, "unbind"))
		return OK("{\"freed_queue\":6}");
	if (!strcmp(object, "queue") && !strcmp(command, "set"))
		return OK("{\"txq\":2}");
	if (!strcmp(object, "dev") && !strcmp(command, "set"))
		return OK("{\"bound\":[\"vnet0\",\"vnet1\"]}");
	return answer_normal(f, req);
}

static void test_auto_results(void **state)
{
	static const struct step steps[] = {
		{ NULL, "-j queue add eth0 id auto txq any", 0, "{\"id\":5,\"txq\":3}\n", "" },
		{ NULL, "port bind vnet0 dev eth0 queue auto vm web", 0,
		  "vnet0: queue 6 on eth0, txq 2\n", "" },
		{ NULL, "-j port bind vnet0 dev eth0 queue auto", 0, "{\"queue\":6,\"txq\":2}\n",
		  "" },
		{ NULL, "port unbind vnet0", 0, "freed queue 6\n", "" },
		/* no choice left to vmqd: silent, like ip */
		{ NULL, "port bind vnet0 dev eth0 queue 7", 0, "", "" },
		{ NULL, "port bind vnet0 dev eth0 queue 7 txq 1", 1, "",
		  "vmqctl: port bind: \"txq\" only with \"queue auto\"\n" },
		{ NULL, "queue set eth0 id 7 txq any", 0, "queue 7 on eth0: txq 2\n", "" },
		{ NULL, "queue set eth0 id 7 txq 1", 0, "", "" },
		{ NULL, "dev set eth0 ports vnet*", 0, "bound vnet0 to eth0\nbound vnet1 to eth0\n",
		  "" },
		{ NULL, "dev set eth0 ports none", 0, "bound vnet0 to eth0\nbound vnet1 to eth0\n",
		  "" },
	};
	struct fake f;
	struct run r;

	(void)state;
	fake_start(&f, answer_state);
	run(&r, &f, "queue add eth0 id auto txq any vm web");
	expect(&r, 0, "queue 5 on eth0: txq 3\n", "");
	run_free(&r);
	assert_string_equal(f.last_request,
			    "{\"version\":1,\"object\":\"queue\",\"command\":\"add\",\"args\":{"
			    "\"dev\":\"eth0\",\"id\":\"auto\",\"txq\":\"any\",\"vm\":\"web\"}}");
	RUN_STEPS(&f, steps);
	assert_string_equal(f.last_request,
			    "{\"version\":1,\"object\":\"dev\",\"command\":\"set\",\"args\":{"
			    "\"dev\":\"eth0\",\"ports\":\"\"}}");
	fake_stop(&f);
	assert_int_equal(f.requests, 10);
}

static void test_save(void **state)
{
	static const struct step steps[] = {
		{ NULL, "save", 0, SAVED_LINES, "" },
		{ NULL, "daemon save", 0, SAVED_LINES, "" },
		{ NULL, "-j save", 0,
		  "{\"requests\":[{\"object\":\"dev\",\"command\":\"attach\",\"args\":{\"dev\":"
		  "\"eth0\",\"default_txq\":\"auto\",\"mark_mask\":65535,\"queues\":4096}},"
		  "{\"object\":\"queue\",\"command\":\"add\",\"args\":{\"dev\":\"eth0\",\"id\":5,"
		  "\"txq\":3,\"vm\":\"web\",\"placement\":\"auto\",\"owner\":\"port\"}},"
		  "{\"object\":\"dev\",\"command\":\"attach\",\"args\":{\"dev\":\"eth1\"},"
		  "\"pending\":true},"
		  "{\"object\":\"port\",\"command\":\"bind\",\"args\":{\"port\":\"vnet0\",\"dev\":"
		  "\"eth0\",\"queue\":5}}]}\n",
		  "" },
		/* in a batch, save and apply are not commands */
		{ "save\n", "-b @", 1, "", "vmqctl: batch line 1: save is not a batch command\n" },
	};
	struct fake f;

	(void)state;
	fake_start(&f, answer_state);
	RUN_STEPS(&f, steps);
	fake_stop(&f);
	assert_int_equal(f.requests, 3);
}

/* A "daemon sync" line of a batch is not "sync": false; a vmqd that does
 * not know daemon sync (it has no state file) is no failure. */
static void test_batch_sync_edges(void **state)
{
	struct fake f;
	struct run r;

	(void)state;
	fake_start(&f, answer_normal);
	write_file(f.batch, "daemon sync\n");
	run(&r, &f, "-b @");
	expect(&r, 0, "", "");
	run_free(&r);
	fake_stop(&f);
	assert_int_equal(f.requests, 2);
	assert_string_equal(f.log[0], "{\"version\":1,\"object\":\"daemon\",\"command\":"
				      "\"sync\",\"args\":{}}");
	fake_start(&f, answer_old_vmqd);
	write_file(f.batch, "queue add eth0 id 1 txq 1\n");
	run(&r, &f, "-b @");
	expect(&r, 0, "", "");
	run_free(&r);
	fake_stop(&f);
	assert_int_equal(f.requests, 2);
}

/* vmqctl save | vmqctl apply --dry-run -: nothing to do. */
static void test_apply_no_change(void **state)
{
	static const struct step steps[] = {
		{ SAVED_LINES, "apply --dry-run @", 0, "# no change\n", "" },
		{ NULL, "apply @ --prune --dry-run", 0, "# no change\n", "" },
		{ NULL, "-j apply --dry-run @", 0, "{\"steps\":[],\"kept\":0}\n", "" },
		/* for real: nothing sent but daemon save, not even a sync */
		{ NULL, "apply @", 0, "", "" },
	};
	struct fake f;

	(void)state;
	fake_start(&f, answer_state);
	RUN_STEPS(&f, steps);
	fake_stop(&f);
	assert_int_equal(f.requests, 4);
	assert_string_equal(
		f.last_request,
		"{\"version\":1,\"object\":\"daemon\",\"command\":\"save\",\"args\":{}}");
}

static void test_apply_runs_plan(void **state)
{
	static const struct step steps[] = {
		{ "dev attach eth0\n"
		  "port bind vnet9 dev eth0 queue 9\n"
		  "queue add eth0 id 9 txq 1 vm db\n",
		  "apply --dry-run @", 0,
		  "queue add eth0 id 9 txq 1 vm db\n"
		  "port bind vnet9 dev eth0 queue 9\n"
		  "# kept: 3 objects vmqd has and FILE lacks (--prune removes them)\n",
		  "" },
		{ NULL, "apply --prune --dry-run @", 0,
		  "port unbind vnet0\n"
		  "dev detach eth1\n"
		  "queue add eth0 id 9 txq 1 vm db\n"
		  "port bind vnet9 dev eth0 queue 9\n",
		  "" },
		{ NULL, "-j apply --dry-run @", 0,
		  "{\"steps\":[{\"op\":\"add\",\"line\":\"queue add eth0 id 9 txq 1 vm db\","
		  "\"request\":{\"object\":\"queue\",\"command\":\"add\",\"args\":{\"dev\":"
		  "\"eth0\","
		  "\"id\":9,\"txq\":1,\"vm\":\"db\"}}},{\"op\":\"add\",\"line\":\"port bind vnet9 "
		  "dev eth0 queue 9\",\"request\":{\"object\":\"port\",\"command\":\"bind\","
		  "\"args\":{\"port\":\"vnet9\",\"dev\":\"eth0\",\"queue\":9}}}],\"kept\":3}\n",
		  "" },
	};
	struct fake f;
	struct run r;

	(void)state;
	fake_start(&f, answer_state);
	RUN_STEPS(&f, steps);
	fake_stop(&f);
	assert_int_equal(f.requests, 3); /* daemon save, three times */

	/* for real: one connection, "sync": false, one daemon sync at the end */
	fake_start(&f, answer_state);
	write_file(f.batch, "dev attach eth0\n"
			    "port bind vnet9 dev eth0 queue 9\n"
			    "queue add eth0 id 9 txq 1 vm db\n");
	run(&r, &f, "apply @");
	expect(&r, 0, "", "");
	run_free(&r);
	fake_stop(&f);
	assert_int_equal(f.connections, 1);
	assert_int_equal(f.requests, 4);
	assert_string_equal(f.log[1],
			    "{\"version\":1,\"object\":\"queue\",\"command\":\"add\","
			    "\"args\":{\"dev\":\"eth0\",\"id\":9,\"txq\":1,\"vm\":\"db\"},"
			    "\"sync\":false}");
	assert_string_equal(f.log[2], "{\"version\":1,\"object\":\"port\",\"command\":\"bind\","
				      "\"args\":{\"port\":\"vnet9\",\"dev\":\"eth0\",\"queue\":9},"
				      "\"sync\":false}");
	assert_string_equal(f.log[3], "{\"version\":1,\"object\":\"daemon\",\"command\":\"sync\","
				      "\"args\":{}}");
}

static void test_apply_errors(void **state)
{
	struct fake f;
	struct run r;

	(void)state;
	fake_start(&f, answer_state);
	/* a bad line: nothing sent at all */
	write_file(f.batch, "dev attach eth0\nqueue add eth0 id x txq 1\n");
	run(&r, &f, "apply @");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_non_null(strstr(r.err, "/batch:2: queue add: id \"x\": not a number or \"auto\"\n"));
	run_free(&r);
	run(&r, &f, "apply /nonexistent/state");
	expect(&r, 1, "",
	       "vmqctl: apply: cannot open /nonexistent/state: No such file or directory\n");
	run_free(&r);
	write_file(f.batch, "# state\nqueue del eth0 id 5\n");
	run(&r, &f, "apply --dry-run @");
	assert_int_equal(r.status, 1);
	assert_non_null(strstr(r.err, "/batch:2: \"queue del\": not a state line"));
	run_free(&r);
	assert_int_equal(f.requests, 1); /* the last one's daemon save */
	/* the second step fails: named, the first is kept and synced */
	write_file(f.batch, SAVED_LINES "queue add eth0 id 16 txq 1\nqueue add eth0 id 17 txq 9\n");
	run(&r, &f, "apply @");
	expect(&r, 1, "",
	       "vmqctl: apply: step 2 of 2 (queue add eth0 id 17 txq 9): " QUEUE_17_ERROR "\n");
	run_free(&r);
	fake_stop(&f);
	assert_int_equal(f.requests, 1 + 4);
	assert_string_equal(
		f.last_request,
		"{\"version\":1,\"object\":\"daemon\",\"command\":\"sync\",\"args\":{}}");
}

/* -s PATH, else $VMQ_SOCKET when set and not empty, else the default. */
static void test_socket_path(void **state)
{
	char *argv[] = { "vmqctl", "daemon", "ping" };
	size_t olen, elen;
	char *out_text, *err_text;
	FILE *out, *err;
	struct fake f;
	struct run r;
	int status;

	(void)state;
	unsetenv("VMQ_SOCKET");
	assert_string_equal(ctl_socket_path(NULL), VMQ_SOCKET_DEFAULT);
	assert_string_equal(ctl_socket_path("/x.sock"), "/x.sock");
	setenv("VMQ_SOCKET", "", 1);
	assert_string_equal(ctl_socket_path(NULL), VMQ_SOCKET_DEFAULT);
	setenv("VMQ_SOCKET", "/env.sock", 1);
	assert_string_equal(ctl_socket_path(NULL), "/env.sock");
	assert_string_equal(ctl_socket_path("/x.sock"), "/x.sock");

	fake_start(&f, answer_normal);
	setenv("VMQ_SOCKET", f.path, 1);
	out = open_memstream(&out_text, &olen);
	err = open_memstream(&err_text, &elen);
	status = ctl_main(3, argv, out, err);
	fclose(out);
	fclose(err);
	assert_int_equal(status, 0);
	assert_string_equal(out_text, "vmqd pid 42, protocol version 1\n");
	free(out_text);
	free(err_text);
	/* -s wins over the environment */
	setenv("VMQ_SOCKET", "/nonexistent/vmqd.sock", 1);
	run(&r, &f, "daemon ping");
	expect(&r, 0, "vmqd pid 42, protocol version 1\n", "");
	run_free(&r);
	unsetenv("VMQ_SOCKET");
	fake_stop(&f);
	assert_int_equal(f.requests, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_linebuf_splits_and_joins),
		cmocka_unit_test(test_linebuf_cap),
		cmocka_unit_test(test_linebuf_grows),
		cmocka_unit_test(test_show_text_and_json),
		cmocka_unit_test(test_request_line),
		cmocka_unit_test(test_mutating_json),
		cmocka_unit_test(test_daemon_error),
		cmocka_unit_test(test_bad_answers),
		cmocka_unit_test(test_batch_stops_at_first_error),
		cmocka_unit_test(test_batch_json),
		cmocka_unit_test(test_batch_parse_error_names_line),
		cmocka_unit_test(test_batch_cannot_start),
		cmocka_unit_test(test_batch_4096_lines),
		cmocka_unit_test(test_batch_stdin),
		cmocka_unit_test(test_doctor_exit_status),
		cmocka_unit_test(test_doctor_errors),
		cmocka_unit_test(test_doctor_in_batch),
		cmocka_unit_test(test_watch_json),
		cmocka_unit_test(test_watch_text),
		cmocka_unit_test(test_watch_signals),
		cmocka_unit_test(test_watch_keeps_ignored_sigint),
		cmocka_unit_test(test_watch_error),
		cmocka_unit_test(test_auto_results),
		cmocka_unit_test(test_save),
		cmocka_unit_test(test_batch_sync_edges),
		cmocka_unit_test(test_apply_no_change),
		cmocka_unit_test(test_apply_runs_plan),
		cmocka_unit_test(test_apply_errors),
		cmocka_unit_test(test_socket_path),
	};

	return cmocka_run_group_tests(tests, scratch_make, scratch_remove);
}
