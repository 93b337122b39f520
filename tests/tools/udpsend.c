// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq-udpsend: a small IPv4 UDP sender for the integration tests.
 *
 * Sends N datagrams round-robin over F flows (one socket per flow, source
 * ports B..B+F-1), each socket carrying SO_MARK = M, optionally paced.
 *
 * The sockets are never connected: a connected socket caches its TX queue
 * (sk_tx_queue_set needs sk->sk_dst_cache, which only a connected UDP
 * socket has), and a cached queue overrides the queue_mapping that tc
 * egress steering sets (kernel-notes, general 2). Unconnected sendto() keeps no
 * route in the socket, so the stack picks the TX queue per packet.
 *
 * Nothing is dropped silently: IP_RECVERR makes the kernel report a qdisc
 * drop as ENOBUFS (without it UDP swallows ENOBUFS), and that packet is
 * sent again. IP_PMTUDISC_DO refuses to fragment, so one datagram is one
 * packet on the wire, or an error. An ICMP error about an earlier datagram
 * (e.g. port unreachable) surfaces on the next sendto() before anything is
 * sent; it is drained, counted and the datagram is sent again.
 *
 * Exit status: 0 all sent, 1 send or setup error, 2 usage error.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <linux/errqueue.h>
#include <net/if.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define MAX_FLOWS      4096U
#define MAX_PAYLOAD    65507U /* 65535 - 20 (IPv4) - 8 (UDP) */
#define MAX_RATE       100000000ULL
#define RETRY_LIMIT_NS (10ULL * 1000000000ULL) /* per datagram */
#define NSEC	       1000000000ULL

static const char *prog = "vmq-udpsend";

struct opts {
	struct in_addr dst;
	unsigned int port;
	unsigned int src_port_base; /* 0: kernel-chosen ephemeral ports */
	unsigned int flows;
	uint64_t count;
	uint64_t rate; /* 0: unpaced */
	uint32_t mark;
	int have_mark;
	unsigned int size;
	const char *bind_dev;
	const char *tag; /* numbered datagrams: 24 bytes, guest_rx.py's format */
};

struct stats {
	uint64_t enobufs_retries;
	uint64_t eagain_retries;
	uint64_t icmp_errors;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: %s --dst IP --port P --count N [--src-port-base B] [--flows F]\n"
		"       [--rate PPS] [--mark M] [--size BYTES] [--bind-dev DEV]\n"
		"\n"
		"Sends N IPv4 UDP datagrams to IP:P, round-robin over F flows (F unconnected\n"
		"sockets, source ports B..B+F-1, or kernel-chosen ones without B).\n"
		"  --dst IP             destination IPv4 address (required)\n"
		"  --port P             destination UDP port, 1-65535 (required)\n"
		"  --count N            datagrams to send, >= 1 (required)\n"
		"  --src-port-base B    first source port, 1-65535 (default: ephemeral)\n"
		"  --flows F            sockets / flows, 1-%u (default 1)\n"
		"  --rate PPS           pace at PPS datagrams per second (default 0: unpaced)\n"
		"  --mark M             SO_MARK on every socket, decimal or 0x hex (default: "
		"none)\n"
		"  --size BYTES         UDP payload bytes, 0-%u (default 64); never fragmented\n"
		"  --bind-dev DEV       SO_BINDTODEVICE DEV\n"
		"  --tag TAG            numbered datagrams of 24 bytes: the sequence number\n"
		"                       (8 bytes, big-endian), then TAG (1-16 bytes, NUL-padded)\n"
		"  --help               this text\n"
		"Prints \"sent N\" on success. Exit 0 ok, 1 error, 2 bad arguments.\n",
		prog, MAX_FLOWS, MAX_PAYLOAD);
}

static void die_usage(const char *fmt, const char *arg)
{
	fprintf(stderr, "%s: ", prog);
	fprintf(stderr, fmt, arg);
	fprintf(stderr, "\nTry '%s --help'.\n", prog);
	exit(2);
}

/* Whole string must be an unsigned number in [min, max]; base 10, or base 0
 * (0x hex allowed) when hex_ok. No sign, no spaces, no trailing garbage. */
static uint64_t parse_num(const char *name, const char *s, uint64_t min, uint64_t max, int hex_ok)
{
	unsigned long long v;
	char *end;
	int base = 10;

	if (!s || !*s || !(s[0] >= '0' && s[0] <= '9'))
		die_usage("invalid number for %s", name);
	if (hex_ok && s[0] == '0' && (s[1] == 'x' || s[1] == 'X'))
		base = 16;
	else if (s[0] == '0' && s[1] != '\0')
		die_usage("invalid number for %s (no leading zeros; use 0x for hex)", name);
	errno = 0;
	v = strtoull(s, &end, base);
	if (errno || *end != '\0' || end == s || (base == 16 && end == s + 2))
		die_usage("invalid number for %s", name);
	if (v < min || v > max) {
		fprintf(stderr, "%s: %s %s out of range [%" PRIu64 ", %" PRIu64 "]\n", prog, name,
			s, min, max);
		exit(2);
	}
	return v;
}

static void parse_args(int argc, char **argv, struct opts *o)
{
	enum {
		O_DST = 1,
		O_PORT,
		O_BASE,
		O_FLOWS,
		O_COUNT,
		O_RATE,
		O_MARK,
		O_SIZE,
		O_DEV,
		O_TAG,
		O_HELP
	};
	static const struct option longopts[] = {
		{ "dst", required_argument, NULL, O_DST },
		{ "port", required_argument, NULL, O_PORT },
		{ "src-port-base", required_argument, NULL, O_BASE },
		{ "flows", required_argument, NULL, O_FLOWS },
		{ "count", required_argument, NULL, O_COUNT },
		{ "rate", required_argument, NULL, O_RATE },
		{ "mark", required_argument, NULL, O_MARK },
		{ "size", required_argument, NULL, O_SIZE },
		{ "bind-dev", required_argument, NULL, O_DEV },
		{ "tag", required_argument, NULL, O_TAG },
		{ "help", no_argument, NULL, O_HELP },
		{ NULL, 0, NULL, 0 },
	};
	unsigned int seen = 0;
	int c, li;

	memset(o, 0, sizeof(*o));
	o->flows = 1;
	o->size = 64;
	opterr = 0;
	while ((li = -1, c = getopt_long(argc, argv, "", longopts, &li)) != -1) {
		if (c == '?' || c == ':') {
			if (optopt >= O_DST && optopt <= O_HELP)
				die_usage(longopts[optopt - 1].has_arg
						  ? "option --%s needs an argument"
						  : "option --%s takes no argument",
					  longopts[optopt - 1].name);
			die_usage("unknown option: %s", argv[optind - 1]);
		}
		if (c == O_HELP) {
			usage(stdout);
			exit(0);
		}
		if (seen & (1U << c))
			die_usage("option given twice: --%s", longopts[li].name);
		seen |= 1U << c;
		switch (c) {
		case O_DST:
			if (inet_pton(AF_INET, optarg, &o->dst) != 1)
				die_usage("invalid IPv4 address for --dst: %s", optarg);
			break;
		case O_PORT:
			o->port = parse_num("--port", optarg, 1, 65535, 0);
			break;
		case O_BASE:
			o->src_port_base = parse_num("--src-port-base", optarg, 1, 65535, 0);
			break;
		case O_FLOWS:
			o->flows = parse_num("--flows", optarg, 1, MAX_FLOWS, 0);
			break;
		case O_COUNT:
			o->count = parse_num("--count", optarg, 1, UINT64_MAX, 0);
			break;
		case O_RATE:
			o->rate = parse_num("--rate", optarg, 0, MAX_RATE, 0);
			break;
		case O_MARK:
			o->mark = parse_num("--mark", optarg, 0, UINT32_MAX, 1);
			o->have_mark = 1;
			break;
		case O_SIZE:
			o->size = parse_num("--size", optarg, 0, MAX_PAYLOAD, 0);
			break;
		case O_TAG:
			if (!*optarg || strlen(optarg) > 16)
				die_usage("invalid --tag (1..16 bytes): %s", optarg);
			o->tag = optarg;
			break;
		case O_DEV:
			if (!*optarg || strlen(optarg) >= IFNAMSIZ)
				die_usage("invalid interface name for --bind-dev: %s", optarg);
			o->bind_dev = optarg;
			break;
		}
	}
	if (optind < argc)
		die_usage("unexpected argument: %s", argv[optind]);
	if (o->tag)
		o->size = 24;
	if (!(seen & (1U << O_DST)))
		die_usage("%s", "--dst is required");
	if (!(seen & (1U << O_PORT)))
		die_usage("%s", "--port is required");
	if (!(seen & (1U << O_COUNT)))
		die_usage("%s", "--count is required");
	if (o->src_port_base && o->src_port_base + o->flows - 1 > 65535)
		die_usage("%s", "--src-port-base + --flows - 1 exceeds 65535");
}

static int open_flow(const struct opts *o, unsigned int i)
{
	struct sockaddr_in src = { .sin_family = AF_INET };
	int one = 1, pmtu = IP_PMTUDISC_DO;
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP);

	if (fd < 0) {
		fprintf(stderr, "%s: socket: %s\n", prog, strerror(errno));
		return -1;
	}
	if (o->have_mark && setsockopt(fd, SOL_SOCKET, SO_MARK, &o->mark, sizeof(o->mark))) {
		fprintf(stderr, "%s: SO_MARK %u: %s\n", prog, o->mark, strerror(errno));
		goto fail;
	}
	if (o->bind_dev &&
	    setsockopt(fd, SOL_SOCKET, SO_BINDTODEVICE, o->bind_dev, strlen(o->bind_dev) + 1)) {
		fprintf(stderr, "%s: SO_BINDTODEVICE %s: %s\n", prog, o->bind_dev, strerror(errno));
		goto fail;
	}
	if (setsockopt(fd, IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) ||
	    setsockopt(fd, IPPROTO_IP, IP_MTU_DISCOVER, &pmtu, sizeof(pmtu))) {
		fprintf(stderr, "%s: setsockopt: %s\n", prog, strerror(errno));
		goto fail;
	}
	/* Bind now (port 0: ephemeral) so every flow's source port is fixed
	 * and distinct before the first datagram, and errors show up here. */
	src.sin_port = htons(o->src_port_base ? o->src_port_base + i : 0);
	if (bind(fd, (struct sockaddr *)&src, sizeof(src))) {
		fprintf(stderr, "%s: bind source port %u: %s\n", prog,
			o->src_port_base ? o->src_port_base + i : 0, strerror(errno));
		goto fail;
	}
	return fd;
fail:
	close(fd);
	return -1;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = t / NSEC, .tv_nsec = t % NSEC };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

static void sleep_ns(uint64_t ns)
{
	sleep_until(now_ns() + ns);
}

/* Drains the socket's error queue; returns how many ICMP errors it held,
 * and clears the pending socket error they left behind. */
static unsigned int drain_icmp_errors(int fd)
{
	unsigned int icmp = 0;
	int soerr;
	socklen_t len = sizeof(soerr);

	for (;;) {
		char data[64], ctrl[512];
		struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
		struct msghdr msg = {
			.msg_iov = &iov,
			.msg_iovlen = 1,
			.msg_control = ctrl,
			.msg_controllen = sizeof(ctrl),
		};
		struct cmsghdr *cm;

		if (recvmsg(fd, &msg, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			break;
		for (cm = CMSG_FIRSTHDR(&msg); cm; cm = CMSG_NXTHDR(&msg, cm)) {
			struct sock_extended_err ee;

			if (cm->cmsg_level != IPPROTO_IP || cm->cmsg_type != IP_RECVERR)
				continue;
			memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
			if (ee.ee_origin == SO_EE_ORIGIN_ICMP)
				icmp++;
		}
	}
	/* Dequeuing can re-arm sk_err; reading SO_ERROR clears it. */
	getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len);
	return icmp;
}

/* Sends one datagram, retrying on anything that means "not sent, try
 * again". Returns 0, or -1 after printing why. */
static int send_one(int fd, const void *buf, size_t size, const struct sockaddr_in *dst,
		    struct stats *st, uint64_t seq)
{
	uint64_t deadline = 0, backoff = 10000; /* 10 us, doubling to 1 ms */

	for (;;) {
		ssize_t n = sendto(fd, buf, size, 0, (const struct sockaddr *)dst, sizeof(*dst));
		int err = errno;
		unsigned int icmp;

		if (n >= 0) {
			if ((size_t)n != size) {
				fprintf(stderr, "%s: datagram %" PRIu64 ": short send %zd of %zu\n",
					prog, seq, n, size);
				return -1;
			}
			return 0;
		}
		switch (err) {
		case EINTR:
			continue;
		case ENOBUFS:
			st->enobufs_retries++;
			break;
		case EAGAIN:
			st->eagain_retries++;
			break;
		case ECONNREFUSED:
		case EHOSTUNREACH:
		case ENETUNREACH:
		case EHOSTDOWN:
		case EPROTO:
		case EMSGSIZE:
			/* Retry only if this is an earlier datagram's ICMP
			 * error: then nothing was sent this time. */
			icmp = drain_icmp_errors(fd);
			if (icmp) {
				st->icmp_errors += icmp;
				continue;
			}
			/* fall through */
		default:
			fprintf(stderr, "%s: datagram %" PRIu64 ": sendto: %s\n", prog, seq,
				strerror(err));
			return -1;
		}
		if (!deadline)
			deadline = now_ns() + RETRY_LIMIT_NS;
		else if (now_ns() > deadline) {
			fprintf(stderr,
				"%s: datagram %" PRIu64 ": still %s after %llu s, giving up\n",
				prog, seq, strerror(err), RETRY_LIMIT_NS / NSEC);
			return -1;
		}
		if (err == EAGAIN) {
			struct pollfd p = { .fd = fd, .events = POLLOUT };

			poll(&p, 1, 10);
		} else {
			sleep_ns(backoff);
			if (backoff < 1000000)
				backoff *= 2;
		}
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	struct stats st = { 0 };
	struct opts o;
	unsigned char *buf;
	uint64_t i, start;
	int *fds, rc = 1;
	unsigned int f;

	parse_args(argc, argv, &o);
	dst.sin_addr = o.dst;
	dst.sin_port = htons(o.port);

	fds = calloc(o.flows, sizeof(*fds));
	buf = calloc(1, o.size ? o.size : 1);
	if (!fds || !buf) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	for (f = 0; f < o.flows; f++)
		fds[f] = -1;
	for (f = 0; f < o.flows; f++) {
		fds[f] = open_flow(&o, f);
		if (fds[f] < 0)
			goto out;
	}
	for (i = 0; i < o.size; i++)
		buf[i] = (unsigned char)('a' + i % 26);

	start = now_ns();
	for (i = 0; i < o.count; i++) {
		if (o.rate) {
			uint64_t at = (i / o.rate) * NSEC + (i % o.rate) * NSEC / o.rate;

			sleep_until(start + at);
		}
		/* Sequence number up front, for whoever captures the packets. */
		if (o.tag) {
			for (unsigned int b = 0; b < 8; b++)
				buf[b] = (unsigned char)(i >> (56 - 8 * b));
			memset(buf + 8, 0, 16);
			memcpy(buf + 8, o.tag, strlen(o.tag));
		} else if (o.size >= sizeof(i)) {
			memcpy(buf, &i, sizeof(i));
		}
		if (send_one(fds[i % o.flows], buf, o.size, &dst, &st, i)) {
			fprintf(stderr, "%s: stopped after %" PRIu64 " of %" PRIu64 " datagrams\n",
				prog, i, o.count);
			goto out;
		}
	}
	printf("sent %" PRIu64 "\n", o.count);
	if (st.enobufs_retries || st.eagain_retries || st.icmp_errors)
		fprintf(stderr,
			"%s: note: %" PRIu64 " ENOBUFS and %" PRIu64 " EAGAIN retries, %" PRIu64
			" ICMP errors about earlier datagrams\n",
			prog, st.enobufs_retries, st.eagain_retries, st.icmp_errors);
	rc = fflush(stdout) ? 1 : 0;
out:
	for (f = 0; f < o.flows; f++)
		if (fds[f] >= 0)
			close(fds[f]);
	free(fds);
	free(buf);
	return rc;
}
