// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vmqctl without a daemon: argv to request, the errors, help, the printers. */
#include "vmq_test.h"
#include "vmqctl/show.h"
#include "vmqctl/vmqctl.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))
#define WORDS_MAX     64

/* A command line as a test writes it, split like a batch line. */
struct words {
	char buf[1024];
	char *argv[WORDS_MAX];
	int argc;
};

static void split(struct words *w, const char *line)
{
	snprintf(w->buf, sizeof(w->buf), "%s", line);
	w->argc = ctl_split_words(w->buf, w->argv, WORDS_MAX);
	assert_true(w->argc >= 0);
}

static struct json_object *parse_json(const char *text)
{
	struct json_object *obj = json_tokener_parse(text);

	if (!obj)
		fail_msg("test bug: not JSON: %s", text);
	return obj;
}

/* --- requests ------------------------------------------------------------- */

struct request_case {
	const char *line;
	const char *object, *command;
	const char *args; /* JSON */
};

static const struct request_case requests[] = {
	{ "dev attach eth0", "dev", "attach", "{\"dev\": \"eth0\"}" },
	{ "dev attach eth0 default-txq auto mark-mask 0xff00 queues 65536", "dev", "attach",
	  "{\"dev\": \"eth0\", \"default_txq\": \"auto\", \"mark_mask\": 65280, \"queues\": "
	  "65536}" },
	{ "dev attach eth0 queues 1 default-txq 1023 mark-mask 4294967295", "dev", "attach",
	  "{\"dev\": \"eth0\", \"queues\": 1, \"default_txq\": 1023, \"mark_mask\": 4294967295}" },
	{ "dev detach eth0", "dev", "detach", "{\"dev\": \"eth0\"}" },
	{ "dev show", "dev", "show", "{}" },
	{ "dev", "dev", "show", "{}" },
	{ "dev show eth0", "dev", "show", "{\"dev\": \"eth0\"}" },
	{ "queue add eth0 id 7 txq 3 vm web1 name web1-tx", "queue", "add",
	  "{\"dev\": \"eth0\", \"id\": 7, \"txq\": 3, \"vm\": \"web1\", \"name\": \"web1-tx\"}" },
	{ "queue add eth0 name n vm v group 255 id 65535", "queue", "add",
	  "{\"dev\": \"eth0\", \"id\": 65535, \"group\": 255, \"vm\": \"v\", \"name\": \"n\"}" },
	{ "queue set eth0 id 0 txq auto", "queue", "set",
	  "{\"dev\": \"eth0\", \"id\": 0, \"txq\": \"auto\"}" },
	{ "queue set eth0 id 0 txq 5", "queue", "set",
	  "{\"dev\": \"eth0\", \"id\": 0, \"txq\": 5}" },
	{ "queue set eth0 id 7 group 1", "queue", "set",
	  "{\"dev\": \"eth0\", \"id\": 7, \"group\": 1}" },
	{ "queue del eth0 id 7", "queue", "del", "{\"dev\": \"eth0\", \"id\": 7}" },
	{ "queue show", "queue", "show", "{}" },
	{ "queue show eth0 id 7", "queue", "show", "{\"dev\": \"eth0\", \"id\": 7}" },
	{ "queue show id 7", "queue", "show", "{\"id\": 7}" },
	{ "group add eth0 id 1 txqs 4,0,2", "group", "add",
	  "{\"dev\": \"eth0\", \"id\": 1, \"txqs\": [4, 0, 2]}" },
	{ "group del eth0 id 255", "group", "del", "{\"dev\": \"eth0\", \"id\": 255}" },
	{ "group show eth0", "group", "show", "{\"dev\": \"eth0\"}" },
	{ "stats", "stats", "show", "{}" },
	{ "stats eth0", "stats", "show", "{\"dev\": \"eth0\"}" },
	{ "stats show eth0", "stats", "show", "{\"dev\": \"eth0\"}" },
	{ "daemon ping", "daemon", "ping", "{}" },
	/* unambiguous prefixes */
	{ "q sh eth0", "queue", "show", "{\"dev\": \"eth0\"}" },
	{ "gr a eth0 id 1 txqs 1", "group", "add",
	  "{\"dev\": \"eth0\", \"id\": 1, \"txqs\": [1]}" },
	{ "de det eth0", "dev", "detach", "{\"dev\": \"eth0\"}" },
	{ "da p", "daemon", "ping", "{}" },
	{ "st", "stats", "show", "{}" },
};

static void test_requests(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(requests); i++) {
		const struct request_case *c = &requests[i];
		struct json_object *want_args = parse_json(c->args), *want;
		struct ctl_call call;
		struct ctl_err e = { 0 };
		struct words w;
		int err;

		split(&w, c->line);
		err = ctl_resolve(w.argc, w.argv, &call, &e);
		if (err)
			fail_msg("\"%s\": %s", c->line, e.msg);
		assert_int_equal(call.kind, CTL_CALL_REQUEST);
		want = ctl_request_new(c->object, c->command, want_args);
		if (!json_object_equal(call.req, want))
			fail_msg("\"%s\":\n got  %s\n want %s", c->line, ctl_json_text(call.req),
				 ctl_json_text(want));
		json_object_put(want);
		ctl_call_release(&call);
	}
}

/* The line itself: what vmqd receives, byte for byte. */
static void test_request_text(void **state)
{
	struct ctl_call call;
	struct ctl_err e = { 0 };
	struct words w;

	(void)state;
	split(&w, "queue add eth0 id 7 txq 3 vm web1/a\"b name n");
	assert_int_equal(ctl_resolve(w.argc, w.argv, &call, &e), 0);
	assert_string_equal(
		ctl_json_text(call.req),
		"{\"version\":1,\"object\":\"queue\",\"command\":\"add\",\"args\":{\"dev\":"
		"\"eth0\",\"id\":7,\"txq\":3,\"vm\":\"web1/a\\\"b\",\"name\":\"n\"}}");
	ctl_call_release(&call);
}

/* --- errors --------------------------------------------------------------- */

struct bad_case {
	const char *line;
	int errnum;
	const char *msg;
};

static const struct bad_case bad[] = {
	{ "queue add eth0 id 12abc txq 1", EINVAL, "queue add: id \"12abc\": not a number" },
	{ "queue add eth0 id -1 txq 1", EINVAL, "queue add: id \"-1\": not a number" },
	{ "queue add eth0 id +1 txq 1", EINVAL, "queue add: id \"+1\": not a number" },
	{ "queue add eth0 id 0x10 txq 1", EINVAL, "queue add: id \"0x10\": not a number" },
	{ "queue add eth0 id 99999999999999999999 txq 1", ERANGE,
	  "queue add: id \"99999999999999999999\": out of range (0..65535)" },
	{ "queue add eth0 id 4294967296 txq 1", ERANGE,
	  "queue add: id \"4294967296\": out of range (0..65535)" },
	{ "queue add eth0 id 65536 txq 1", ERANGE,
	  "queue add: id \"65536\": out of range (0..65535)" },
	{ "queue add eth0 id 1 txq 1024", ERANGE,
	  "queue add: txq \"1024\": out of range (0..1023)" },
	{ "queue add eth0 id 1 group 256", ERANGE,
	  "queue add: group \"256\": out of range (0..255)" },
	{ "queue add eth0 id 0 txq auto", EINVAL, "queue add: txq \"auto\": not a number" },
	{ "queue set eth0 id 3 txq auto", EINVAL, "queue set: txq \"auto\": only for queue 0" },
	{ "dev attach eth0 queues 0", ERANGE, "dev attach: queues \"0\": out of range (1..65536)" },
	{ "dev attach eth0 queues 65537", ERANGE,
	  "dev attach: queues \"65537\": out of range (1..65536)" },
	{ "dev attach eth0 default-txq autox", EINVAL,
	  "dev attach: default-txq \"autox\": not a number or \"auto\"" },
	{ "dev attach eth0 default-txq 1024", ERANGE,
	  "dev attach: default-txq \"1024\": out of range (0..1023)" },
	{ "dev attach eth0 mark-mask 0x0f0f", EINVAL,
	  "dev attach: mark-mask \"0x0f0f\": not a nonzero contiguous bit mask" },
	{ "dev attach eth0 mark-mask 0", EINVAL,
	  "dev attach: mark-mask \"0\": not a nonzero contiguous bit mask" },
	{ "dev attach eth0 mark-mask 0x100000000", ERANGE,
	  "dev attach: mark-mask \"0x100000000\": wider than 32 bits" },
	{ "foo show", EINVAL, "unknown object \"foo\" (try \"vmqctl help\")" },
	{ "d show", EINVAL, "object \"d\" is ambiguous: dev, daemon" },
	{ "queue frob", EINVAL, "queue: unknown command \"frob\" (try \"vmqctl queue help\")" },
	{ "q s", EINVAL, "queue: command \"s\" is ambiguous: set, show" },
	{ "daemon", EINVAL, "daemon: missing COMMAND (try \"vmqctl daemon help\")" },
	{ "", EINVAL, "missing OBJECT (try \"vmqctl help\")" },
	{ "queue add eth0 id 1 txq 1 colour red", EINVAL,
	  "queue add: unknown argument \"colour\"" },
	{ "queue add eth0 txq 1", EINVAL, "queue add: missing \"id ID\"" },
	{ "queue add id 1 txq 1", EINVAL, "queue add: missing DEV" },
	{ "queue add", EINVAL, "queue add: missing DEV" },
	{ "queue add eth0 id 1", EINVAL, "queue add: needs one of \"txq N\" or \"group G\"" },
	{ "queue add eth0 id 1 txq 1 group 2", EINVAL,
	  "queue add: \"txq\" and \"group\" exclude each other" },
	{ "queue set eth0 id 1 group 2 txq 1", EINVAL,
	  "queue set: \"group\" and \"txq\" exclude each other" },
	{ "queue add eth0 id 1 id 2 txq 1", EINVAL, "queue add: \"id\" given twice" },
	{ "queue add eth0 id 1 txq", EINVAL, "queue add: \"txq\" needs a value (txq N)" },
	{ "queue add eth0 id 1 txq 1 vm 0123456789012345678901234567890X", EINVAL,
	  "queue add: vm \"0123456789012345678901234567890X\": longer than 31 bytes" },
	{ "queue add eth0 id 1 txq 1 vm web1 name 0123456789012345678901234567890X", EINVAL,
	  "queue add: name \"0123456789012345678901234567890X\": longer than 31 bytes" },
	{ "queue add eth0123456789012 id 1 txq 1", EINVAL,
	  "queue add: DEV \"eth0123456789012\": longer than 15 bytes" },
	{ "dev attach a/b", EINVAL, "dev attach: DEV \"a/b\": not an interface name" },
	{ "dev attach ..", EINVAL, "dev attach: DEV \"..\": not an interface name" },
	{ "dev show eth0 eth1", EINVAL, "dev show: unknown argument \"eth1\"" },
	{ "daemon ping now", EINVAL, "daemon ping: unknown argument \"now\"" },
	{ "group add eth0 id 1", EINVAL, "group add: missing \"txqs N[,N...]\"" },
	{ "group add eth0 id 1 txqs 1,,2", EINVAL,
	  "group add: txqs \"1,,2\": not a list of TX queues (N[,N...])" },
	{ "group add eth0 id 1 txqs 1,", EINVAL,
	  "group add: txqs \"1,\": not a list of TX queues (N[,N...])" },
	{ "group add eth0 id 1 txqs 1,x", EINVAL,
	  "group add: txqs \"1,x\": not a list of TX queues (N[,N...])" },
	{ "group add eth0 id 1 txqs 1,1", EINVAL,
	  "group add: txqs \"1,1\": names a TX queue twice" },
	{ "group add eth0 id 1 txqs 1,1024", ERANGE,
	  "group add: txqs \"1,1024\": TX queue out of range (0..1023)" },
	{ "group add eth0 id 1 txqs 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16", E2BIG,
	  "group add: txqs \"0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16\": more than 16 TX queues" },
};

static void test_bad_inputs(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct ctl_call call;
		struct ctl_err e = { 0 };
		struct words w;
		int err;

		split(&w, bad[i].line);
		err = ctl_resolve(w.argc, w.argv, &call, &e);
		if (!err)
			fail_msg("\"%s\" accepted: %s", bad[i].line, ctl_json_text(call.req));
		if (strcmp(e.msg, bad[i].msg) || err != -bad[i].errnum)
			fail_msg("\"%s\":\n got  %d \"%s\"\n want %d \"%s\"", bad[i].line, -err,
				 e.msg, bad[i].errnum, bad[i].msg);
		assert_null(call.req);
		ctl_call_release(&call);
	}
}

/* Words that cannot come from a batch line: blanks and control bytes. */
static void test_bad_names(void **state)
{
	char *space[] = { "queue", "add", "eth0", "id", "1", "txq", "1", "vm", "web 1" };
	char *ctrl[] = { "queue", "add", "eth0", "id", "1", "txq", "1", "name", "a\nb" };
	char *empty[] = { "queue", "add", "eth0", "id", "1", "txq", "1", "name", "" };
	char *nodev[] = { "dev", "attach", "" };
	struct ctl_call call;
	struct ctl_err e = { 0 };

	(void)state;
	assert_int_equal(ctl_resolve(ARRAY_SIZE(space), space, &call, &e), -EINVAL);
	assert_string_equal(e.msg, "queue add: vm \"web 1\": not printable ASCII without spaces");
	assert_int_equal(ctl_resolve(ARRAY_SIZE(ctrl), ctrl, &call, &e), -EINVAL);
	assert_string_equal(e.msg, "queue add: name \"a?b\": not printable ASCII without spaces");
	assert_int_equal(ctl_resolve(ARRAY_SIZE(empty), empty, &call, &e), -EINVAL);
	assert_string_equal(e.msg, "queue add: name \"\": empty name");
	assert_int_equal(ctl_resolve(ARRAY_SIZE(nodev), nodev, &call, &e), -EINVAL);
	assert_string_equal(e.msg, "dev attach: DEV \"\": empty name");
}

/* --- help ----------------------------------------------------------------- */

/* What a printer wrote, as one string (free it). */
static char *capture(void (*print)(FILE *out, const void *arg), const void *arg)
{
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	print(f, arg);
	fclose(f);
	return text;
}

static void print_all(FILE *out, const void *arg)
{
	(void)arg;
	ctl_help_all(out);
}

static void print_object(FILE *out, const void *obj)
{
	ctl_help_object(out, obj);
}

static void test_help_kinds(void **state)
{
	static const struct {
		const char *line, *obj, *cmd;
	} cases[] = {
		{ "help", NULL, NULL },
		{ "help queue", "queue", NULL },
		{ "queue help", "queue", NULL },
		{ "queue --help", "queue", NULL },
		{ "q -h", "queue", NULL },
		{ "queue add help", "queue", "add" },
		{ "help g a", "group", "add" },
		{ "stats help", "stats", NULL },
		{ "stats --help", "stats", NULL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct ctl_call call;
		struct ctl_err e = { 0 };
		struct words w;

		split(&w, cases[i].line);
		assert_int_equal(ctl_resolve(w.argc, w.argv, &call, &e), 0);
		assert_int_equal(call.kind, CTL_CALL_HELP);
		if (cases[i].obj)
			assert_string_equal(call.obj->name, cases[i].obj);
		else
			assert_null(call.obj);
		if (cases[i].cmd)
			assert_string_equal(call.cmd->name, cases[i].cmd);
		else
			assert_null(call.cmd);
	}
}

/* The full help lists every command of every table, with its synopsis. */
static void test_help_lists_every_command(void **state)
{
	static const char *const surface[] = {
		"dev attach DEV [default-txq N|auto] [mark-mask MASK] [queues N]",
		"dev detach DEV",
		"dev show [DEV]",
		"queue add DEV id ID (txq N | group G) [vm NAME] [name NAME]",
		"queue set DEV id ID (txq N|auto | group G)",
		"queue del DEV id ID",
		"queue show [DEV] [id ID]",
		"group add DEV id G txqs N[,N...]",
		"group del DEV id G",
		"group show [DEV]",
		"stats [show] [DEV]",
		"daemon ping",
		"-j, --json",
		"-s, --socket PATH",
		"-b, --batch FILE",
		"-h, --help",
		"-V, --version",
		"Exit status: 0",
	};
	char *help = capture(print_all, NULL);

	(void)state;
	for (size_t i = 0; ctl_objects[i]; i++) {
		for (const struct ctl_cmd *c = ctl_objects[i]->cmds; c->name; c++) {
			char *syn = NULL;
			size_t slen;
			FILE *s = open_memstream(&syn, &slen);

			ctl_synopsis(s, ctl_objects[i], c);
			fclose(s);
			if (!strstr(help, syn) || !strstr(help, c->help))
				fail_msg("help lacks \"%s\"", syn);
			free(syn);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(surface); i++)
		if (!strstr(help, surface[i]))
			fail_msg("help lacks \"%s\":\n%s", surface[i], help);
	free(help);
}

static void test_help_object_describes_arguments(void **state)
{
	char *help = capture(print_object, ctl_object_find("queue"));

	(void)state;
	assert_non_null(strstr(help, "Usage: vmqctl [OPTIONS] queue COMMAND"));
	assert_non_null(strstr(help, "  id ID                 queue ID, 0 being the default queue "
				     "(0..65535)\n"));
	assert_non_null(strstr(help, "  txq N                 TX queue to steer to (0..1023)\n"));
	assert_non_null(strstr(help, "  txq N|auto "));
	/* each argument once, though four commands take DEV and id */
	assert_null(strstr(strstr(help, "\n  DEV  ") + 1, "\n  DEV  "));
	assert_null(strstr(strstr(help, "\n  id ID  ") + 1, "\n  id ID  "));
	free(help);
}

/* --- printers ------------------------------------------------------------- */

static char *print_text(const char *object, const char *command, const char *result)
{
	const struct ctl_cmd *cmd = ctl_cmd_find(ctl_object_find(object), command);
	struct json_object *obj = parse_json(result);
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(cmd);
	assert_non_null(cmd->print);
	assert_int_equal(cmd->print(f, obj), 0);
	fclose(f);
	json_object_put(obj);
	return text;
}

static void expect_text(const char *object, const char *command, const char *result,
			const char *want)
{
	char *got = print_text(object, command, result);

	if (strcmp(got, want))
		fail_msg("%s %s:\n--- got\n%s--- want\n%s---", object, command, got, want);
	free(got);
}

static void test_print_queue_show(void **state)
{
	(void)state;
	expect_text("queue", "show",
		    "{\"queues\": [{\"dev\": \"eth0\", \"id\": 0, \"txq\": \"auto\"},"
		    " {\"dev\": \"eth0\", \"id\": 7, \"txq\": 3, \"vm\": \"web1\", \"name\": "
		    "\"web1-tx\"},"
		    " {\"dev\": \"eth10\", \"id\": 4095, \"group\": 2, \"vm\": \"db\"}]}",
		    "DEV      ID  TARGET   VM    NAME\n"
		    "eth0      0  auto     -     -\n"
		    "eth0      7  txq 3    web1  web1-tx\n"
		    "eth10  4095  group 2  db    -\n");
	/* nothing at all for nothing */
	expect_text("queue", "show", "{\"queues\": []}", "");
}

static void test_print_dev_show(void **state)
{
	(void)state;
	expect_text(
		"dev", "show",
		"{\"devs\": [{\"dev\": \"eth0\", \"ifindex\": 2, \"txqs\": 8, \"queues\": 4096,"
		" \"mark_mask\": 65535, \"default_txq\": \"auto\", \"attached\": true,"
		" \"clsact_created\": true, \"xps_cleared\": 8, \"pin_dir\": "
		"\"/sys/fs/bpf/vmq/eth0\","
		" \"live_queues\": 3, \"groups\": 1},"
		" {\"dev\": \"ens1f0\", \"txqs\": 64, \"queues\": 65536, \"mark_mask\": 16711680,"
		" \"default_txq\": 5, \"attached\": false, \"live_queues\": 1, \"groups\": [1, "
		"2]}]}",
		"DEV     TXQS  QUEUES  MASK      DEFAULT  ATTACHED  LIVE  GROUPS\n"
		"eth0       8    4096  0xffff    auto     yes          3       1\n"
		"ens1f0    64   65536  0xff0000  5        no           1       2\n");
}

static void test_print_group_show(void **state)
{
	(void)state;
	expect_text("group", "show",
		    "{\"groups\": [{\"dev\": \"eth0\", \"id\": 1, \"txqs\": [0, 2, 4],"
		    " \"members\": [7, 8]}, {\"dev\": \"eth0\", \"id\": 12, \"txqs\": [5],"
		    " \"members\": []}]}",
		    "DEV   GROUP  TXQS   MEMBERS\n"
		    "eth0      1  0,2,4  7,8\n"
		    "eth0     12  5      -\n");
}

static void test_print_stats(void **state)
{
	(void)state;
	expect_text("stats", "show",
		    "{\"devs\": [{\"dev\": \"eth0\", \"queues\": [{\"id\": 0, \"txq\": \"auto\","
		    " \"packets\": 12, \"bytes\": 840, \"fallback_packets\": 3, "
		    "\"fallback_bytes\": 180},"
		    " {\"id\": 7, \"vm\": \"web1\", \"txq\": 3, \"packets\": 18446744073709551615,"
		    " \"bytes\": 150000, \"fallback_packets\": 0, \"fallback_bytes\": 0}],"
		    " \"txqs\": [{\"txq\": 3, \"packets\": 1000, \"bytes\": 150000}],"
		    " \"kernel_choice\": {\"packets\": 12, \"bytes\": 840},"
		    " \"fallbacks\": {\"not_live\": {\"packets\": 3, \"bytes\": 180},"
		    " \"beyond_map\": {\"packets\": 0, \"bytes\": 0},"
		    " \"bad_group\": {\"packets\": 0, \"bytes\": 0}}},"
		    " {\"dev\": \"eth1\", \"queues\": [], \"txqs\": []}]}",
		    "dev eth0\n"
		    "  ID  VM    TARGET               PACKETS   BYTES  FALLBACKS\n"
		    "   0  -     auto                      12     840          3\n"
		    "   7  web1  txq 3   18446744073709551615  150000          0\n"
		    "\n"
		    "  TXQ  PACKETS   BYTES\n"
		    "    3     1000  150000\n"
		    "\n"
		    "  UNSTEERED            PACKETS  BYTES\n"
		    "  kernel choice             12    840\n"
		    "  fallback not_live          3    180\n"
		    "  fallback beyond_map        0      0\n"
		    "  fallback bad_group         0      0\n"
		    "\n"
		    "dev eth1\n");
}

static void test_print_ping(void **state)
{
	(void)state;
	expect_text("daemon", "ping", "{\"version\": 1, \"pid\": 4242}",
		    "vmqd pid 4242, protocol version 1\n");
}

/* --- the whole program, no daemon ------------------------------------------ */

struct run {
	int status;
	char *out, *err;
};

static void run(struct run *r, const char *line)
{
	struct words w;
	size_t olen, elen;
	FILE *out, *err;
	char *argv[WORDS_MAX + 1];

	split(&w, line);
	argv[0] = "vmqctl";
	memcpy(argv + 1, w.argv, sizeof(char *) * (size_t)w.argc);
	r->out = r->err = NULL;
	out = open_memstream(&r->out, &olen);
	err = open_memstream(&r->err, &elen);
	r->status = ctl_main(w.argc + 1, argv, out, err);
	fclose(out);
	fclose(err);
}

static void run_free(struct run *r)
{
	free(r->out);
	free(r->err);
}

static void test_main_errors(void **state)
{
	struct run r;

	(void)state;
	run(&r, "queue add eth0 id 12abc txq 1");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "");
	assert_string_equal(r.err, "vmqctl: queue add: id \"12abc\": not a number\n");
	run_free(&r);

	/* -j: the error is JSON, on stdout, and still exit 1 */
	run(&r, "-j queue add eth0 id 12abc txq 1");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "{\"error\":{\"errno\":22,\"message\":\"queue add: id "
				   "\\\"12abc\\\": not a number\"}}\n");
	assert_string_equal(r.err, "");
	run_free(&r);

	/* -j after the bad option still decides the format */
	run(&r, "-x --json dev show");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out,
			    "{\"error\":{\"errno\":22,\"message\":\"unknown option \\\"-x\\\" "
			    "(try \\\"vmqctl help\\\")\"}}\n");
	run_free(&r);

	run(&r, "--socket");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.err, "vmqctl: option \"--socket\" needs a value\n");
	run_free(&r);

	run(&r, "");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.err, "vmqctl: missing OBJECT (try \"vmqctl help\")\n");
	run_free(&r);

	run(&r, "-b x dev show");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.err, "vmqctl: -b FILE takes no OBJECT (\"dev\")\n");
	run_free(&r);

	run(&r, "-s /nonexistent/vmqd.sock daemon ping");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.err, "vmqctl: cannot connect to vmqd at /nonexistent/vmqd.sock: No "
				   "such file or directory (is vmqd running?)\n");
	run_free(&r);

	/* -1 is an argument, not an option, after OBJECT */
	run(&r, "queue add eth0 id -1 txq 1");
	assert_string_equal(r.err, "vmqctl: queue add: id \"-1\": not a number\n");
	run_free(&r);
}

static void test_main_help_and_version(void **state)
{
	struct run r;

	(void)state;
	run(&r, "--help");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "Usage: vmqctl"));
	run_free(&r);
	run(&r, "-j help");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "queue add DEV id ID"));
	run_free(&r);
	run(&r, "queue add --help");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "Usage: vmqctl [OPTIONS] queue add DEV id ID"));
	assert_string_equal(r.err, "");
	run_free(&r);
	run(&r, "-V");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "vmqctl "));
	run_free(&r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_requests),
		cmocka_unit_test(test_request_text),
		cmocka_unit_test(test_bad_inputs),
		cmocka_unit_test(test_bad_names),
		cmocka_unit_test(test_help_kinds),
		cmocka_unit_test(test_help_lists_every_command),
		cmocka_unit_test(test_help_object_describes_arguments),
		cmocka_unit_test(test_print_queue_show),
		cmocka_unit_test(test_print_dev_show),
		cmocka_unit_test(test_print_group_show),
		cmocka_unit_test(test_print_stats),
		cmocka_unit_test(test_print_ping),
		cmocka_unit_test(test_main_errors),
		cmocka_unit_test(test_main_help_and_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
