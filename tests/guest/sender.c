// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq-guest-send: the test guest's sender of numbered UDP datagrams.
 * Statically linked into the guest's initramfs; /init runs it with the
 * parameters it read from the kernel command line (tests/guest/init).
 *
 *   vmq-guest-send DST_IP PORT COUNT PPS FLOWS TAG SRC_PORT_BASE
 *
 * Sends COUNT datagrams to DST_IP:PORT, datagram i from source port
 * SRC_PORT_BASE + i % FLOWS (one unconnected socket per flow), paced at PPS
 * datagrams per second (0: as fast as the stack takes them). Payload (24
 * bytes, what the wire side's receiver parses):
 *
 *   bytes 0..7   sequence number i, 0..COUNT-1, unsigned 64-bit big-endian
 *   bytes 8..23  TAG, ASCII, NUL-padded (1..16 bytes)
 *
 * Prints "vmq-guest: first packet" once the first datagram was handed to
 * the stack and "vmq-guest: sent COUNT" at the end; "vmq-guest: error: ..."
 * and exit status 1 on failure. Nothing is dropped silently: IP_RECVERR
 * turns a qdisc drop into ENOBUFS, and that datagram is sent again.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define TAG_LEN	       16U
#define MAX_FLOWS      1024U
#define NSEC	       1000000000ULL
#define RETRY_LIMIT_NS (10ULL * NSEC) /* per datagram */

struct dgram {
	uint8_t seq[8];
	char tag[TAG_LEN];
};

static void fail(const char *what, const char *arg)
{
	printf("vmq-guest: error: %s%s%s\n", what, arg ? ": " : "", arg ? arg : "");
	fflush(stdout);
	exit(1);
}

static uint64_t num(const char *name, const char *s, uint64_t min, uint64_t max)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end != '\0' || s[0] < '0' || s[0] > '9' || v < min || v > max)
		fail(name, s);
	return v;
}

static uint64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NSEC + (uint64_t)ts.tv_nsec;
}

static void sleep_until(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / NSEC), .tv_nsec = (long)(t % NSEC) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* Drops queued ICMP errors (there should be none: the wire has no route back). */
static void drain_errors(int fd)
{
	char buf[512];
	struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
	char ctl[512];
	struct msghdr m;

	for (;;) {
		memset(&m, 0, sizeof(m));
		m.msg_iov = &iov;
		m.msg_iovlen = 1;
		m.msg_control = ctl;
		m.msg_controllen = sizeof(ctl);
		if (recvmsg(fd, &m, MSG_ERRQUEUE | MSG_DONTWAIT) < 0)
			return;
	}
}

int main(int argc, char **argv)
{
	struct sockaddr_in dst = { .sin_family = AF_INET };
	uint64_t count, pps, i, t0, start;
	unsigned int flows, base, f;
	struct dgram d;
	int *fds;

	if (argc != 8) {
		fprintf(stderr, "usage: %s DST_IP PORT COUNT PPS FLOWS TAG SRC_PORT_BASE\n",
			argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	if (inet_pton(AF_INET, argv[1], &dst.sin_addr) != 1)
		fail("bad destination address", argv[1]);
	dst.sin_port = htons((uint16_t)num("bad port", argv[2], 1, 65535));
	count = num("bad count", argv[3], 1, UINT64_MAX);
	pps = num("bad pps", argv[4], 0, 10000000);
	flows = (unsigned int)num("bad flows", argv[5], 1, MAX_FLOWS);
	if (!argv[6][0] || strlen(argv[6]) > TAG_LEN)
		fail("tag must be 1..16 bytes", argv[6]);
	base = (unsigned int)num("bad source port base", argv[7], 1, 65535);
	if (base + flows - 1 > 65535)
		fail("source ports beyond 65535", argv[7]);

	fds = calloc(flows, sizeof(*fds));
	if (!fds)
		fail("out of memory", NULL);
	for (f = 0; f < flows; f++) {
		struct sockaddr_in src = { .sin_family = AF_INET,
					   .sin_port = htons((uint16_t)(base + f)) };
		int one = 1;

		fds[f] = socket(AF_INET, SOCK_DGRAM, 0);
		if (fds[f] < 0)
			fail("socket", strerror(errno));
		if (setsockopt(fds[f], IPPROTO_IP, IP_RECVERR, &one, sizeof(one)) < 0)
			fail("IP_RECVERR", strerror(errno));
		if (bind(fds[f], (struct sockaddr *)&src, sizeof(src)) < 0)
			fail("bind", strerror(errno));
	}

	memset(&d, 0, sizeof(d));
	memcpy(d.tag, argv[6], strlen(argv[6]));
	start = now_ns();
	for (i = 0; i < count; i++) {
		int fd = fds[i % flows], k;

		if (pps)
			sleep_until(start + (uint64_t)((unsigned __int128)i * NSEC / pps));
		for (k = 0; k < 8; k++)
			d.seq[k] = (uint8_t)(i >> (56 - 8 * k));
		t0 = now_ns();
		while (sendto(fd, &d, sizeof(d), 0, (struct sockaddr *)&dst, sizeof(dst)) < 0) {
			if (errno != ENOBUFS && errno != EAGAIN && errno != EINTR &&
			    errno != ECONNREFUSED && errno != EHOSTUNREACH && errno != ENETUNREACH)
				fail("sendto", strerror(errno));
			if (now_ns() - t0 > RETRY_LIMIT_NS)
				fail("sendto kept failing for 10 s", strerror(errno));
			drain_errors(fd);
			usleep(1000);
		}
		if (i == 0)
			printf("vmq-guest: first packet\n");
	}
	printf("vmq-guest: sent %llu\n", (unsigned long long)count);
	return 0;
}
