// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * /metrics: the renderer (stats JSON in, Prometheus text 0.0.4 out), the
 * --metrics address parser, and the HTTP server on a loopback port of its
 * own (status codes, headers, the daemon lock). No BPF: runs as any user.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/un.h>
#include <json-c/json.h>

#include "vmq_test.h"
#include "vmqd/metrics.h"

static char *render(const char *json)
{
	struct json_object *stats = json_tokener_parse(json);
	char *text = NULL;
	size_t len = 0;

	assert_non_null(stats);
	assert_int_equal(vmqd_metrics_render(stats, &text, &len), 0);
	json_object_put(stats);
	assert_non_null(text);
	assert_int_equal(strlen(text), len);
	return text;
}

/* A whole line of text equals line. */
static bool has_line(const char *text, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = text; (p = strstr(p, line)); p++)
		if ((p == text || p[-1] == '\n') && p[n] == '\n')
			return true;
	return false;
}

static void expect_line(const char *text, const char *line)
{
	if (!has_line(text, line))
		fail_msg("expected the line\n  %s\nin:\n%s", line, text);
}

static void expect_no(const char *text, const char *part)
{
	const char *hit = strstr(text, part);

	if (hit)
		fail_msg("expected no \"%s\", found at:\n%.200s", part, hit);
}

/*
 * The format's rules, line by line: every family is HELP, then TYPE, then
 * its samples, all together and once; a counter's name ends in _total and
 * a gauge's does not; a sample is NAME[{LABELS}] VALUE with an unsigned
 * decimal value and well-formed, escaped label values. Returns the number
 * of samples.
 */
static int check_format(const char *text)
{
	char seen[64][64] = { { 0 } }, family[64] = "", type[16] = "";
	int nseen = 0, samples = 0, lineno = 0;
	const char *p = text;

	assert_true(*text == '\0' || text[strlen(text) - 1] == '\n');
	while (*p) {
		const char *nl = strchr(p, '\n');
		char line[1024];
		size_t n = (size_t)(nl - p);

		assert_true(n < sizeof(line));
		memcpy(line, p, n);
		line[n] = '\0';
		p = nl + 1;
		lineno++;
		if (!strncmp(line, "# HELP ", 7)) {
			char *name = line + 7, *sp = strchr(name, ' ');

			assert_non_null(sp);
			*sp = '\0';
			for (int i = 0; i < nseen; i++)
				if (!strcmp(seen[i], name))
					fail_msg("line %d: family %s a second time", lineno, name);
			assert_true(nseen < 64 && strlen(name) < sizeof(family));
			strcpy(seen[nseen++], name);
			strcpy(family, name);
			type[0] = '\0';
			continue;
		}
		if (!strncmp(line, "# TYPE ", 7)) {
			char want[96];

			assert_true(family[0] && !type[0]);
			if (!strcmp(line + 7 + strlen(family), " counter"))
				strcpy(type, "counter");
			else if (!strcmp(line + 7 + strlen(family), " gauge"))
				strcpy(type, "gauge");
			snprintf(want, sizeof(want), "# TYPE %s %s", family, type);
			if (!type[0] || strcmp(line, want))
				fail_msg("line %d: \"%s\" after HELP of %s", lineno, line, family);
			n = strlen(family);
			if (!strcmp(type, "counter") !=
			    (n > 6 && !strcmp(family + n - 6, "_total")))
				fail_msg("%s: a %s, named %s", family, type,
					 type[0] == 'c' ? "without _total" : "with _total");
			continue;
		}
		/* A sample of the current family. */
		if (!type[0] || strncmp(line, family, strlen(family)))
			fail_msg("line %d: \"%s\" is not a sample of %s", lineno, line, family);
		const char *s = line + strlen(family);

		if (*s == '{') {
			s++;
			for (;;) {
				while ((*s >= 'a' && *s <= 'z') || *s == '_')
					s++;
				if (s[0] != '=' || s[1] != '"')
					fail_msg("line %d: bad label at \"%s\"", lineno, s);
				for (s += 2; *s != '"'; s++) {
					if (!*s)
						fail_msg("line %d: unterminated label", lineno);
					if (*s == '\\' && s[1] != '\\' && s[1] != '"' &&
					    s[1] != 'n')
						fail_msg("line %d: bad escape \\%c", lineno, s[1]);
					if (*s == '\\')
						s++;
				}
				s++;
				if (*s == '}')
					break;
				if (*s != ',')
					fail_msg("line %d: expected , or } at \"%s\"", lineno, s);
				s++;
			}
			s++;
		}
		if (*s != ' ' || !s[1])
			fail_msg("line %d: no value in \"%s\"", lineno, line);
		for (s++; *s; s++)
			if (*s < '0' || *s > '9')
				fail_msg("line %d: value not a decimal in \"%s\"", lineno, line);
		samples++;
	}
	return samples;
}

static void render_empty(void **state)
{
	static const char *const inputs[] = {
		"{\"devs\":[]}",
		"{}",
		"{\"devs\":{}}",
		"{\"devs\":[1,\"x\",{}]}",
		"{\"devs\":[{\"queues\":[{\"id\":1,\"packets\":1}]}]}", /* no dev name */
	};

	(void)state;
	for (size_t i = 0; i < sizeof(inputs) / sizeof(inputs[0]); i++) {
		char *text = render(inputs[i]);

		assert_string_equal(text, "# HELP vmq_up 1: vmqd answered this scrape.\n"
					  "# TYPE vmq_up gauge\n"
					  "vmq_up 1\n");
		free(text);
	}
}

/* What `stats show` answers for devices without mq: TX queues listed, no
 * per-TX-queue figures (vmq keeps none of its own). */
static const char *const full_stats =
	"{\"devs\":["
	" {\"dev\":\"eth0\","
	"  \"queues\":["
	"   {\"id\":0,\"txq\":7,\"packets\":10,\"bytes\":1000,\"fallback_packets\":0,"
	"    \"fallback_bytes\":0},"
	"   {\"id\":21,\"vm\":\"web1\",\"txq\":1,\"packets\":200,\"bytes\":30000,"
	"    \"fallback_packets\":3,\"fallback_bytes\":450},"
	"   {\"id\":300,\"vm\":\"db1\",\"group\":1,\"packets\":5,\"bytes\":500,"
	"    \"fallback_packets\":0,\"fallback_bytes\":0},"
	"   {\"id\":4000,\"packets\":0,\"bytes\":0,\"fallback_packets\":9,\"fallback_bytes\":900}],"
	"  \"txqs\":[{\"txq\":1},{\"txq\":7}],\"txq_counters\":\"none\","
	"  \"kernel_choice\":{\"packets\":0,\"bytes\":0},"
	"  \"fallbacks\":{\"not_live\":{\"packets\":12,\"bytes\":1350},"
	"                \"beyond_map\":{\"packets\":0,\"bytes\":0},"
	"                \"bad_group\":{\"packets\":0,\"bytes\":0}}},"
	" {\"dev\":\"eth1\",\"queues\":[{\"id\":0,\"txq\":\"auto\",\"packets\":4,\"bytes\":400,"
	"   \"fallback_packets\":0,\"fallback_bytes\":0}],"
	"  \"txqs\":[],\"kernel_choice\":{\"packets\":4,\"bytes\":400},"
	"  \"fallbacks\":{\"not_live\":{\"packets\":0,\"bytes\":0},"
	"                \"beyond_map\":{\"packets\":0,\"bytes\":0},"
	"                \"bad_group\":{\"packets\":0,\"bytes\":0}}}]}";

static void render_full(void **state)
{
	char *text = render(full_stats);

	(void)state;
	/* vmq_up, 2 vmq_queues_live, 5 queues x 5 families, no txq figure,
	 * 2 devs x 2 kernel_choice, 2 devs x 3 reasons x 2. */
	assert_int_equal(check_format(text), 1 + 2 + 25 + 4 + 12);
	expect_line(text, "# TYPE vmq_queue_packets_total counter");
	expect_line(text, "# HELP vmq_queue_packets_total Packets steered as this queue.");
	expect_line(text, "vmq_up 1");
	expect_line(text, "vmq_queues_live{dev=\"eth0\"} 2");
	expect_line(text, "vmq_queues_live{dev=\"eth1\"} 0");
	expect_line(text, "vmq_queue_live{dev=\"eth0\",queue=\"0\"} 1");
	expect_line(text, "vmq_queue_live{dev=\"eth0\",queue=\"300\",vm=\"db1\"} 1");
	expect_line(text, "vmq_queue_live{dev=\"eth0\",queue=\"4000\"} 0");
	expect_line(text, "vmq_queue_live{dev=\"eth1\",queue=\"0\"} 1");
	expect_line(text, "vmq_queue_packets_total{dev=\"eth0\",queue=\"0\"} 10");
	expect_line(text, "vmq_queue_packets_total{dev=\"eth0\",queue=\"21\",vm=\"web1\"} 200");
	expect_line(text, "vmq_queue_bytes_total{dev=\"eth0\",queue=\"21\",vm=\"web1\"} 30000");
	expect_line(text,
		    "vmq_queue_fallback_packets_total{dev=\"eth0\",queue=\"21\",vm=\"web1\"} 3");
	expect_line(text,
		    "vmq_queue_fallback_bytes_total{dev=\"eth0\",queue=\"21\",vm=\"web1\"} 450");
	expect_line(text, "vmq_queue_fallback_packets_total{dev=\"eth0\",queue=\"4000\"} 9");
	expect_line(text, "vmq_queue_packets_total{dev=\"eth1\",queue=\"0\"} 4");
	expect_line(text, "vmq_kernel_choice_packets_total{dev=\"eth0\"} 0");
	expect_line(text, "vmq_kernel_choice_bytes_total{dev=\"eth1\"} 400");
	expect_line(text, "vmq_fallback_packets_total{dev=\"eth0\",reason=\"not_live\"} 12");
	expect_line(text, "vmq_fallback_bytes_total{dev=\"eth0\",reason=\"not_live\"} 1350");
	expect_line(text, "vmq_fallback_packets_total{dev=\"eth1\",reason=\"bad_group\"} 0");
	/* Absent from the stats: no family, not even its HELP. */
	expect_no(text, "vmq_txq_");
	expect_no(text, "bql");
	free(text);
}

/* Per-TX-queue kernel figures, when `stats show` carries them. */
static void render_kernel_figures(void **state)
{
	char *text =
		render("{\"devs\":[{\"dev\":\"eth0\",\"queues\":[],\"txqs\":["
		       "{\"txq\":3,\"kernel\":{\"packets\":7,\"bytes\":70},\"bql_inflight\":1500},"
		       "{\"txq\":4,\"kernel\":{\"packets\":2}}],\"txq_counters\":\"mq\"}]}");

	(void)state;
	/* vmq_up, vmq_queues_live, kernel packets x 2, kernel bytes x 1, BQL x 1. */
	assert_int_equal(check_format(text), 1 + 1 + 2 + 1 + 1);
	expect_line(text, "vmq_txq_kernel_packets_total{dev=\"eth0\",txq=\"3\"} 7");
	expect_line(text, "vmq_txq_kernel_packets_total{dev=\"eth0\",txq=\"4\"} 2");
	expect_line(text, "vmq_txq_kernel_bytes_total{dev=\"eth0\",txq=\"3\"} 70");
	expect_no(text, "vmq_txq_kernel_bytes_total{dev=\"eth0\",txq=\"4\"}");
	expect_line(text, "# TYPE vmq_txq_bql_inflight_bytes gauge");
	expect_line(text, "vmq_txq_bql_inflight_bytes{dev=\"eth0\",txq=\"3\"} 1500");
	free(text);
}

/* The TX queue balancer's moves, per uplink (stats' "balance"). */
static void render_balance_moves(void **state)
{
	char *text = render("{\"devs\":[{\"dev\":\"eth0\",\"queues\":[],\"balance\":"
			    "{\"moves\":5,\"moves_waited\":3,\"moves_gave_up\":1}}]}");

	(void)state;
	assert_int_equal(check_format(text), 1 + 1 + 3);
	expect_line(text, "# TYPE vmq_balance_moves_total counter");
	expect_line(text, "vmq_balance_moves_total{dev=\"eth0\"} 5");
	expect_line(text, "vmq_balance_moves_waited_total{dev=\"eth0\"} 3");
	expect_line(text, "vmq_balance_moves_gave_up_total{dev=\"eth0\"} 1");
	free(text);
}

/* The receive side's families, when `stats show` carries them. */
static void render_rx(void **state)
{
	char *text = render("{\"devs\":[{\"dev\":\"eth0\",\"queues\":["
			    "{\"id\":7,\"vm\":\"web1\",\"txq\":1,\"packets\":0,\"bytes\":0,"
			    "\"rx_packets\":200,\"rx_bytes\":12800,\"rx_fallback_packets\":5,"
			    "\"rx_fallback_bytes\":320}],"
			    "\"rx_outcomes\":{\"port\":{\"packets\":200,\"bytes\":12800},"
			    "\"unmatched\":{\"packets\":4,\"bytes\":256}}}]}");

	(void)state;
	/* vmq_up, vmq_queues_live, queue 7: live, packets, bytes, 4 rx; 2
	 * outcomes x 2. */
	assert_int_equal(check_format(text), 1 + 1 + 3 + 4 + 4);
	expect_line(text, "# TYPE vmq_rx_queue_packets_total counter");
	expect_line(text, "vmq_rx_queue_packets_total{dev=\"eth0\",queue=\"7\",vm=\"web1\"} 200");
	expect_line(text, "vmq_rx_queue_bytes_total{dev=\"eth0\",queue=\"7\",vm=\"web1\"} 12800");
	expect_line(text,
		    "vmq_rx_queue_fallback_packets_total{dev=\"eth0\",queue=\"7\",vm=\"web1\"} 5");
	expect_line(text,
		    "vmq_rx_queue_fallback_bytes_total{dev=\"eth0\",queue=\"7\",vm=\"web1\"} 320");
	expect_line(text, "vmq_rx_packets_total{dev=\"eth0\",outcome=\"port\"} 200");
	expect_line(text, "vmq_rx_packets_total{dev=\"eth0\",outcome=\"unmatched\"} 4");
	expect_line(text, "vmq_rx_bytes_total{dev=\"eth0\",outcome=\"unmatched\"} 256");
	/* Outcomes are no fallback reasons. */
	expect_no(text, "reason=\"port\"");
	free(text);
}

static void render_escapes_labels(void **state)
{
	/* JSON: dev a"b\c<newline>d, vm w"1\ */
	char *text = render("{\"devs\":[{\"dev\":\"a\\\"b\\\\c\\nd\",\"queues\":[{\"id\":7,"
			    "\"vm\":\"w\\\"1\\\\\",\"txq\":1,\"packets\":1,\"bytes\":2}],"
			    "\"fallbacks\":{\"odd\\\"reason\\n\":{\"packets\":3,\"bytes\":4}}}]}");

	(void)state;
	check_format(text);
	expect_line(
		text,
		"vmq_queue_packets_total{dev=\"a\\\"b\\\\c\\nd\",queue=\"7\",vm=\"w\\\"1\\\\\"} 1");
	expect_line(text, "vmq_fallback_packets_total{dev=\"a\\\"b\\\\c\\nd\",reason="
			  "\"odd\\\"reason\\n\"} 3");
	free(text);
}

/* Wrong types and impossible values leave the sample out; the largest
 * counter is printed exactly. */
static void render_skips_bad_values(void **state)
{
	char *text = render(
		"{\"devs\":[{\"dev\":\"eth0\",\"queues\":["
		"{\"id\":1,\"txq\":1,\"packets\":\"12\",\"bytes\":-5,\"fallback_packets\":1.5,"
		"\"fallback_bytes\":null},"
		"{\"txq\":1,\"packets\":99},"
		"{\"id\":-2,\"packets\":98},"
		"{\"id\":2,\"txq\":1,\"packets\":18446744073709551615}],"
		"\"txqs\":{\"txq\":1},\"kernel_choice\":[],\"fallbacks\":{\"not_live\":7}}]}");

	(void)state;
	check_format(text);
	expect_no(text, "vmq_queue_bytes_total");
	expect_no(text, "vmq_queue_fallback");
	expect_no(text, "99");
	expect_no(text, "98");
	expect_no(text, "vmq_txq_");
	expect_no(text, "vmq_kernel_choice");
	expect_no(text, "vmq_fallback");
	expect_no(text, "queue=\"1\"} 12");
	expect_line(text, "vmq_queue_packets_total{dev=\"eth0\",queue=\"2\"} 18446744073709551615");
	expect_line(text, "vmq_queue_live{dev=\"eth0\",queue=\"1\"} 1");
	expect_line(text, "vmq_queues_live{dev=\"eth0\"} 2");
	free(text);
}

static void parse_good(void **state)
{
	struct vmq_listen_addr a;
	struct sockaddr_in *sin = (struct sockaddr_in *)&a.ss;
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&a.ss;
	char why[160], buf[INET6_ADDRSTRLEN];

	(void)state;
	assert_int_equal(
		vmq_parse_listen_addr("9300", VMQD_METRICS_ADDR_DEFAULT, &a, why, sizeof(why)), 0);
	assert_int_equal(a.ss.ss_family, AF_INET);
	assert_int_equal(a.len, sizeof(*sin));
	assert_int_equal(ntohs(sin->sin_port), 9300);
	assert_int_equal(ntohl(sin->sin_addr.s_addr), INADDR_LOOPBACK);
	assert_string_equal(a.text, "127.0.0.1:9300");

	assert_int_equal(
		vmq_parse_listen_addr("0.0.0.0:1", VMQD_METRICS_ADDR_DEFAULT, &a, why, sizeof(why)),
		0);
	assert_int_equal(ntohs(sin->sin_port), 1);
	assert_int_equal(sin->sin_addr.s_addr, htonl(INADDR_ANY));
	assert_string_equal(a.text, "0.0.0.0:1");

	assert_int_equal(vmq_parse_listen_addr("192.0.2.1:65535", VMQD_METRICS_ADDR_DEFAULT, &a,
					       why, sizeof(why)),
			 0);
	assert_int_equal(ntohs(sin->sin_port), 65535);
	assert_string_equal(inet_ntop(AF_INET, &sin->sin_addr, buf, sizeof(buf)), "192.0.2.1");

	assert_int_equal(vmq_parse_listen_addr("[::1]:9300", VMQD_METRICS_ADDR_DEFAULT, &a, why,
					       sizeof(why)),
			 0);
	assert_int_equal(a.ss.ss_family, AF_INET6);
	assert_int_equal(a.len, sizeof(*sin6));
	assert_int_equal(ntohs(sin6->sin6_port), 9300);
	assert_true(IN6_IS_ADDR_LOOPBACK(&sin6->sin6_addr));
	assert_string_equal(a.text, "[::1]:9300");

	assert_int_equal(vmq_parse_listen_addr("[2001:db8::7]:80", VMQD_METRICS_ADDR_DEFAULT, &a,
					       why, sizeof(why)),
			 0);
	assert_string_equal(inet_ntop(AF_INET6, &sin6->sin6_addr, buf, sizeof(buf)), "2001:db8::7");
}

/* An absolute path is a Unix socket; one too long for sun_path is refused. */
static void parse_unix(void **state)
{
	struct vmq_listen_addr a;
	struct sockaddr_un *sun = (struct sockaddr_un *)&a.ss;
	char why[160], path[200];

	(void)state;
	assert_int_equal(vmq_parse_listen_addr("/run/vmq/metrics.sock", VMQD_METRICS_ADDR_DEFAULT,
					       &a, why, sizeof(why)),
			 0);
	assert_int_equal(a.ss.ss_family, AF_UNIX);
	assert_string_equal(sun->sun_path, "/run/vmq/metrics.sock");
	assert_string_equal(a.text, "/run/vmq/metrics.sock");
	memset(path, 'x', sizeof(path) - 1);
	path[0] = '/';
	path[sizeof(path) - 1] = '\0';
	assert_int_equal(
		vmq_parse_listen_addr(path, VMQD_METRICS_ADDR_DEFAULT, &a, why, sizeof(why)),
		-EINVAL);
	assert_non_null(strstr(why, "Unix socket path"));
}

/* The token file: its first line, printable, no blanks, 1..256 bytes. */
static void token_file(void **state)
{
	static const struct {
		const char *text;
		int err;
		const char *token;
	} cases[] = {
		{ "s3cret\n", 0, "s3cret" },	   { "s3cret\r\nsecond line\n", 0, "s3cret" },
		{ "no-newline", 0, "no-newline" }, { "", -EINVAL, NULL },
		{ "\nlater\n", -EINVAL, NULL },	   { "two words\n", -EINVAL, NULL },
		{ "tab\there\n", -EINVAL, NULL },
	};
	char dir[] = "/tmp/vmq-token-XXXXXX", path[64], token[VMQD_METRICS_TOKEN_MAX + 1], why[160],
	     big[VMQD_METRICS_TOKEN_MAX + 3];
	FILE *f;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/token", dir);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		f = fopen(path, "w");
		assert_non_null(f);
		fputs(cases[i].text, f);
		fclose(f);
		assert_int_equal(
			vmqd_metrics_read_token(path, token, sizeof(token), why, sizeof(why)),
			cases[i].err);
		if (cases[i].token)
			assert_string_equal(token, cases[i].token);
	}
	/* 256 bytes fit; 257 do not. */
	memset(big, 'a', sizeof(big));
	big[VMQD_METRICS_TOKEN_MAX] = '\0';
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(big, f);
	fclose(f);
	assert_int_equal(vmqd_metrics_read_token(path, token, sizeof(token), why, sizeof(why)), 0);
	assert_int_equal(strlen(token), VMQD_METRICS_TOKEN_MAX);
	big[VMQD_METRICS_TOKEN_MAX] = 'a';
	big[VMQD_METRICS_TOKEN_MAX + 1] = '\0';
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(big, f);
	fclose(f);
	assert_int_equal(vmqd_metrics_read_token(path, token, sizeof(token), why, sizeof(why)),
			 -EINVAL);
	assert_non_null(strstr(why, "longer than 256"));
	assert_int_equal(unlink(path), 0);
	assert_int_equal(vmqd_metrics_read_token(path, token, sizeof(token), why, sizeof(why)),
			 -ENOENT);
	assert_int_equal(rmdir(dir), 0);
}

static void parse_bad(void **state)
{
	static const struct {
		const char *arg, *why;
	} bad[] = {
		{ "", "port \"\": expected a number 1..65535" },
		{ "0", "port \"0\": expected a number 1..65535" },
		{ "65536", "port \"65536\"" },
		{ "99999999999999999999", "port \"99999999999999999999\"" },
		{ "-1", "port \"-1\"" },
		{ "+9300", "port \"+9300\"" },
		{ " 9300", "port \" 9300\"" },
		{ "9300 ", "port \"9300 \"" },
		{ "12abc", "port \"12abc\"" },
		{ "0x10", "port \"0x10\"" },
		{ "1.2.3.4:", "port \"\"" },
		{ "1.2.3.4:0", "port \"0\"" },
		{ "1.2.3:9300", "\"1.2.3\": not an IPv4 address" },
		{ "1.2.3.256:9300", "\"1.2.3.256\": not an IPv4 address" },
		{ "localhost:9300", "\"localhost\": not an IPv4 address (host names" },
		{ ":9300", "\"\": not an IPv4 address" },
		{ "::1:9300", "an IPv6 address goes in brackets" },
		{ "[::1]9300", "expected [IPV6]:PORT" },
		{ "[::1:9300", "expected [IPV6]:PORT" },
		{ "[::1]", "expected [IPV6]:PORT" },
		{ "[127.0.0.1]:9300", "\"127.0.0.1\": not an IPv6 address" },
		{ "[]:9300", "\"\": not an IPv6 address" },
		{ "[::1]:65536", "port \"65536\"" },
		{ "[0000:0000:0000:0000:0000:0000:0000:0000:0000]:1", "not an IPv6 address" },
	};
	struct vmq_listen_addr a;
	char why[160];

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		why[0] = '\0';
		if (vmq_parse_listen_addr(bad[i].arg, VMQD_METRICS_ADDR_DEFAULT, &a, why,
					  sizeof(why)) != -EINVAL ||
		    !strstr(why, bad[i].why))
			fail_msg("\"%s\": wanted -EINVAL and \"%s\", got \"%s\"", bad[i].arg,
				 bad[i].why, why);
	}
}

/* --- the HTTP server --------------------------------------------------- */

static struct vmqd http_daemon;

static int http_connect(unsigned int port)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_port = htons((uint16_t)port),
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	return fd;
}

/* Reads until the server closes (5 s at most); the answer, NUL-terminated. */
static char *http_read(int fd)
{
	size_t cap = 1 << 16, len = 0;
	char *buf = malloc(cap);

	assert_non_null(buf);
	for (;;) {
		struct pollfd p = { .fd = fd, .events = POLLIN };
		ssize_t n;

		assert_int_equal(poll(&p, 1, 5000), 1);
		n = recv(fd, buf + len, cap - len - 1, 0);
		assert_true(n >= 0);
		if (!n)
			break;
		len += (size_t)n;
		assert_true(len < cap - 1);
	}
	buf[len] = '\0';
	close(fd);
	return buf;
}

static char *http(unsigned int port, const char *request)
{
	int fd = http_connect(port);

	assert_int_equal(send(fd, request, strlen(request), MSG_NOSIGNAL),
			 (ssize_t)strlen(request));
	return http_read(fd);
}

static void expect_header(const char *answer, const char *header)
{
	const char *end = strstr(answer, "\r\n\r\n");
	const char *h = strstr(answer, header);

	if (!end || !h || h > end || h[-1] != '\n' || strncmp(h + strlen(header), "\r\n", 2))
		fail_msg("expected the header \"%s\" in:\n%s", header, answer);
}

static void server_answers(void **state)
{
	struct vmqd_metrics_addr addr = {};
	struct vmqd_metrics *m = NULL;
	char why[160], req[128], *a, *body;
	unsigned int port;
	int fd;

	(void)state;
	memset(&http_daemon, 0, sizeof(http_daemon));
	pthread_mutex_init(&http_daemon.lock, NULL);
	assert_int_equal(vmq_parse_listen_addr("127.0.0.1:1", VMQD_METRICS_ADDR_DEFAULT,
					       &addr.listen, why, sizeof(why)),
			 0);
	((struct sockaddr_in *)&addr.listen.ss)->sin_port = 0; /* any free port */
	assert_int_equal(vmqd_metrics_start(&m, &http_daemon, &addr), 0);
	port = vmqd_metrics_port(m);
	assert_true(port > 0 && port < 65536);

	a = http(port, "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(!strncmp(a, "HTTP/1.1 200 ", 13));
	expect_header(a, "Content-Type: text/plain; version=0.0.4; charset=utf-8");
	body = strstr(a, "\r\n\r\n") + 4;
	assert_string_equal(body, "# HELP vmq_up 1: vmqd answered this scrape.\n"
				  "# TYPE vmq_up gauge\n"
				  "vmq_up 1\n");
	free(a);

	/* HEAD: the same headers, no body. */
	a = http(port, "HEAD /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n");
	assert_true(!strncmp(a, "HTTP/1.1 200 ", 13));
	expect_header(a, "Content-Type: text/plain; version=0.0.4; charset=utf-8");
	assert_string_equal(strstr(a, "\r\n\r\n"), "\r\n\r\n");
	free(a);

	/* Keep-alive: two scrapes on one connection, as Prometheus does. */
	fd = http_connect(port);
	for (int i = 0; i < 2; i++) {
		static const char get[] = "GET /metrics HTTP/1.1\r\nHost: x\r\n\r\n";
		char buf[4096];
		size_t len = 0;
		const char *cl, *end;

		assert_int_equal(send(fd, get, sizeof(get) - 1, MSG_NOSIGNAL), sizeof(get) - 1);
		/* One whole answer: its headers, then Content-Length bytes. */
		for (;;) {
			struct pollfd p = { .fd = fd, .events = POLLIN };
			ssize_t n;

			buf[len] = '\0';
			end = strstr(buf, "\r\n\r\n");
			cl = strstr(buf, "Content-Length: ");
			if (end && cl &&
			    len >= (size_t)(end + 4 - buf) + strtoul(cl + 16, NULL, 10))
				break;
			assert_int_equal(poll(&p, 1, 5000), 1);
			n = recv(fd, buf + len, sizeof(buf) - len - 1, 0);
			if (n <= 0)
				fail_msg("scrape %d on one connection: closed after:\n%s", i + 1,
					 buf);
			len += (size_t)n;
		}
		assert_true(!strncmp(buf, "HTTP/1.1 200 ", 13));
		assert_null(strstr(buf, "Connection: close"));
	}
	close(fd);

	/* A query string is not part of the path. */
	a = http(port, "GET /metrics?x=1 HTTP/1.0\r\n\r\n");
	assert_true(!strncmp(a, "HTTP/1.0 200 ", 13) || !strncmp(a, "HTTP/1.1 200 ", 13));
	free(a);

	static const char *const not_found[] = { "/", "/metrics/", "/metricsx", "/Metrics",
						 "/favicon.ico" };
	for (size_t i = 0; i < sizeof(not_found) / sizeof(not_found[0]); i++) {
		snprintf(req, sizeof(req),
			 "GET %s HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n", not_found[i]);
		a = http(port, req);
		if (strncmp(a, "HTTP/1.1 404 ", 13))
			fail_msg("GET %s: expected 404, got:\n%s", not_found[i], a);
		free(a);
	}
	static const char *const refused[] = { "POST", "PUT", "DELETE", "OPTIONS", "PATCH" };
	for (size_t i = 0; i < sizeof(refused) / sizeof(refused[0]); i++) {
		snprintf(req, sizeof(req),
			 "%s /metrics HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n"
			 "Connection: close\r\n\r\nabc",
			 refused[i]);
		a = http(port, req);
		if (strncmp(a, "HTTP/1.1 405 ", 13))
			fail_msg("%s /metrics: expected 405, got:\n%s", refused[i], a);
		expect_header(a, "Allow: GET, HEAD");
		free(a);
	}

	/* The scrape waits for the daemon's lock: a request being handled
	 * finishes first. */
	pthread_mutex_lock(&http_daemon.lock);
	fd = http_connect(port);
	{
		static const char get[] =
			"GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
		struct pollfd p = { .fd = fd, .events = POLLIN };

		assert_int_equal(send(fd, get, sizeof(get) - 1, MSG_NOSIGNAL), sizeof(get) - 1);
		assert_int_equal(poll(&p, 1, 300), 0);
	}
	pthread_mutex_unlock(&http_daemon.lock);
	a = http_read(fd);
	assert_true(!strncmp(a, "HTTP/1.1 200 ", 13));
	free(a);

	/* Stopped: the port is closed. */
	vmqd_metrics_stop(m);
	{
		struct sockaddr_in sin = { .sin_family = AF_INET,
					   .sin_port = htons((uint16_t)port),
					   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };

		fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
		assert_int_not_equal(connect(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
		assert_int_equal(errno, ECONNREFUSED);
		close(fd);
	}
	vmqd_metrics_stop(NULL);
	pthread_mutex_destroy(&http_daemon.lock);
}

/* [::1]: served over IPv6 (skipped where the host has no IPv6 loopback). */
static void server_ipv6(void **state)
{
	static const char get[] = "GET /metrics HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n";
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	struct vmqd_metrics_addr addr = {};
	struct vmqd_metrics *m = NULL;
	char why[160], *a;
	int fd, err;

	(void)state;
	memset(&http_daemon, 0, sizeof(http_daemon));
	pthread_mutex_init(&http_daemon.lock, NULL);
	assert_int_equal(vmq_parse_listen_addr("[::1]:1", VMQD_METRICS_ADDR_DEFAULT, &addr.listen,
					       why, sizeof(why)),
			 0);
	((struct sockaddr_in6 *)&addr.listen.ss)->sin6_port = 0;
	err = vmqd_metrics_start(&m, &http_daemon, &addr);
	if (err == -EADDRNOTAVAIL || err == -EAFNOSUPPORT) {
		pthread_mutex_destroy(&http_daemon.lock);
		skip();
	}
	assert_int_equal(err, 0);
	sin6.sin6_port = htons((uint16_t)vmqd_metrics_port(m));
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(fd >= 0);
	assert_int_equal(connect(fd, (struct sockaddr *)&sin6, sizeof(sin6)), 0);
	assert_int_equal(send(fd, get, sizeof(get) - 1, MSG_NOSIGNAL), sizeof(get) - 1);
	a = http_read(fd);
	assert_true(!strncmp(a, "HTTP/1.1 200 ", 13));
	assert_non_null(strstr(a, "\nvmq_up 1\n"));
	free(a);
	vmqd_metrics_stop(m);
	pthread_mutex_destroy(&http_daemon.lock);
}

/* A port already listened on: -EADDRINUSE, nothing started. */
static void server_port_in_use(void **state)
{
	struct sockaddr_in sin = { .sin_family = AF_INET,
				   .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(sin);
	struct vmqd_metrics_addr addr = {};
	struct vmqd_metrics *m = NULL;
	char why[160], arg[32];
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)), 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sin, sizeof(sin)), 0);
	assert_int_equal(listen(fd, 1), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sin, &len), 0);
	snprintf(arg, sizeof(arg), "%u", ntohs(sin.sin_port));
	assert_int_equal(vmq_parse_listen_addr(arg, VMQD_METRICS_ADDR_DEFAULT, &addr.listen, why,
					       sizeof(why)),
			 0);
	memset(&http_daemon, 0, sizeof(http_daemon));
	pthread_mutex_init(&http_daemon.lock, NULL);
	assert_int_equal(vmqd_metrics_start(&m, &http_daemon, &addr), -EADDRINUSE);
	assert_null(m);
	close(fd);
	pthread_mutex_destroy(&http_daemon.lock);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(render_empty),
		cmocka_unit_test(render_full),
		cmocka_unit_test(render_kernel_figures),
		cmocka_unit_test(render_balance_moves),
		cmocka_unit_test(render_rx),
		cmocka_unit_test(render_escapes_labels),
		cmocka_unit_test(render_skips_bad_values),
		cmocka_unit_test(parse_good),
		cmocka_unit_test(parse_bad),
		cmocka_unit_test(parse_unix),
		cmocka_unit_test(token_file),
		cmocka_unit_test(server_answers),
		cmocka_unit_test(server_ipv6),
		cmocka_unit_test(server_port_in_use),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
