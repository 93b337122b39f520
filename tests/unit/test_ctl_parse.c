// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* vmqctl without a daemon: argv to request, the errors, help, the printers. */
#include <time.h>

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
	{ "doctor eth0", "doctor", "run", "{\"dev\": \"eth0\"}" },
	{ "doctor run eth0", "doctor", "run", "{\"dev\": \"eth0\"}" },
	/* "doctor ru": as with stats, a word that is not the command is DEV */
	{ "doctor ru", "doctor", "run", "{\"dev\": \"ru\"}" },
	/* unambiguous prefixes */
	{ "q sh eth0", "queue", "show", "{\"dev\": \"eth0\"}" },
	{ "gr a eth0 id 1 txqs 1", "group", "add",
	  "{\"dev\": \"eth0\", \"id\": 1, \"txqs\": [1]}" },
	{ "de det eth0", "dev", "detach", "{\"dev\": \"eth0\"}" },
	{ "da p", "daemon", "ping", "{}" },
	{ "st", "stats", "show", "{}" },
	{ "do eth0", "doctor", "run", "{\"dev\": \"eth0\"}" },
	/* automatic allocation */
	{ "queue add eth0 id auto txq any vm web", "queue", "add",
	  "{\"dev\": \"eth0\", \"id\": \"auto\", \"txq\": \"any\", \"vm\": \"web\"}" },
	{ "queue add eth0 id 5 txq 3 placement auto owner port", "queue", "add",
	  "{\"dev\": \"eth0\", \"id\": 5, \"txq\": 3, \"placement\": \"auto\", \"owner\": "
	  "\"port\"}" },
	{ "queue add eth0 id auto group 2 placement operator", "queue", "add",
	  "{\"dev\": \"eth0\", \"id\": \"auto\", \"group\": 2, \"placement\": \"operator\"}" },
	{ "queue set eth0 id 7 txq any", "queue", "set",
	  "{\"dev\": \"eth0\", \"id\": 7, \"txq\": \"any\"}" },
	{ "port bind vnet0 dev eth0 queue 5", "port", "bind",
	  "{\"port\": \"vnet0\", \"dev\": \"eth0\", \"queue\": 5}" },
	{ "port bind vnet0 dev eth0 queue auto", "port", "bind",
	  "{\"port\": \"vnet0\", \"dev\": \"eth0\", \"queue\": \"auto\"}" },
	{ "port bind vnet0 vm web txq any dev eth0 queue auto", "port", "bind",
	  "{\"port\": \"vnet0\", \"dev\": \"eth0\", \"queue\": \"auto\", \"txq\": \"any\", "
	  "\"vm\": \"web\"}" },
	{ "port bind vnet0 dev eth0 queue auto txq 3", "port", "bind",
	  "{\"port\": \"vnet0\", \"dev\": \"eth0\", \"queue\": \"auto\", \"txq\": 3}" },
	{ "dev set eth0 ports vnet*,tap[0-9]*", "dev", "set",
	  "{\"dev\": \"eth0\", \"ports\": \"vnet*,tap[0-9]*\"}" },
	{ "dev set eth0 ports none", "dev", "set", "{\"dev\": \"eth0\", \"ports\": \"\"}" },
	{ "dev set eth0 rx on", "dev", "set", "{\"dev\": \"eth0\", \"rx\": \"on\"}" },
	{ "dev attach eth0 rx off", "dev", "attach", "{\"dev\": \"eth0\", \"rx\": \"off\"}" },
	{ "queue set eth0 rx cpu 3 id 7", "queue", "set",
	  "{\"dev\": \"eth0\", \"rx\": \"cpu\", \"cpu\": 3, \"id\": 7}" },
	{ "queue set eth0 id 7 rx port txq 2", "queue", "set",
	  "{\"dev\": \"eth0\", \"id\": 7, \"rx\": \"port\", \"txq\": 2}" },
	{ "filter add eth0 queue 7 mac 52:54:00:AB:cd:0F vlan 4094", "filter", "add",
	  "{\"dev\": \"eth0\", \"queue\": 7, \"mac\": \"52:54:00:ab:cd:0f\", \"vlan\": 4094}" },
	{ "filter del eth0 mac 02:00:00:00:00:01", "filter", "del",
	  "{\"dev\": \"eth0\", \"mac\": \"02:00:00:00:00:01\"}" },
	{ "filter show", "filter", "show", "{}" },
	{ "daemon save", "daemon", "save", "{}" },
	{ "daemon sync", "daemon", "sync", "{}" },
	/* vmqctl's own: save, apply (flags before or after FILE) */
	{ "save", "save", "run", "{}" },
	{ "apply state.batch", "apply", "run", "{\"file\": \"state.batch\"}" },
	{ "apply --dry-run --prune -", "apply", "run",
	  "{\"file\": \"-\", \"dry_run\": true, \"prune\": true}" },
	{ "apply - --prune", "apply", "run", "{\"file\": \"-\", \"prune\": true}" },
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
	{ "queue add eth0 id 0 txq auto", EINVAL,
	  "queue add: txq \"auto\": not a number or \"any\"" },
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
	{ "d show", EINVAL, "object \"d\" is ambiguous: dev, doctor, daemon" },
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
	{ "queue add eth0 id 1 txq", EINVAL, "queue add: \"txq\" needs a value (txq N|any)" },
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
	{ "doctor", EINVAL, "doctor run: missing DEV" },
	{ "doctor run", EINVAL, "doctor run: missing DEV" },
	{ "doctor eth0 eth1", EINVAL, "doctor run: unknown argument \"eth1\"" },
	/* options after OBJECT: said so, whether in DEV's place or after it */
	{ "stats eth0 -w 1", EINVAL,
	  "stats show: option \"-w\" goes before OBJECT (vmqctl [OPTIONS] OBJECT ...)" },
	{ "stats -w 1", EINVAL,
	  "stats show: option \"-w\" goes before OBJECT (vmqctl [OPTIONS] OBJECT ...)" },
	{ "stats eth0 --watch=1", EINVAL,
	  "stats show: option \"--watch=1\" goes before OBJECT (vmqctl [OPTIONS] OBJECT ...)" },
	{ "doctor eth0 -j", EINVAL,
	  "doctor run: option \"-j\" goes before OBJECT (vmqctl [OPTIONS] OBJECT ...)" },
	{ "stats eth0 -x", EINVAL, "stats show: unknown argument \"-x\"" },
	{ "stats eth0 --watchx", EINVAL, "stats show: unknown argument \"--watchx\"" },
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
	/* automatic allocation */
	{ "queue add eth0 id autox txq 1", EINVAL,
	  "queue add: id \"autox\": not a number or \"auto\"" },
	{ "queue add eth0 id 1 txq anyx", EINVAL,
	  "queue add: txq \"anyx\": not a number or \"any\"" },
	{ "queue set eth0 id 1 txq x", EINVAL,
	  "queue set: txq \"x\": not a number, \"any\" or \"auto\"" },
	{ "queue add eth0 id 1 txq 1 placement bogus", EINVAL,
	  "queue add: placement \"bogus\": not \"operator\" or \"auto\"" },
	{ "queue add eth0 id 1 txq 1 owner vm", EINVAL, "queue add: owner \"vm\": not \"port\"" },
	{ "queue add eth0 id 1 group 1 placement auto", EINVAL,
	  "queue add: placement \"auto\": only with \"txq N|any\"" },
	{ "port bind vnet0 dev eth0 queue 5 txq 1", EINVAL,
	  "port bind: \"txq\" only with \"queue auto\"" },
	{ "port bind vnet0 dev eth0 queue 5 vm web", EINVAL,
	  "port bind: \"vm\" only with \"queue auto\"" },
	{ "port bind vnet0 dev eth0 queue any", EINVAL,
	  "port bind: queue \"any\": not a number or \"auto\"" },
	{ "dev set eth0", EINVAL,
	  "dev set: missing \"ports P[,P...]|none\", \"rx on|off\" or \"balance on|off\"" },
	{ "dev set eth0 interval 5", EINVAL,
	  "dev set: interval and threshold go with \"balance on\"" },
	{ "dev set eth0 balance on interval 0", ERANGE,
	  "dev set: interval \"0\": out of range (1..3600)" },
	{ "dev set eth0 balance on threshold 1001", ERANGE,
	  "dev set: threshold \"1001\": out of range (1..1000)" },
	{ "dev set eth0 balance maybe", EINVAL,
	  "dev set: balance \"maybe\": not \"on\" or \"off\"" },
	{ "dev balance eth0", EINVAL, "dev balance: missing \"--dry-run\"" },
	{ "dev set eth0 rx yes", EINVAL, "dev set: rx \"yes\": not \"on\" or \"off\"" },
	{ "queue set eth0 id 7", EINVAL,
	  "queue set: needs one of \"txq N\" or \"group G\", or \"rx cpu N|port|pass\"" },
	{ "queue set eth0 id 7 rx cpu", EINVAL, "queue set: \"rx cpu\" needs a value (rx cpu N)" },
	{ "queue set eth0 id 7 rx cpu two", EINVAL, "queue set: cpu \"two\": not a number" },
	{ "queue set eth0 id 7 rx cpu 8192", ERANGE,
	  "queue set: cpu \"8192\": out of range (0..8191)" },
	{ "queue set eth0 id 7 rx all", EINVAL,
	  "queue set: rx \"all\": not \"cpu\", \"port\" or \"pass\"" },
	{ "queue set eth0 id 7 rx port cpu 1", EINVAL, "queue set: unknown argument \"cpu\"" },
	{ "filter add eth0 queue 7", EINVAL, "filter add: missing \"mac MAC\"" },
	{ "filter add eth0 mac 52:54:00:12:34:56", EINVAL, "filter add: missing \"queue ID\"" },
	{ "filter add eth0 queue 7 mac 52:54:00:12:34:5", EINVAL,
	  "filter add: mac \"52:54:00:12:34:5\": not a MAC address (xx:xx:xx:xx:xx:xx)" },
	{ "filter add eth0 queue 7 mac 52:54:00:12:34:567", EINVAL,
	  "filter add: mac \"52:54:00:12:34:567\": not a MAC address (xx:xx:xx:xx:xx:xx)" },
	{ "filter add eth0 queue 7 mac 52.54.00.12.34.56", EINVAL,
	  "filter add: mac \"52.54.00.12.34.56\": not a MAC address (xx:xx:xx:xx:xx:xx)" },
	{ "filter add eth0 queue 7 mac 5g:54:00:12:34:56", EINVAL,
	  "filter add: mac \"5g:54:00:12:34:56\": not a MAC address (xx:xx:xx:xx:xx:xx)" },
	{ "filter add eth0 queue 7 mac 33:33:00:00:00:01", EINVAL,
	  "filter add: mac \"33:33:00:00:00:01\": a multicast, broadcast or zero address: such "
	  "frames always take the stack" },
	{ "filter add eth0 queue 7 mac 00:00:00:00:00:00", EINVAL,
	  "filter add: mac \"00:00:00:00:00:00\": a multicast, broadcast or zero address: such "
	  "frames always take the stack" },
	{ "filter add eth0 queue 7 mac 52:54:00:12:34:56 vlan 4095", ERANGE,
	  "filter add: vlan \"4095\": out of range (1..4094)" },
	{ "filter add eth0 queue 7 mac 52:54:00:12:34:56 vlan 0", ERANGE,
	  "filter add: vlan \"0\": out of range (1..4094)" },
	{ "filter add eth0 queue 0 mac 52:54:00:12:34:56", ERANGE,
	  "filter add: queue \"0\": out of range (1..65535)" },
	{ "dev set eth0 ports a,,b", EINVAL,
	  "dev set: ports \"a,,b\": an empty pattern (P[,P...], or none)" },
	{ "dev set eth0 ports vnet*,", EINVAL,
	  "dev set: ports \"vnet*,\": an empty pattern (P[,P...], or none)" },
	{ "dev set eth0 ports a/b", EINVAL,
	  "dev set: ports \"a/b\": not shell patterns of interface names (P[,P...], or none)" },
	{ "daemon sync now", EINVAL, "daemon sync: unknown argument \"now\"" },
	{ "save now", EINVAL, "save run: unknown argument \"now\"" },
	{ "apply", EINVAL, "apply run: missing FILE" },
	{ "apply a b", EINVAL, "apply run: unknown argument \"b\"" },
	{ "apply --dry-run --dry-run a", EINVAL, "apply run: \"--dry-run\" given twice" },
	{ "s", EINVAL, "object \"s\" is ambiguous: stats, save" },
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
		"  queue add DEV id ID|auto (txq N|any | group G) [vm NAME] [name NAME]\n"
		"    [placement operator|auto] [owner port]\n",
		"queue set DEV id ID [txq N|any|auto | group G] [rx cpu N|port|pass]",
		"filter add DEV queue ID mac MAC [vlan V]",
		"filter del DEV mac MAC [vlan V]",
		"filter show [DEV]",
		"dev set DEV [ports P[,P...]|none] [rx on|off]",
		"queue del DEV id ID",
		"queue show [DEV] [id ID]",
		"group add DEV id G txqs N[,N...]",
		"group del DEV id G",
		"group show [DEV]",
		"stats [show] [DEV]",
		"doctor [run] DEV",
		"daemon ping",
		"daemon save",
		"daemon sync",
		"dev set DEV [ports P[,P...]|none] [rx on|off] [balance on|off]",
		"dev balance DEV --dry-run",
		"port bind PORT dev DEV queue ID|auto [txq N|any] [vm NAME]",
		"port unbind PORT",
		"save [run]",
		"apply [run] FILE [--dry-run] [--prune]",
		"$VMQ_SOCKET",
		"-j, --json",
		"-w, --watch SECONDS",
		"-c, --count N",
		"-s, --socket PATH",
		"-b, --batch FILE",
		"-h, --help",
		"-V, --version",
		"Exit status: 0",
		"0 PASS, 2 WARN, 1 FAIL",
	};
	char *help = capture(print_all, NULL), *flat = strdup(help);

	(void)state;
	/* A long synopsis goes on over lines indented by 4. */
	for (char *p = flat; (p = strstr(p, "\n    ["));)
		memmove(p, p + 4, strlen(p + 4) + 1), *p = ' ';
	for (size_t i = 0; ctl_objects[i]; i++) {
		for (const struct ctl_cmd *c = ctl_objects[i]->cmds; c->name; c++) {
			char *syn = NULL;
			size_t slen;
			FILE *s = open_memstream(&syn, &slen);

			ctl_synopsis(s, ctl_objects[i], c);
			fclose(s);
			if (!strstr(flat, syn) || !strstr(help, c->help))
				fail_msg("help lacks \"%s\"", syn);
			free(syn);
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(surface); i++)
		if (!strstr(help, surface[i]))
			fail_msg("help lacks \"%s\":\n%s", surface[i], help);
	for (char *line = help, *nl; (nl = strchr(line, '\n')); line = nl + 1)
		if (nl - line > 79)
			fail_msg("help line wider than 79 columns: %.*s", (int)(nl - line), line);
	free(flat);
	free(help);
}

static void test_help_object_describes_arguments(void **state)
{
	char *help = capture(print_object, ctl_object_find("queue"));

	(void)state;
	assert_non_null(strstr(help, "Usage: vmqctl [OPTIONS] queue COMMAND"));
	assert_non_null(strstr(help, "  id ID                 queue ID, 0 being the default queue "
				     "(0..65535)\n"));
	assert_non_null(strstr(help,
			       "  txq N|any             TX queue to steer to, or any: vmqd picks "
			       "the least used\n"
			       "                        (0..1023, or any)\n"));
	assert_non_null(strstr(help, "  txq N|any|auto "));
	assert_non_null(strstr(help, "  placement operator|auto"));
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
	assert_int_equal(cmd->print(f, NULL, obj), 0);
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
		    "DEV      ID  TARGET   VM    NAME     PLACED  OWNER\n"
		    "eth0      0  auto     -     -        -       -\n"
		    "eth0      7  txq 3    web1  web1-tx  -       -\n"
		    "eth10  4095  group 2  db    -        -       -\n");
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
		" \"live_queues\": 3, \"groups\": 1, \"rx\": \"on\", \"xdp_mode\": \"native\"},"
		" {\"dev\": \"ens1f0\", \"txqs\": 64, \"queues\": 65536, \"mark_mask\": 16711680,"
		" \"default_txq\": 5, \"attached\": false, \"live_queues\": 1, \"groups\": [1, "
		"2], \"ports\": \"vnet*,tap*\"}]}",
		"DEV     TXQS  QUEUES  MASK      DEFAULT  ATTACHED  LIVE  GROUPS  PORTS       RX\n"
		"eth0       8    4096  0xffff    auto     yes          3       1  -           "
		"native\n"
		"ens1f0    64   65536  0xff0000  5        no           1       2  vnet*,tap*  -\n");
	/* Balancing, once a device balances: off, or on with its interval
	 * and threshold. */
	expect_text(
		"dev", "show",
		"{\"devs\": [{\"dev\": \"eth0\", \"balance\": {\"state\": \"on\", \"interval\": "
		"1, \"threshold\": 25}}, {\"dev\": \"eth1\", \"balance\": {\"state\": "
		"\"off\", \"interval\": 10, \"threshold\": 25}}]}",
		"DEV   TXQS  QUEUES  MASK  DEFAULT  ATTACHED  LIVE  GROUPS  PORTS  RX  BALANCE\n"
		"eth0     -       -  -     -        -            -       -  -      -   on 1s 25%\n"
		"eth1     -       -  -     -        -            -       -  -      -   off\n");
}

/* dev show DEV: the balancer's last decision under the table. */
static void test_print_dev_show_last_decision(void **state)
{
	const struct ctl_cmd *cmd = ctl_cmd_find(ctl_object_find("dev"), "show");
	struct json_object *args = parse_json("{\"dev\": \"eth0\"}");
	struct json_object *obj = parse_json(
		"{\"devs\": [{\"dev\": \"eth0\", \"balance\": {\"state\": \"on\", \"interval\": 1,"
		" \"threshold\": 25, \"last\": {\"reason\": \"balanced, nothing to do\"},"
		" \"last_move\": {\"reason\": \"txq 0 at 400 B/s, 100% above the mean\","
		" \"moves\": [{\"id\": 5, \"vm\": \"web\", \"from\": 0, \"to\": 2,"
		" \"bytes_per_s\": 200}]}}}]}");
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	(void)state;
	assert_int_equal(cmd->print(f, args, obj), 0);
	fclose(f);
	assert_non_null(strstr(text, "\nbalance, last decision: balanced, nothing to do\n"
				     "balance, last move: txq 0 at 400 B/s, 100% above the mean\n"
				     "  moved queue 5 vm web: txq 0 -> txq 2 (200 B/s)\n"));
	free(text);
	json_object_put(obj);
	json_object_put(args);
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
		    " \"txqs\": [{\"txq\": 3}], \"txq_counters\": \"none\","
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
		    "  TXQ  KERNEL PKTS  KERNEL BYTES  INFLIGHT\n"
		    "    3            -             -         -\n"
		    "  (no per-TX-queue counters: the root qdisc of eth0 is not mq)\n"
		    "\n"
		    "  UNSTEERED            PACKETS  BYTES\n"
		    "  kernel choice             12    840\n"
		    "  fallback not_live          3    180\n"
		    "  fallback beyond_map        0      0\n"
		    "  fallback bad_group         0      0\n"
		    "\n"
		    "dev eth1\n");
}

/* The receive side's tables once vmq_rx is loaded: VM queues' matched
 * frames, then every outcome; and the RX column of queue show. */
static void test_print_rx(void **state)
{
	(void)state;
	expect_text(
		"stats", "show",
		"{\"devs\": [{\"dev\": \"eth0\", \"queues\": [{\"id\": 0, \"txq\": \"auto\","
		" \"packets\": 0, \"bytes\": 0, \"fallback_packets\": 0, \"fallback_bytes\": 0,"
		" \"rx_packets\": 0, \"rx_bytes\": 0, \"rx_fallback_packets\": 0,"
		" \"rx_fallback_bytes\": 0},"
		" {\"id\": 7, \"vm\": \"web1\", \"txq\": 3, \"packets\": 1, \"bytes\": 60,"
		" \"fallback_packets\": 0, \"fallback_bytes\": 0, \"rx_packets\": 200,"
		" \"rx_bytes\": 12800, \"rx_fallback_packets\": 5, \"rx_fallback_bytes\": 320}],"
		" \"txqs\": [],"
		" \"rx_outcomes\": {\"port\": {\"packets\": 200, \"bytes\": 12800},"
		" \"unmatched\": {\"packets\": 4, \"bytes\": 256}}}]}",
		"dev eth0\n"
		"  ID  VM    TARGET  PACKETS  BYTES  FALLBACKS\n"
		"   0  -     auto          0      0          0\n"
		"   7  web1  txq 3         1     60          0\n"
		"\n"
		"  ID  VM    RX PACKETS  RX BYTES  RX FALLBACKS\n"
		"   7  web1         200     12800             5\n"
		"\n"
		"  RECEIVED   PACKETS  BYTES\n"
		"  port           200  12800\n"
		"  unmatched        4    256\n");
	expect_text("queue", "show",
		    "{\"queues\": [{\"dev\": \"eth0\", \"id\": 0, \"txq\": \"auto\"},"
		    " {\"dev\": \"eth0\", \"id\": 7, \"txq\": 3, \"rx\": \"cpu\", \"rx_cpu\": 1},"
		    " {\"dev\": \"eth0\", \"id\": 8, \"txq\": 4, \"rx\": \"port\", \"rx_port\": "
		    "\"tap8\"},"
		    " {\"dev\": \"eth0\", \"id\": 9, \"txq\": 5, \"rx\": \"port\"},"
		    " {\"dev\": \"eth0\", \"id\": 10, \"txq\": 5, \"rx\": \"pass\"}]}",
		    "DEV   ID  TARGET  VM  NAME  PLACED  OWNER  RX\n"
		    "eth0   0  auto    -   -     -       -      -\n"
		    "eth0   7  txq 3   -   -     -       -      cpu 1\n"
		    "eth0   8  txq 4   -   -     -       -      port tap8\n"
		    "eth0   9  txq 5   -   -     -       -      port -\n"
		    "eth0  10  txq 5   -   -     -       -      pass\n");
	expect_text(
		"filter", "show",
		"{\"filters\": [{\"dev\": \"eth0\", \"mac\": \"52:54:00:00:00:07\", \"queue\": 7,"
		" \"vm\": \"web1\", \"rx\": \"cpu\", \"rx_cpu\": 1},"
		" {\"dev\": \"eth0\", \"mac\": \"52:54:00:00:00:07\", \"vlan\": 10, \"queue\": "
		"8}]}",
		"DEV   MAC                VLAN  QUEUE  VM    RX\n"
		"eth0  52:54:00:00:00:07     -      7  web1  cpu 1\n"
		"eth0  52:54:00:00:00:07    10      8  -     -\n");
}

/* Every TX queue listed, the kernel's figures where there are some, and
 * queues whose TX queue or group is gone for now. */
static void test_print_stats_kernel_and_degraded(void **state)
{
	(void)state;
	expect_text(
		"stats", "show",
		"{\"devs\": [{\"dev\": \"eth0\", \"queues\": ["
		" {\"id\": 5, \"vm\": \"web1\", \"txq\": 0, \"degraded\": true, \"want_txq\": 6,"
		" \"packets\": 10, \"bytes\": 1000, \"fallback_packets\": 0},"
		" {\"id\": 6, \"group\": 1, \"degraded\": true, \"want_group\": 1,"
		" \"packets\": 1, \"bytes\": 2, \"fallback_packets\": 0},"
		" {\"id\": 7, \"txq\": 1, \"degraded\": false,"
		" \"packets\": 0, \"bytes\": 0, \"fallback_packets\": 0}],"
		" \"txqs\": [{\"txq\": 0,"
		" \"kernel\": {\"packets\": 25, \"bytes\": 2500}, \"bql_inflight\": 0},"
		" {\"txq\": 1,"
		" \"kernel\": {\"packets\": 0, \"bytes\": 0}, \"bql_inflight\": 3028}],"
		" \"txq_counters\": \"mq\"}]}",
		"dev eth0\n"
		"  ID  VM    TARGET              PACKETS  BYTES  FALLBACKS\n"
		"   5  web1  txq 6 (degraded)         10   1000          0\n"
		"   6  -     group 1 (degraded)        1      2          0\n"
		"   7  -     txq 1                     0      0          0\n"
		"\n"
		"  TXQ  KERNEL PKTS  KERNEL BYTES  INFLIGHT\n"
		"    0           25          2500         0\n"
		"    1            0             0      3028\n");
}

static void test_print_doctor(void **state)
{
	(void)state;
	expect_text("doctor", "run",
		    "{\"dev\": \"eth0\", \"checks\": ["
		    " {\"name\": \"pins\", \"status\": \"PASS\","
		    " \"detail\": \"program and maps pinned and attached\"},"
		    " {\"name\": \"xps\", \"status\": \"WARN\", \"detail\": \"XPS set on txq 3\"},"
		    " {\"name\": \"root_qdisc\", \"status\": \"FAIL\", \"detail\": \"noqueue\"},"
		    " {\"name\": \"terse\", \"status\": \"PASS\"}],"
		    " \"worst\": \"FAIL\"}",
		    "PASS  pins        program and maps pinned and attached\n"
		    "WARN  xps         XPS set on txq 3\n"
		    "FAIL  root_qdisc  noqueue\n"
		    "PASS  terse\n"
		    "eth0: FAIL (4 checks: 2 PASS, 1 WARN, 1 FAIL)\n");
	expect_text("doctor", "run", "{\"dev\": \"eth0\", \"checks\": [], \"worst\": \"PASS\"}",
		    "eth0: PASS (0 checks: 0 PASS, 0 WARN, 0 FAIL)\n");
}

/* The verdict is the exit status; a result without one is an error. */
static void test_doctor_status(void **state)
{
	static const struct {
		const char *result;
		int status;
	} cases[] = {
		{ "{\"worst\": \"PASS\"}", 0 }, { "{\"worst\": \"WARN\"}", 2 },
		{ "{\"worst\": \"FAIL\"}", 1 }, { "{\"worst\": \"pass\"}", -EPROTO },
		{ "{\"worst\": 0}", -EPROTO },	{ "{}", -EPROTO },
	};
	const struct ctl_cmd *cmd = ctl_cmd_find(ctl_object_find("doctor"), "run");

	(void)state;
	assert_non_null(cmd->status);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct json_object *result = parse_json(cases[i].result);
		struct ctl_err e = { 0 };
		int status = cmd->status(result, &e);

		if (status != cases[i].status)
			fail_msg("%s: status %d, want %d", cases[i].result, status,
				 cases[i].status);
		if (status < 0)
			assert_string_equal(e.msg, "malformed answer from vmqd: doctor's \"worst\" "
						   "is not PASS, WARN or FAIL");
		json_object_put(result);
	}
}

/* --- watch: intervals, rates, samples ---------------------------------------- */

static void test_parse_seconds(void **state)
{
	static const struct {
		const char *s;
		int err;
		unsigned int ms;
	} cases[] = {
		{ "1", 0, 1000 },
		{ "2", 0, 2000 },
		{ "0.5", 0, 500 },
		{ "0.1", 0, 100 },
		{ "1.25", 0, 1250 },
		{ "0.125", 0, 125 },
		{ "007", 0, 7000 },
		{ "86400", 0, 86400000 },
		{ "86400.000", 0, 86400000 },
		{ "0.099", -ERANGE, 0 },
		{ "0", -ERANGE, 0 },
		{ "0.0", -ERANGE, 0 },
		{ "86400.001", -ERANGE, 0 },
		{ "99999999999999999999999", -ERANGE, 0 },
		{ "", -EINVAL, 0 },
		{ ".5", -EINVAL, 0 },
		{ "5.", -EINVAL, 0 },
		{ "1.0001", -EINVAL, 0 },
		{ "-1", -EINVAL, 0 },
		{ "+1", -EINVAL, 0 },
		{ " 1", -EINVAL, 0 },
		{ "1 ", -EINVAL, 0 },
		{ "1s", -EINVAL, 0 },
		{ "1e3", -EINVAL, 0 },
		{ "0x10", -EINVAL, 0 },
		{ "inf", -EINVAL, 0 },
		{ "nan", -EINVAL, 0 },
		{ "1,5", -EINVAL, 0 },
		{ "1..5", -EINVAL, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		unsigned int ms = 0;
		int err = ctl_parse_seconds(cases[i].s, &ms);

		if (err != cases[i].err || (!err && ms != cases[i].ms))
			fail_msg("\"%s\": %d, %u ms; want %d, %u ms", cases[i].s, err, ms,
				 cases[i].err, cases[i].ms);
	}
}

static void expect_json(struct json_object *got, const char *want_text)
{
	struct json_object *want = parse_json(want_text);

	if (!json_object_equal(got, want))
		fail_msg("\n got  %s\n want %s", ctl_json_text(got), want_text);
	json_object_put(want);
}

#define RATES_PREV                                                                                 \
	"{\"devs\": [{\"dev\": \"eth0\", \"queues\": ["                                            \
	"  {\"id\": 0, \"txq\": \"auto\", \"packets\": 100, \"bytes\": 10000,"                     \
	"   \"fallback_packets\": 4, \"fallback_bytes\": 400},"                                    \
	"  {\"id\": 7, \"txq\": 3, \"packets\": 1000, \"bytes\": 100000, \"fallback_packets\": 0," \
	"   \"fallback_bytes\": 0}],"                                                              \
	" \"txqs\": [{\"txq\": 0, \"kernel\": {\"packets\": 50, \"bytes\": 5000}},"                \
	"  {\"txq\": 3},"                                                                          \
	"  {\"txq\": 4, \"kernel\": {\"packets\": 10, \"bytes\": 1000}}],"                         \
	" \"kernel_choice\": {\"packets\": 100, \"bytes\": 10000},"                                \
	" \"fallbacks\": {\"not_live\": {\"packets\": 4, \"bytes\": 400}}},"                       \
	" {\"dev\": \"gone0\", \"queues\": [], \"txqs\": []}]}"

/* Two seconds later: queue 7 sent 2000 more, queue 9 is new, queue 0's
 * counters went down (a reset), eth1 is new, TX queue 3 gained kernel
 * counters, TX queue 4 was reset. */
#define RATES_CUR                                                                                  \
	"{\"devs\": [{\"dev\": \"eth1\", \"queues\": [{\"id\": 0, \"packets\": 5, \"bytes\": 5,"   \
	"   \"fallback_packets\": 0}], \"txqs\": [{\"txq\": 0}]},"                                 \
	" {\"dev\": \"eth0\", \"queues\": ["                                                       \
	"  {\"id\": 0, \"txq\": \"auto\", \"packets\": 10, \"bytes\": 1000,"                       \
	"   \"fallback_packets\": 6, \"fallback_bytes\": 600},"                                    \
	"  {\"id\": 9, \"txq\": 4, \"packets\": 3, \"bytes\": 300, \"fallback_packets\": 1,"       \
	"   \"fallback_bytes\": 100},"                                                             \
	"  {\"id\": 7, \"txq\": 3, \"packets\": 3000, \"bytes\": 300000, \"fallback_packets\": 0," \
	"   \"fallback_bytes\": 0}],"                                                              \
	" \"txqs\": [{\"txq\": 0, \"kernel\": {\"packets\": 150, \"bytes\": 15000},"               \
	"   \"bql_inflight\": 0},"                                                                 \
	"  {\"txq\": 3, \"kernel\": {\"packets\": 7, \"bytes\": 700}},"                            \
	"  {\"txq\": 4, \"kernel\": {\"packets\": 3, \"bytes\": 300}}],"                           \
	" \"kernel_choice\": {\"packets\": 101, \"bytes\": 10100},"                                \
	" \"fallbacks\": {\"not_live\": {\"packets\": 6, \"bytes\": 600},"                         \
	"  \"bad_group\": {\"packets\": 1, \"bytes\": 100}}}]}"

static void test_stats_rates(void **state)
{
	struct json_object *prev = parse_json(RATES_PREV), *cur = parse_json(RATES_CUR);

	(void)state;
	assert_int_equal(ctl_stats_rates(cur, prev, 2.0), 0);
	expect_json(
		cur,
		/* eth1 has no earlier sample: no rates at all */
		"{\"devs\": [{\"dev\": \"eth1\", \"queues\": [{\"id\": 0, \"packets\": 5, "
		"\"bytes\": 5,"
		"   \"fallback_packets\": 0}], \"txqs\": [{\"txq\": 0}]},"
		" {\"dev\": \"eth0\", \"queues\": ["
		/* packets and bytes went down: reset, no rate; fallbacks went up */
		"  {\"id\": 0, \"txq\": \"auto\", \"packets\": 10, \"bytes\": 1000,"
		"   \"fallback_packets\": 6, \"fallback_bytes\": 600, \"fallback_packets_per_s\": "
		"1.0},"
		/* not listed before: it had nothing */
		"  {\"id\": 9, \"txq\": 4, \"packets\": 3, \"bytes\": 300, \"fallback_packets\": 1,"
		"   \"fallback_bytes\": 100, \"packets_per_s\": 1.5, \"bytes_per_s\": 150.0,"
		"   \"fallback_packets_per_s\": 0.5},"
		"  {\"id\": 7, \"txq\": 3, \"packets\": 3000, \"bytes\": 300000, "
		"\"fallback_packets\": 0,"
		"   \"fallback_bytes\": 0, \"packets_per_s\": 1000.0, \"bytes_per_s\": 100000.0,"
		"   \"fallback_packets_per_s\": 0.0}],"
		" \"txqs\": [{\"txq\": 0, \"kernel\": {\"packets\": 150, \"bytes\": 15000},"
		"   \"bql_inflight\": 0, \"kernel_packets_per_s\": 50.0, \"kernel_bytes_per_s\": "
		"5000.0},"
		/* kernel counters new: no kernel rate */
		"  {\"txq\": 3, \"kernel\": {\"packets\": 7, \"bytes\": 700}},"
		/* reset */
		"  {\"txq\": 4, \"kernel\": {\"packets\": 3, \"bytes\": 300}}],"
		" \"kernel_choice\": {\"packets\": 101, \"bytes\": 10100, \"packets_per_s\": 0.5,"
		"   \"bytes_per_s\": 50.0},"
		/* a reason new in this sample: no earlier figure */
		" \"fallbacks\": {\"not_live\": {\"packets\": 6, \"bytes\": 600, "
		"\"packets_per_s\": 1.0,"
		"   \"bytes_per_s\": 100.0}, \"bad_group\": {\"packets\": 1, \"bytes\": 100}}}]}");
	/* what -j prints: three decimals, not seventeen digits */
	assert_non_null(strstr(ctl_json_text(cur), "\"packets_per_s\":1.500,"));
	json_object_put(cur);
	json_object_put(prev);
}

/* No earlier sample, or no time between: nothing added. */
static void test_stats_rates_none(void **state)
{
	struct json_object *prev = parse_json(RATES_PREV), *cur = parse_json(RATES_CUR);

	(void)state;
	assert_int_equal(ctl_stats_rates(cur, NULL, 2.0), 0);
	assert_int_equal(ctl_stats_rates(cur, prev, 0.0), 0);
	assert_int_equal(ctl_stats_rates(cur, prev, -1.0), 0);
	expect_json(cur, RATES_CUR);
	json_object_put(cur);
	json_object_put(prev);
}

/* Counters near 2^64 keep their precision in the subtraction. */
static void test_stats_rates_u64(void **state)
{
	struct json_object *prev =
		parse_json("{\"devs\": [{\"dev\": \"e\", \"queues\": [{\"id\": 1,"
			   " \"packets\": 18446744073709551610}]}]}");
	struct json_object *cur = parse_json("{\"devs\": [{\"dev\": \"e\", \"queues\": [{\"id\": 1,"
					     " \"packets\": 18446744073709551615}]}]}");

	(void)state;
	assert_int_equal(ctl_stats_rates(cur, prev, 0.5), 0);
	expect_json(cur, "{\"devs\": [{\"dev\": \"e\", \"queues\": [{\"id\": 1,"
			 " \"packets\": 18446744073709551615, \"packets_per_s\": 10.0}]}]}");
	json_object_put(cur);
	json_object_put(prev);
}

static char *print_sample(const char *sample_text, unsigned int every_ms)
{
	struct json_object *sample = parse_json(sample_text);
	char *text = NULL;
	size_t len;
	FILE *f = open_memstream(&text, &len);

	assert_non_null(f);
	assert_int_equal(ctl_stats_print_sample(f, sample, every_ms), 0);
	fclose(f);
	json_object_put(sample);
	return text;
}

static void expect_sample(const char *sample, unsigned int every_ms, const char *want)
{
	char *got = print_sample(sample, every_ms);

	if (strcmp(got, want))
		fail_msg("sample:\n--- got\n%s--- want\n%s---", got, want);
	free(got);
}

static void test_print_watch_samples(void **state)
{
	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	/* the first: totals */
	expect_sample(
		"{\"time\": 86400.75, \"interval\": null, \"devs\": [{\"dev\": \"eth0\","
		" \"queues\": [{\"id\": 7, \"txq\": 3, \"packets\": 10, \"bytes\": 1000,"
		" \"fallback_packets\": 0}], \"txqs\": []}]}",
		500,
		"1970-01-02 00:00:00 +0000  every 0.5 s, totals (rates from the next sample on)\n"
		"dev eth0\n"
		"  ID  VM  TARGET  PACKETS  BYTES  FALLBACKS\n"
		"   7  -   txq 3        10   1000          0\n");
	/* then rates; "-" where there is none */
	expect_sample(
		"{\"time\": 86401.25, \"interval\": 0.5, \"devs\": [{\"dev\": \"eth0\","
		" \"queues\": [{\"id\": 7, \"txq\": 3, \"packets\": 30, \"bytes\": 3000,"
		" \"packets_per_s\": 40.0, \"bytes_per_s\": 4000.0, \"fallback_packets_per_s\": "
		"0.0},"
		" {\"id\": 8, \"txq\": 2}],"
		" \"txqs\": [{\"txq\": 3, \"kernel_packets_per_s\": 44.0, \"kernel_bytes_per_s\": "
		"4400.0,"
		" \"bql_inflight\": 1514}],"
		" \"kernel_choice\": {\"packets\": 1, \"bytes\": 60, \"packets_per_s\": 0.333,"
		" \"bytes_per_s\": 20.0}}]}",
		2000,
		"1970-01-02 00:00:01 +0000  every 2 s, rates over the last 0.500 s\n"
		"dev eth0\n"
		"  ID  VM  TARGET  PKTS/S  BYTES/S  FALLBACKS/S\n"
		"   7  -   txq 3     40.0   4000.0          0.0\n"
		"   8  -   txq 2        -        -            -\n"
		"\n"
		"  TXQ  KERNEL PKTS/S  KERNEL BYTES/S  INFLIGHT\n"
		"    3           44.0          4400.0      1514\n"
		"\n"
		"  UNSTEERED      PKTS/S  BYTES/S\n"
		"  kernel choice     0.3     20.0\n");
	/* no device: the header alone */
	expect_sample("{\"time\": 0, \"interval\": 1, \"devs\": []}", 1000,
		      "1970-01-01 00:00:00 +0000  every 1 s, rates over the last 1.000 s\n");
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

/* -w and -c: strict values, and only where they mean something. */
static void test_main_watch_options(void **state)
{
	static const struct {
		const char *line, *err;
	} cases[] = {
		{ "-w 1 queue show", "vmqctl: --watch works only with stats, not queue (vmqctl -w "
				     "SECONDS stats [DEV])\n" },
		{ "-w 1 doctor eth0",
		  "vmqctl: --watch works only with stats, not doctor (vmqctl -w "
		  "SECONDS stats [DEV])\n" },
		{ "-w 1 -b x", "vmqctl: --watch does not go with -b FILE\n" },
		{ "-c 3 stats", "vmqctl: --count needs --watch SECONDS\n" },
		{ "-w 0 stats", "vmqctl: --watch \"0\": out of range (0.1..86400 seconds)\n" },
		{ "--watch=0.05 stats",
		  "vmqctl: --watch \"0.05\": out of range (0.1..86400 seconds)\n" },
		{ "-w 1x stats",
		  "vmqctl: --watch \"1x\": not a number of seconds (N or N.NNN, such "
		  "as 2 or 0.5)\n" },
		{ "-w -1 stats",
		  "vmqctl: --watch \"-1\": not a number of seconds (N or N.NNN, such "
		  "as 2 or 0.5)\n" },
		{ "-w", "vmqctl: option \"-w\" needs a value\n" },
		{ "-w 1 -c 0 stats", "vmqctl: --count \"0\": out of range (1..4294967295)\n" },
		{ "-w 1 -c 4294967296 stats",
		  "vmqctl: --count \"4294967296\": out of range (1..4294967295)\n" },
		{ "-w 1 -c 12abc stats", "vmqctl: --count \"12abc\": not a number\n" },
		/* the first bad option is the one reported */
		{ "-w x -c y stats", "vmqctl: --watch \"x\": not a number of seconds (N or N.NNN, "
				     "such as 2 or 0.5)\n" },
		{ "-c y -w x stats", "vmqctl: --count \"y\": not a number\n" },
		{ "-w 1 stats eth0 -j", "vmqctl: stats show: option \"-j\" goes before OBJECT "
					"(vmqctl [OPTIONS] OBJECT ...)\n" },
	};
	struct run r;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		run(&r, cases[i].line);
		if (r.status != 1 || strcmp(r.out, "") || strcmp(r.err, cases[i].err))
			fail_msg("\"%s\": status %d\nstdout: %s\nstderr: %s\nwant stderr: %s",
				 cases[i].line, r.status, r.out, r.err, cases[i].err);
		run_free(&r);
	}
	/* -j: the same error, as JSON */
	run(&r, "-j -w 1 queue show");
	assert_int_equal(r.status, 1);
	assert_string_equal(r.out, "{\"error\":{\"errno\":22,\"message\":\"--watch works only with "
				   "stats, not queue (vmqctl -w SECONDS stats [DEV])\"}}\n");
	run_free(&r);
	/* help is help, watching or not */
	run(&r, "-w 1 stats help");
	assert_int_equal(r.status, 0);
	assert_non_null(strstr(r.out, "Usage: vmqctl [OPTIONS] stats COMMAND"));
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
		cmocka_unit_test(test_print_dev_show_last_decision),
		cmocka_unit_test(test_print_group_show),
		cmocka_unit_test(test_print_stats),
		cmocka_unit_test(test_print_rx),
		cmocka_unit_test(test_print_ping),
		cmocka_unit_test(test_print_stats_kernel_and_degraded),
		cmocka_unit_test(test_print_doctor),
		cmocka_unit_test(test_doctor_status),
		cmocka_unit_test(test_parse_seconds),
		cmocka_unit_test(test_stats_rates),
		cmocka_unit_test(test_stats_rates_none),
		cmocka_unit_test(test_stats_rates_u64),
		cmocka_unit_test(test_print_watch_samples),
		cmocka_unit_test(test_main_watch_options),
		cmocka_unit_test(test_main_errors),
		cmocka_unit_test(test_main_help_and_version),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
