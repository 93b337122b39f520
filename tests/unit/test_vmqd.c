// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmqd's request handling against the kernel: parsing and validation, the
 * queue and group state machine, metadata that survives a restart, XPS
 * saved and restored, and adoption of pinned state. Runs in a sandbox with
 * a veth of 8 TX queues.
 */
#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <json-c/json.h>
#include <bpf/libbpf.h>

#include "vmq_test.h"
#include "vmqd/vmqd.h"
#include "vmqd/log.h"
#include "vmqd/server.h"
#include "jsontext.h"
#include "proto.h"

/* UBSan's reports fail this suite rather than scroll by. */
const char *__ubsan_default_options(void);
const char *__ubsan_default_options(void)
{
	return "halt_on_error=1:print_stacktrace=1";
}

static const char *root;
static struct vmqd daemon_state;
static struct vmqd *d = &daemon_state;

/* Sends one request line, returns the parsed response (caller puts it). */
static struct json_object *call(const char *line)
{
	bool malformed = true;
	char *answer = vmqd_handle_line(d, line, strlen(line), &malformed);
	struct json_object *resp;

	assert_non_null(answer);
	assert_int_equal(answer[strlen(answer) - 1], '\n');
	/* Well-formed objects keep the connection; anything else closes it. */
	assert_int_equal(malformed, line[0] != '{' || strstr(line, "} trailing"));
	resp = json_tokener_parse(answer);
	assert_non_null(resp);
	free(answer);
	return resp;
}

static void expect_ok(const char *line)
{
	struct json_object *resp = call(line), *ok;

	assert_true(json_object_object_get_ex(resp, "ok", &ok));
	if (!json_object_get_boolean(ok))
		fail_msg("%s -> %s", line, json_object_to_json_string(resp));
	json_object_put(resp);
}

/* The error's errno and a piece of its message. */
static void expect_error(const char *line, int err, const char *message_part)
{
	struct json_object *resp = call(line), *e, *v;

	assert_true(json_object_object_get_ex(resp, "ok", &v));
	assert_false(json_object_get_boolean(v));
	assert_true(json_object_object_get_ex(resp, "error", &e));
	assert_true(json_object_object_get_ex(e, "errno", &v));
	if (json_object_get_int(v) != err ||
	    !strstr(json_object_get_string(json_object_object_get(e, "message")), message_part))
		fail_msg("%s -> %s, wanted errno %d and \"%s\"", line,
			 json_object_to_json_string(e), err, message_part);
	json_object_put(resp);
}

/* Not strict JSON: refused as not JSON at all, and the connection closed. */
static void expect_not_json(const char *line, const char *why)
{
	bool malformed = false;
	char *answer = vmqd_handle_line(d, line, strlen(line), &malformed);

	assert_non_null(answer);
	assert_true(malformed);
	if (!strstr(answer, "\"ok\":false") || !strstr(answer, "not valid JSON") ||
	    !strstr(answer, why))
		fail_msg("%s -> %s, wanted \"not valid JSON\" and \"%s\"", line, answer, why);
	free(answer);
}

/* The answer's bytes are valid UTF-8, and strict JSON. */
static void expect_utf8_error(const char *line, const char *message_part)
{
	bool malformed;
	char *answer = vmqd_handle_line(d, line, strlen(line), &malformed);
	const char *why;
	size_t off;

	assert_non_null(answer);
	if (!vmq_utf8_valid(answer, strlen(answer)))
		fail_msg("%s -> not UTF-8: %s", line, answer);
	if (vmq_json_check(answer, strlen(answer) - 1, &off, &why))
		fail_msg("%s -> not strict JSON (%s at %zu): %s", line, why, off, answer);
	if (!strstr(answer, message_part))
		fail_msg("%s -> %s, wanted \"%s\"", line, answer, message_part);
	free(answer);
}

/* The whole result of a show, as text, to compare states. */
static char *show(const char *object)
{
	char line[128];
	struct json_object *resp;
	char *text;

	snprintf(line, sizeof(line), "{\"version\":1,\"object\":\"%s\",\"command\":\"show\"}",
		 object);
	resp = call(line);
	text = strdup(json_object_to_json_string_ext(json_object_object_get(resp, "result"),
						     JSON_C_TO_STRING_PLAIN));
	json_object_put(resp);
	return text;
}

static char *read_sys(const char *path)
{
	static char buf[256];
	int fd = open(path, O_RDONLY);
	ssize_t n;

	assert_true(fd >= 0);
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	assert_true(n > 0);
	buf[n] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static void write_sys(const char *path, const char *text)
{
	int fd = open(path, O_WRONLY);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
}

#define REQ(obj, cmd, args)                                                                        \
	"{\"version\":1,\"object\":\"" obj "\",\"command\":\"" cmd "\",\"args\":" args "}"

static int setup(void **state)
{
	(void)state;
	root = vmq_test_sandbox();
	vmqd_log_init(getenv("VMQ_TEST_VERBOSE") ? VMQD_LOG_DEBUG : VMQD_LOG_ERR);
	if (vmq_test_veth("up0", "up1", 8) || vmq_test_veth("vm0", "vm0p", 1) ||
	    vmq_test_veth("vm1", "vm1p", 1))
		return -1;
	return vmqd_init(d, root);
}

static int teardown(void **state)
{
	(void)state;
	vmqd_fini(d);
	vmq_test_sandbox_done();
	return 0;
}

static void test_malformed_requests(void **state)
{
	(void)state;
	expect_error("not json", EINVAL, "not valid JSON");
	expect_error("{\"version\":1} trailing", EINVAL, "not valid JSON");
	expect_error("[1,2]", EINVAL, "not a JSON object");
	expect_error("{\"object\":\"dev\",\"command\":\"show\"}", EPROTO, "version");
	expect_error("{\"version\":2,\"object\":\"dev\",\"command\":\"show\"}", EPROTO, "version");
	expect_error("{\"version\":1,\"object\":\"nope\",\"command\":\"show\"}", EINVAL,
		     "unknown object \"nope\"");
	expect_error("{\"version\":1,\"object\":\"dev\",\"command\":\"fly\"}", EINVAL,
		     "dev: unknown command \"fly\"");
	expect_error("{\"version\":1,\"object\":\"dev\",\"command\":\"show\",\"args\":[]}", EINVAL,
		     "args must be an object");
	expect_error(REQ("dev", "show", "{\"bogus\":1}"), EINVAL, "unknown argument \"bogus\"");
	expect_ok("{\"version\":1,\"object\":\"daemon\",\"command\":\"ping\"}");
}

/* json-c alone takes what JSON does not, and cuts strings at a NUL. */
static void test_strict_json(void **state)
{
	(void)state;
	expect_not_json("{'version':1,'object':'daemon','command':'ping'}", "single quote");
	expect_not_json("{\"version\":1,'object':\"daemon\",\"command\":\"ping\"}", "single quote");
	expect_not_json("{\"version\":1,\"object\":\"daemon\",\"command\":\"ping\",}",
			"trailing comma");
	expect_not_json("{\"version\":01,\"object\":\"daemon\",\"command\":\"ping\"}",
			"leading zero");
	expect_not_json("{\"version\":1,\"object\":\"daemon\",\"command\":\"ping\",\"x\":NaN}",
			"unexpected byte");
	expect_not_json("{\"version\":1,\"object\":\"daemon\",\"command\":\"ping\",\"x\":\"\t\"}",
			"control byte");
	expect_not_json("{\"version\":1,\"object\":\"daemon\",\"command\":\"ping\",\"x\":\"\xff\"}",
			"not UTF-8");
	/* NUL: in an object, a command, a key, a value. */
	expect_not_json("{\"version\":1,\"object\":\"daemon\\u0000x\",\"command\":\"ping\"}",
			"NUL");
	expect_not_json("{\"version\":1,\"object\":\"daemon\",\"command\":\"ping\\u0000\"}", "NUL");
	expect_not_json("{\"version\\u0000x\":1,\"object\":\"daemon\",\"command\":\"ping\"}",
			"NUL");
	expect_not_json(REQ("dev", "show", "{\"dev\":\"up0\\u0000x\"}"), "NUL");
	/* Still fine: escapes, unicode, exponents, nesting. */
	expect_ok("{\"version\":1,\"object\":\"dae\\u006don\",\"command\":\"ping\",\"x\":[1e3,-0.5,"
		  "{\"y\":\"\\u00e9\\n\"},true,null]}");
}

/* The socket's framing without a socket: the same answers however the
 * bytes arrive, nothing looked at before the first one. */
static void test_client_framing(void **state)
{
	static const char ping[] = "{\"version\":1,\"object\":\"daemon\",\"command\":\"ping\"}\n";
	struct vmqd_client whole, cut, big;
	char stream[3 * sizeof(ping)], *junk;

	(void)state;
	vmqd_client_init(&whole, -1);
	vmqd_client_init(&cut, -1);
	vmqd_client_init(&big, -1);
	/* Before its first byte (UBSan: memchr and memmove of NULL). */
	assert_int_equal(vmqd_client_process(&cut, d), 0);
	assert_int_equal(cut.out_len, 0);
	snprintf(stream, sizeof(stream), "%s%s%s", ping, ping, "{\"version\":1,");
	assert_int_equal(vmqd_client_input(&whole, stream, strlen(stream)),
			 (ssize_t)strlen(stream));
	assert_int_equal(vmqd_client_process(&whole, d), 0);
	for (size_t i = 0; i < strlen(stream); i++) {
		assert_int_equal(vmqd_client_input(&cut, stream + i, 1), 1);
		assert_int_equal(vmqd_client_process(&cut, d), 0);
	}
	assert_int_equal(whole.out_len, cut.out_len);
	assert_memory_equal(whole.out, cut.out, whole.out_len);
	assert_non_null(strstr(whole.out, "\"ok\":true"));
	/* The unfinished request waits; garbage then closes the connection. */
	assert_int_equal(vmq_linebuf_pending(&whole.in), strlen("{\"version\":1,"));
	assert_false(whole.closing);
	vmqd_client_input(&whole, "\n", 1);
	assert_int_equal(vmqd_client_process(&whole, d), 0);
	assert_true(whole.closing);
	/* A line that cannot end within the limit. */
	junk = malloc(VMQ_REQUEST_MAX + 1);
	assert_non_null(junk);
	memset(junk, 'x', VMQ_REQUEST_MAX + 1);
	assert_int_equal(vmqd_client_input(&big, junk, VMQ_REQUEST_MAX + 1), VMQ_REQUEST_MAX);
	assert_int_equal(vmqd_client_process(&big, d), 0);
	assert_true(big.closing);
	assert_non_null(strstr(big.out, "longer than 65536 bytes"));
	free(junk);
	vmqd_client_release(&whole);
	vmqd_client_release(&cut);
	vmqd_client_release(&big);
}

static size_t count_lines(const char *buf, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += buf[i] == '\n';
	return n;
}

/* A client with more complete lines than one turn answers is marked
 * pending, and only then: the server polls without sleeping for it. */
static void test_client_turns(void **state)
{
	static const char ping[] = "{\"version\":1,\"object\":\"daemon\",\"command\":\"ping\"}\n";
	struct vmqd_client c;

	(void)state;
	vmqd_client_init(&c, -1);
	for (int i = 0; i < VMQD_LINES_PER_TURN; i++)
		vmqd_client_input(&c, ping, strlen(ping));
	vmqd_client_input(&c, "{\"version\":1", strlen("{\"version\":1"));
	assert_int_equal(vmqd_client_process(&c, d), 0);
	assert_int_equal(count_lines(c.out, c.out_len), VMQD_LINES_PER_TURN);
	assert_false(c.pending); /* what is left has no end yet */
	vmqd_client_input(&c, "}\n", 2);
	vmqd_client_input(&c, ping, strlen(ping));
	for (int i = 0; i < VMQD_LINES_PER_TURN; i++)
		vmqd_client_input(&c, ping, strlen(ping));
	assert_int_equal(vmqd_client_process(&c, d), 0);
	assert_int_equal(count_lines(c.out, c.out_len), 2 * VMQD_LINES_PER_TURN);
	assert_true(c.pending);
	assert_int_equal(vmqd_client_process(&c, d), 0);
	assert_int_equal(count_lines(c.out, c.out_len), 2 * VMQD_LINES_PER_TURN + 2);
	assert_false(c.pending);
	assert_int_equal(vmq_linebuf_pending(&c.in), 0);
	assert_false(c.closing);
	vmqd_client_release(&c);
}

/* The allocation policy: a failed allocation aborts (logged), never
 * returns NULL to a caller that would build a document with holes. */
static void test_alloc_policy(void **state)
{
	struct json_object *o = vmqd_json_object();
	int status;
	pid_t pid;

	(void)state;
	assert_ptr_equal(vmqd_must(o, "test"), o);
	/* A NULL value is a JSON null member, not a failure. */
	vmqd_json_add(o, "none", NULL);
	assert_string_equal(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN),
			    "{\"none\":null}");
	json_object_put(o);
	pid = fork();
	assert_true(pid >= 0);
	if (!pid) {
		vmqd_must(NULL, "test");
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFSIGNALED(status));
	assert_int_equal(WTERMSIG(status), SIGABRT);
}

/* Client strings in messages are cut between characters: the answer stays
 * UTF-8, which strict JSON parsers insist on. */
static void test_utf8_messages(void **state)
{
	char line[1024], long_key[600] = "";

	(void)state;
	/* "a" then 20 two-byte characters: 32 bytes end inside one. */
	expect_utf8_error(
		"{\"version\":1,\"object\":"
		"\"a\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
		"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\",\"command\":\"x\"}",
		"\xc3\xa9...");
	expect_utf8_error(
		"{\"version\":1,\"object\":\"dev\",\"command\":"
		"\"a\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9"
		"\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\u00e9\"}",
		"...");
	/* A long key whose end the 256-byte message would cut anywhere. */
	for (int i = 0; i < 250; i++)
		strcat(long_key, "\xc3\xa9");
	snprintf(line, sizeof(line), REQ("dev", "show", "{\"a%s\":1}"), long_key);
	expect_utf8_error(line, "unknown argument");
	snprintf(line, sizeof(line), REQ("dev", "show", "{\"%s\":1}"), long_key);
	expect_utf8_error(line, "unknown argument");
}

static void test_attach_validates(void **state)
{
	char pins[PATH_MAX];
	char *before, *after;

	(void)state;
	before = show("dev");
	expect_error(REQ("dev", "attach", "{\"dev\":\"nosuch0\"}"), ENODEV, "no such device");
	expect_error(REQ("dev", "attach", "{\"dev\":\"up0\",\"default_txq\":8}"), ERANGE,
		     "dev up0: default-txq 8 out of range (up0 has 8 TX queues)");
	expect_error(REQ("dev", "attach", "{\"dev\":\"up0\",\"mark_mask\":3855}"), EINVAL,
		     "one run of set bits");
	expect_error(REQ("dev", "attach", "{\"dev\":\"up0\",\"queues\":65537}"), ERANGE,
		     "dev up0: queues 65537 out of range (1..65536)");
	expect_error(REQ("dev", "attach", "{\"dev\":\"up0\",\"queues\":-1}"), ERANGE,
		     "queues -1 out of range (1..65536)");
	expect_error(REQ("dev", "attach", "{\"dev\":\"up0\",\"queues\":0}"), ERANGE,
		     "queues 0 out of range (1..65536)");
	/* if_nametoindex("up0:1") is up0's: an alias is no name of its own. */
	expect_error(REQ("dev", "attach", "{\"dev\":\"up0:1\"}"), EINVAL,
		     "dev attach: dev \"up0:1\" is not an interface name");
	expect_error(REQ("dev", "attach", "{\"dev\":\".\"}"), EINVAL, "not an interface name");
	expect_error(REQ("dev", "attach", "{\"dev\":\"..\"}"), EINVAL, "not an interface name");
	expect_error(REQ("dev", "attach", "{\"dev\":\"a/b\"}"), EINVAL, "'/'");
	expect_error(REQ("dev", "attach", "{\"dev\":\"abcdefghijklmnop\"}"), EINVAL,
		     "1 to 15 bytes");
	expect_error(REQ("queue", "show", "{\"dev\":\"up0:x\"}"), EINVAL, "not an interface name");
	expect_error(REQ("dev", "attach", "{\"dev\":\"up0\",\"queues\":\"12abc\"}"), EINVAL,
		     "must be an integer");
	expect_error(REQ("dev", "attach", "{\"dev\":\"a b\"}"), EINVAL, "space");
	/* 8 mask bits carry 256 IDs: ID 300 would stamp as queue 44. */
	expect_error(
		REQ("dev", "attach", "{\"dev\":\"up0\",\"mark_mask\":16711680,\"queues\":4096}"),
		ERANGE, "dev up0: queues 4096 do not fit mark-mask 0xff0000 (256 IDs)");
	expect_error(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":1,\"txq\":1}"), ENOENT,
		     "dev up0: not attached");
	/* Rejected after loading, pinning and clearing XPS: an ingress qdisc
	 * where clsact goes would take the filter and never run it. The undo
	 * path puts XPS back and removes the pins; the qdisc stays. Only
	 * clsact has that problem: tcx runs whatever qdisc is there. */
	setenv("VMQ_TC_MODE", "clsact", 1);
	assert_int_equal(system("tc qdisc add dev up0 ingress"), 0);
	write_sys("/sys/class/net/up0/queues/tx-2/xps_cpus", "1");
	expect_error(REQ("dev", "attach", "{\"dev\":\"up0\"}"), EOPNOTSUPP,
		     "dev up0: has an ingress qdisc, which has no egress hook");
	assert_true(vmq_xps_text_set(read_sys("/sys/class/net/up0/queues/tx-2/xps_cpus")));
	assert_int_equal(system("tc qdisc show dev up0 | grep -q '^qdisc ingress ffff:'"), 0);
	unsetenv("VMQ_TC_MODE");
	expect_ok(REQ("dev", "attach", "{\"dev\":\"up0\"}"));
	expect_ok(REQ("dev", "detach", "{\"dev\":\"up0\"}"));
	assert_int_equal(system("tc qdisc del dev up0 ingress"), 0);
	write_sys("/sys/class/net/up0/queues/tx-2/xps_cpus", "0");

	/* Nothing of the rejected attaches stayed behind: no device, no pins. */
	assert_string_equal((after = show("dev")), before);
	snprintf(pins, sizeof(pins), "%s/up0", root);
	assert_int_equal(access(pins, F_OK), -1);
	free(after);
	free(before);
}

static void test_queue_lifecycle(void **state)
{
	struct vmq_queue_entry e;
	struct vmqd_dev *dev;
	char *before, *after;

	(void)state;
	expect_ok(REQ("dev", "attach", "{\"dev\":\"up0\",\"default_txq\":7,\"queues\":256}"));
	expect_error(REQ("dev", "attach", "{\"dev\":\"up0\"}"), EEXIST, "already attached");
	dev = vmqd_find_dev(d, "up0");
	assert_non_null(dev);
	assert_int_equal(vmq_queue_read(&dev->dp, 0, &e), 0);
	assert_int_equal(e.state, VMQ_QUEUE_TXQ);
	assert_int_equal(e.target, 7);

	expect_ok(REQ("queue", "add",
		      "{\"dev\":\"up0\",\"id\":5,\"txq\":3,\"vm\":\"web1\","
		      "\"name\":\"web1-tx\"}"));
	assert_int_equal(vmq_queue_read(&dev->dp, 5, &e), 0);
	assert_int_equal(e.state, VMQ_QUEUE_TXQ);
	assert_int_equal(e.target, 3);

	before = show("queue");
	assert_non_null(strstr(before, "{\"dev\":\"up0\",\"id\":5,\"txq\":3,\"vm\":\"web1\","
				       "\"name\":\"web1-tx\"}"));
	/* Each rejected request leaves the queues exactly as they were. */
	expect_error(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":5,\"txq\":1}"), EEXIST,
		     "queue 5 on up0: already exists");
	expect_error(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":7,\"txq\":9}"), ERANGE,
		     "queue 7 on up0: txq 9 out of range (up0 has 8 TX queues)");
	expect_error(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":256,\"txq\":1}"), ERANGE,
		     "queue 256 on up0: id out of range (up0 has queue IDs 0..255)");
	expect_error(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":0,\"txq\":1}"), EEXIST,
		     "default queue always exists");
	expect_error(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":8,\"txq\":1,\"group\":1}"),
		     EINVAL, "exactly one of txq or group");
	expect_error(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":8}"), EINVAL,
		     "exactly one of txq or group");
	expect_error(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":8,\"group\":4}"), ENOENT,
		     "group 4 does not exist on up0");
	expect_error(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":-1,\"txq\":1}"), ERANGE,
		     "out of range");
	expect_error(REQ("queue", "add",
			 "{\"dev\":\"up0\",\"id\":8,\"txq\":1,\"vm\":\""
			 "abcdefghijabcdefghijabcdefghijab\"}"),
		     EINVAL, "1 to 31 bytes");
	expect_error(REQ("queue", "del", "{\"dev\":\"up0\",\"id\":0}"), EPERM,
		     "queue 0 on up0: the default queue cannot be deleted");
	expect_error(REQ("queue", "del", "{\"dev\":\"up0\",\"id\":9}"), ENOENT,
		     "queue 9 on up0: does not exist");
	expect_error(REQ("queue", "set", "{\"dev\":\"up0\",\"id\":9,\"txq\":1}"), ENOENT,
		     "does not exist");
	expect_error(REQ("queue", "set", "{\"dev\":\"up0\",\"id\":5,\"txq\":\"auto\"}"), EINVAL,
		     "must be an integer");
	expect_error(REQ("queue", "set", "{\"dev\":\"up0\",\"id\":0,\"group\":1}"), EINVAL,
		     "not a group");
	assert_string_equal((after = show("queue")), before);
	free(after);
	free(before);

	expect_ok(REQ("queue", "set", "{\"dev\":\"up0\",\"id\":5,\"txq\":6}"));
	assert_int_equal(vmq_queue_read(&dev->dp, 5, &e), 0);
	assert_int_equal(e.target, 6);
	expect_ok(REQ("queue", "set", "{\"dev\":\"up0\",\"id\":0,\"txq\":\"auto\"}"));
	assert_int_equal(vmq_queue_read(&dev->dp, 0, &e), 0);
	assert_int_equal(e.state, VMQ_QUEUE_KERNEL);
	expect_ok(REQ("queue", "set", "{\"dev\":\"up0\",\"id\":0,\"txq\":7}"));

	expect_ok(REQ("queue", "del", "{\"dev\":\"up0\",\"id\":5}"));
	assert_int_equal(vmq_queue_read(&dev->dp, 5, &e), 0);
	assert_int_equal(e.state, VMQ_QUEUE_FREE);
	/* Freed with its names: a new queue 5 starts bare. */
	expect_ok(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":5,\"txq\":2}"));
	before = show("queue");
	assert_null(strstr(before, "web1"));
	free(before);
	expect_ok(REQ("queue", "del", "{\"dev\":\"up0\",\"id\":5}"));
}

static void test_groups(void **state)
{
	struct vmq_group_entry g;
	struct vmqd_dev *dev = vmqd_find_dev(d, "up0");
	char *text;

	(void)state;
	assert_non_null(dev);
	expect_error(REQ("group", "add", "{\"dev\":\"up0\",\"id\":1,\"txqs\":[1,8]}"), ERANGE,
		     "group 1 on up0: txq 8 out of range (up0 has 8 TX queues)");
	expect_error(REQ("group", "add", "{\"dev\":\"up0\",\"id\":1,\"txqs\":[1,1]}"), EINVAL,
		     "listed twice");
	expect_error(REQ("group", "add", "{\"dev\":\"up0\",\"id\":1,\"txqs\":[]}"), EINVAL,
		     "list of TX queues");
	expect_error(REQ("group", "add", "{\"dev\":\"up0\",\"id\":256,\"txqs\":[1]}"), ERANGE,
		     "id out of range");
	assert_string_equal((text = show("group")), "{\"groups\":[]}");
	free(text);

	expect_ok(REQ("group", "add", "{\"dev\":\"up0\",\"id\":1,\"txqs\":[1,2,4]}"));
	expect_error(REQ("group", "add", "{\"dev\":\"up0\",\"id\":1,\"txqs\":[3]}"), EEXIST,
		     "group 1 on up0: already exists");
	assert_int_equal(vmq_group_read(&dev->dp, 1, &g), 0);
	assert_int_equal(g.ntxqs, 3);
	expect_ok(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":10,\"group\":1}"));
	expect_ok(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":11,\"group\":1}"));
	text = show("group");
	assert_string_equal(text, "{\"groups\":[{\"dev\":\"up0\",\"id\":1,\"txqs\":[1,2,4],"
				  "\"members\":[10,11]}]}");
	free(text);
	expect_error(REQ("group", "del", "{\"dev\":\"up0\",\"id\":1}"), EBUSY,
		     "group 1 on up0: still has member queues [10,11]");
	/* Moving a member out is one store; then the group can go. */
	expect_ok(REQ("queue", "set", "{\"dev\":\"up0\",\"id\":10,\"txq\":5}"));
	expect_ok(REQ("queue", "del", "{\"dev\":\"up0\",\"id\":11}"));
	expect_ok(REQ("group", "del", "{\"dev\":\"up0\",\"id\":1}"));
	expect_error(REQ("group", "del", "{\"dev\":\"up0\",\"id\":1}"), ENOENT, "does not exist");
	expect_ok(REQ("queue", "del", "{\"dev\":\"up0\",\"id\":10}"));
}

static void test_restart_adopts_state_and_metadata(void **state)
{
	char *queues, *groups, *devs, *after;

	(void)state;
	expect_ok(REQ("group", "add", "{\"dev\":\"up0\",\"id\":3,\"txqs\":[5,6]}"));
	expect_ok(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":20,\"txq\":4,\"vm\":\"db1\"}"));
	expect_ok(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":21,\"group\":3,\"name\":\"g\"}"));
	queues = show("queue");
	groups = show("group");
	devs = show("dev");

	/* A new daemon over the same pins knows everything the old one did. */
	vmqd_fini(d);
	assert_int_equal(vmqd_init(d, root), 0);
	assert_int_equal(vmqd_adopt_all(d), 0);
	assert_string_equal((after = show("queue")), queues);
	free(after);
	assert_string_equal((after = show("group")), groups);
	free(after);
	assert_string_equal((after = show("dev")), devs);
	free(after);
	free(queues);
	free(groups);
	free(devs);
	expect_ok(REQ("queue", "add", "{\"dev\":\"up0\",\"id\":22,\"txq\":1}"));
}

/* An uplink that vanishes (ip link del) can still be detached; a narrow
 * mask sizes the queue map to what it can carry. */
static void test_vanished_uplink(void **state)
{
	char *text;

	(void)state;
	assert_int_equal(vmq_test_veth("gone0", "gone1", 2), 0);
	expect_ok(REQ("dev", "attach", "{\"dev\":\"gone0\",\"mark_mask\":16711680}"));
	text = show("dev");
	assert_non_null(strstr(text, "\"dev\":\"gone0\",\"ifindex\""));
	assert_non_null(strstr(text, "\"queues\":256,\"mark_mask\":16711680"));
	free(text);
	assert_int_equal(system("ip link del gone0"), 0);
	expect_ok(REQ("dev", "detach", "{\"dev\":\"gone0\"}"));
	text = show("dev");
	assert_null(strstr(text, "gone0"));
	free(text);
}

static bool ingress_filter(const char *ifname);
static const char *bound_as(const char *port, const char *uplink, __u32 queue);

/* Whether the device has a clsact qdisc. */
static bool hook_on(const char *ifname)
{
	DECLARE_LIBBPF_OPTS(bpf_tc_hook, hook, .ifindex = (int)if_nametoindex(ifname),
			    .attach_point = BPF_TC_EGRESS);
	int err = bpf_tc_hook_create(&hook);

	if (!err) {
		hook.attach_point = BPF_TC_INGRESS | BPF_TC_EGRESS;
		bpf_tc_hook_destroy(&hook);
	}
	return err == -EEXIST;
}

static struct json_object *result_of(const char *line)
{
	struct json_object *resp = call(line), *result = NULL;

	assert_true(json_object_object_get_ex(resp, "result", &result));
	json_object_get(result);
	json_object_put(resp);
	return result;
}

/* Queue `id` of lw0 as queue show has it, as canonical text. */
static char *queue_text(int id)
{
	char line[160];
	struct json_object *res, *q;
	char *text;

	snprintf(line, sizeof(line), REQ("queue", "show", "{\"dev\":\"lw0\",\"id\":%d}"), id);
	res = result_of(line);
	q = json_object_array_get_idx(json_object_object_get(res, "queues"), 0);
	text = strdup(json_object_to_json_string_ext(q, JSON_C_TO_STRING_PLAIN));
	json_object_put(res);
	return text;
}

/* Reads link events until cond holds: the kernel may send some of them a
 * moment after the command that caused them returned (seen under load).
 * Fails when cond is still false after 2 s. */
#define LINKWATCH_UNTIL(fd, cond)                                                                  \
	do {                                                                                       \
		for (int tries_ = 0; vmqd_linkwatch_read(fd, d), !(cond); tries_++) {              \
			if (tries_ == 200)                                                         \
				fail_msg("link events: still not %s after 2 s", #cond);            \
			usleep(10000);                                                             \
		}                                                                                  \
	} while (0)

/* Link events: TX queues shrink and grow back (ethtool -L), the device
 * goes away and comes back. */
static void test_link_events(void **state)
{
	int fd = vmqd_linkwatch_open();
	struct vmq_port_entry pe_gone;
	struct vmq_queue_entry e;
	struct vmqd_dev *dev;
	char *text;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(vmq_test_veth("lw0", "lw1", 8), 0);
	expect_ok(REQ("dev", "attach", "{\"dev\":\"lw0\",\"default_txq\":0}"));
	expect_ok(REQ("queue", "add", "{\"dev\":\"lw0\",\"id\":5,\"txq\":6,\"vm\":\"a\"}"));
	expect_ok(REQ("queue", "add", "{\"dev\":\"lw0\",\"id\":7,\"txq\":2}"));
	expect_ok(REQ("group", "add", "{\"dev\":\"lw0\",\"id\":2,\"txqs\":[1,7]}"));
	expect_ok(REQ("queue", "add", "{\"dev\":\"lw0\",\"id\":6,\"group\":2}"));
	assert_int_equal(vmq_test_veth("lwp", "lwq", 1), 0);
	expect_ok(REQ("port", "bind", "{\"port\":\"lwp\",\"dev\":\"lw0\",\"queue\":7}"));
	dev = vmqd_find_dev(d, "lw0");
	vmqd_linkwatch_read(fd, d); /* whatever setting up queued */

	/* Shrink to 4 TX queues: 5 (txq 6) and 6 (group over 1,7) degrade.
	 * Drivers re-apply XPS when channels change: it must go again. */
	write_sys("/sys/class/net/lw0/queues/tx-1/xps_cpus", "1");
	assert_int_equal(system("ethtool -L lw0 tx 4"), 0);
	LINKWATCH_UNTIL(fd, dev->ntxqs == 4);
	assert_false(vmq_xps_text_set(read_sys("/sys/class/net/lw0/queues/tx-1/xps_cpus")));
	assert_int_equal(dev->ntxqs, 4);
	assert_int_equal(vmq_queue_read(&dev->dp, 5, &e), 0);
	assert_int_equal(e.state, VMQ_QUEUE_TXQ);
	assert_int_equal(e.target, 0); /* the default queue's TX queue */
	assert_string_equal((text = queue_text(5)),
			    "{\"dev\":\"lw0\",\"id\":5,\"txq\":0,\"vm\":\"a\",\"degraded\":true,"
			    "\"want_txq\":6}");
	free(text);
	assert_string_equal((text = queue_text(6)), "{\"dev\":\"lw0\",\"id\":6,\"txq\":0,"
						    "\"degraded\":true,\"want_group\":2}");
	free(text);
	assert_string_equal((text = queue_text(7)), "{\"dev\":\"lw0\",\"id\":7,\"txq\":2}");
	free(text);
	assert_int_equal(vmqd_degraded_count(dev), 2);
	/* A degraded queue exists: it cannot be added over, and its group
	 * cannot be deleted under it. */
	expect_error(REQ("queue", "add", "{\"dev\":\"lw0\",\"id\":5,\"txq\":1}"), EEXIST,
		     "already exists");
	expect_error(REQ("group", "del", "{\"dev\":\"lw0\",\"id\":2}"), EBUSY,
		     "group 2 on lw0: still has member queues [6]");

	/* Back to 8: both restored, names kept. */
	assert_int_equal(system("ethtool -L lw0 tx 8"), 0);
	LINKWATCH_UNTIL(fd, dev->ntxqs == 8);
	assert_int_equal(dev->ntxqs, 8);
	assert_string_equal((text = queue_text(5)),
			    "{\"dev\":\"lw0\",\"id\":5,\"txq\":6,\"vm\":\"a\"}");
	free(text);
	assert_string_equal((text = queue_text(6)), "{\"dev\":\"lw0\",\"id\":6,\"group\":2}");
	free(text);
	assert_int_equal(vmqd_degraded_count(dev), 0);

	/* The device goes: kept, marked missing. */
	assert_int_equal(system("ip link del lw0"), 0);
	LINKWATCH_UNTIL(fd, dev->missing);
	assert_true(dev->missing);
	text = show("dev");
	assert_non_null(strstr(text, "\"state\":\"missing\""));
	free(text);

	/* vmqd restarts while it is gone: adopted as missing. */
	vmqd_fini(d);
	assert_int_equal(vmqd_init(d, root), 0);
	assert_int_equal(vmqd_adopt_all(d), 0);
	dev = vmqd_find_dev(d, "lw0");
	assert_non_null(dev);
	assert_true(dev->missing);

	/* It comes back under its name: attached again, queues as they were,
	 * its port binding following it to the new ifindex. */
	assert_int_equal(vmq_test_veth("lw0", "lw1", 8), 0);
	LINKWATCH_UNTIL(fd, !dev->missing);
	{
		struct vmq_port_entry pe;

		assert_int_equal(vmq_port_get(&d->ports, if_nametoindex("lwp"), &pe), 0);
		assert_int_equal(pe.uplink_ifindex, if_nametoindex("lw0"));
	}
	assert_int_equal(dev->dp.ifindex, (int)if_nametoindex("lw0"));
	{
		bool attached = false;

		assert_int_equal(vmq_dev_is_attached(&dev->dp, &attached), 0);
		assert_true(attached);
	}
	assert_string_equal((text = queue_text(5)),
			    "{\"dev\":\"lw0\",\"id\":5,\"txq\":6,\"vm\":\"a\"}");
	free(text);
	/* lwp is routed (no master): resolved by lw0's program, no hook. */
	assert_string_equal(bound_as("lwp", "lw0", 7), "uplink");
	expect_ok(REQ("dev", "detach", "{\"dev\":\"lw0\"}"));
	assert_false(ingress_filter("lw0") || hook_on("lw0"));
	assert_false(ingress_filter("lwp"));
	assert_int_equal(vmq_port_get(&d->ports, if_nametoindex("lwp"), &pe_gone), -ENOENT);
	close(fd);
}

/* vmq's port program on the port's ingress: a tcx link or vmq's filter. */
static bool ingress_filter(const char *ifname)
{
	struct vmq_tcx_chain chain;
	__u32 id = 0;

	if (!vmq_tcx_query((int)if_nametoindex(ifname), VMQ_TC_INGRESS, &chain) && chain.count)
		return true;
	return !vmq_tc_attached_prog_id((int)if_nametoindex(ifname), VMQ_TC_INGRESS, &id) && id;
}

/* How a port is bound to queue of uplink: "uplink" (its slot in the
 * uplink's array, no filter on the port), "stamp" (vmq_port on its
 * ingress, no slot), "none", or "both". */
static const char *bound_as(const char *port, const char *uplink, __u32 queue)
{
	struct vmqd_dev *dev = vmqd_find_dev(d, uplink);
	struct vmq_port_slot slot = { 0 };
	bool filter = ingress_filter(port), in_slot;

	in_slot = dev && !vmq_port_slot_read(&dev->dp, if_nametoindex(port), &slot) &&
		  (slot.flags & VMQ_PORT_SLOT_F_BOUND) && slot.queue_id == queue;
	if (filter)
		return in_slot ? "both" : "stamp";
	return in_slot ? "uplink" : "none";
}

static void test_ports(void **state)
{
	struct vmq_port_entry e;
	char *text;
	int fd;

	(void)state;
	expect_error(REQ("port", "bind", "{\"port\":\"vm0\",\"dev\":\"up0\",\"queue\":30}"), ENOENT,
		     "port vm0: queue 30 does not exist on up0");
	expect_error(REQ("port", "bind", "{\"port\":\"nope0\",\"dev\":\"up0\",\"queue\":20}"),
		     ENODEV, "port nope0: no such device");
	expect_error(REQ("port", "bind", "{\"port\":\"up0\",\"dev\":\"up0\",\"queue\":20}"), EINVAL,
		     "is an attached uplink");
	expect_error(REQ("port", "bind", "{\"port\":\"vm0\",\"dev\":\"up1\",\"queue\":20}"), ENOENT,
		     "dev up1: not attached");
	expect_error(REQ("port", "unbind", "{\"port\":\"vm0\"}"), ENOENT, "port vm0: not bound");
	assert_string_equal(bound_as("vm0", "up0", 20), "none");
	/* "vm0:0" would bind vm0 under a name no link has. */
	expect_error(REQ("port", "bind", "{\"port\":\"vm0:0\",\"dev\":\"up0\",\"queue\":20}"),
		     EINVAL, "port \"vm0:0\" is not an interface name");
	expect_error(REQ("port", "show", "{\"dev\":\"up0:0\"}"), EINVAL, "not an interface name");

	expect_ok(REQ("port", "bind", "{\"port\":\"vm0\",\"dev\":\"up0\",\"queue\":20}"));
	expect_ok(REQ("port", "bind", "{\"port\":\"vm1\",\"dev\":\"up0\",\"queue\":22}"));
	/* Routed ports: uplink mode. */
	assert_string_equal(bound_as("vm0", "up0", 20), "uplink");
	assert_string_equal(bound_as("vm1", "up0", 22), "uplink");
	assert_int_equal(vmq_port_get(&d->ports, if_nametoindex("vm0"), &e), 0);
	assert_int_equal(e.queue_id, 20);
	assert_int_equal(e.mark_value, 20);
	assert_int_equal(e.mark_mask, VMQ_MARK_MASK_DEFAULT);
	text = show("port");
	assert_non_null(strstr(text, "\"port\":\"vm0\""));
	assert_non_null(strstr(text, "\"queue\":20,\"state\":\"live\",\"mode\":\"uplink\","
				     "\"why\":\"routed from the port\",\"vm\":\"db1\""));
	free(text);

	/* Rebinding moves the port in one slot store. */
	expect_ok(REQ("port", "bind", "{\"port\":\"vm0\",\"dev\":\"up0\",\"queue\":21}"));
	assert_int_equal(vmq_port_get(&d->ports, if_nametoindex("vm0"), &e), 0);
	assert_int_equal(e.queue_id, 21);
	assert_string_equal(bound_as("vm0", "up0", 21), "uplink");

	/* Enslaved to a bridge the uplink is not in: stamped; released: back. */
	fd = vmqd_linkwatch_open();
	assert_true(fd >= 0);
	assert_int_equal(system("ip link add vmqtbr0 type bridge && ip link set vmqtbr0 up && "
				"ip link set vm0 master vmqtbr0"),
			 0);
	LINKWATCH_UNTIL(fd, !strcmp(bound_as("vm0", "up0", 21), "stamp"));
	assert_string_equal(bound_as("vm0", "up0", 21), "stamp");
	text = show("port");
	assert_non_null(strstr(text, "\"mode\":\"stamp\",\"why\":\"in bridge vmqtbr0 without "
				     "the uplink\""));
	free(text);
	/* The uplink joins the bridge: same bridge, uplink mode. */
	assert_int_equal(system("ip link set up0 master vmqtbr0"), 0);
	LINKWATCH_UNTIL(fd, !strcmp(bound_as("vm0", "up0", 21), "uplink"));
	assert_string_equal(bound_as("vm0", "up0", 21), "uplink");
	assert_string_equal(bound_as("vm1", "up0", 22), "uplink");
	assert_int_equal(system("ip link set up0 nomaster && ip link set vm0 nomaster && "
				"ip link del vmqtbr0"),
			 0);
	vmqd_linkwatch_read(fd, d);
	assert_false(vmqd_find_dev(d, "up0")->missing);
	assert_string_equal(bound_as("vm0", "up0", 21), "uplink");
	assert_string_equal(bound_as("vm1", "up0", 22), "uplink");
	close(fd);

	/* Freeing a bound queue keeps the binding: its packets go to queue 0. */
	expect_ok(REQ("queue", "del", "{\"dev\":\"up0\",\"id\":21}"));
	text = show("port");
	assert_non_null(strstr(text, "\"queue\":21,\"state\":\"stale\""));
	free(text);

	expect_ok(REQ("port", "unbind", "{\"port\":\"vm0\"}"));
	assert_string_equal(bound_as("vm0", "up0", 21), "none");
	assert_int_equal(vmq_port_get(&d->ports, if_nametoindex("vm0"), &e), -ENOENT);

	/* A restarted daemon adopts the bindings. */
	vmqd_fini(d);
	assert_int_equal(vmqd_init(d, root), 0);
	assert_int_equal(vmqd_adopt_all(d), 0);
	text = show("port");
	assert_non_null(strstr(text, "\"port\":\"vm1\""));
	free(text);
	/* vm1 stays bound into the detach test, which must unbind it. */
}

static void test_detach_restores_xps_and_device(void **state)
{
	static const char xps[] = "/sys/class/net/up0/queues/tx-2/xps_cpus";
	char pins[PATH_MAX];
	char *before, *text;

	(void)state;
	assert_string_equal(bound_as("vm1", "up0", 22), "uplink");
	expect_ok(REQ("dev", "detach", "{\"dev\":\"up0\"}"));
	/* Its ports went with it. */
	assert_false(ingress_filter("vm1"));
	assert_string_equal((text = show("port")), "{\"ports\":[]}");
	free(text);
	write_sys(xps, "1");
	before = strdup(read_sys(xps));
	assert_true(vmq_xps_text_set(before));
	expect_ok(REQ("dev", "attach", "{\"dev\":\"up0\"}"));
	/* XPS outranks the steering: cleared while vmq is attached. */
	assert_false(vmq_xps_text_set(read_sys(xps)));
	text = show("dev");
	assert_non_null(strstr(text, "\"xps_cleared\":1"));
	free(text);

	expect_ok(REQ("dev", "detach", "{\"dev\":\"up0\"}"));
	assert_string_equal(read_sys(xps), before);
	snprintf(pins, sizeof(pins), "%s/up0", root);
	assert_int_equal(access(pins, F_OK), -1);
	assert_string_equal((text = show("dev")), "{\"devs\":[]}");
	free(text);
	free(before);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed_requests),
		cmocka_unit_test(test_strict_json),
		cmocka_unit_test(test_utf8_messages),
		cmocka_unit_test(test_client_framing),
		cmocka_unit_test(test_client_turns),
		cmocka_unit_test(test_alloc_policy),
		cmocka_unit_test(test_attach_validates),
		cmocka_unit_test(test_queue_lifecycle),
		cmocka_unit_test(test_groups),
		cmocka_unit_test(test_restart_adopts_state_and_metadata),
		cmocka_unit_test(test_vanished_uplink),
		cmocka_unit_test(test_link_events),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_detach_restores_xps_and_device),
	};

	return cmocka_run_group_tests_name("vmqd requests", tests, setup, teardown);
}
