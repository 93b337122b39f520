// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmq-guest-recv: the test guest's counter of numbered UDP datagrams, the
 * receiving twin of vmq-guest-send. Statically linked into the guest's
 * initramfs; /init runs it in recv mode (tests/guest/init).
 *
 *   vmq-guest-recv PORT COUNT TAG WAIT
 *
 * Listens on UDP PORT and counts the datagrams of TAG (payload as
 * vmq-guest-send writes it: sequence number, 8 bytes big-endian, then TAG,
 * NUL-padded to 16 bytes), each sequence number 0..COUNT-1 once. Prints
 * "vmq-guest: listening" once bound, then, when COUNT distinct ones came
 * or WAIT seconds passed without any datagram, "vmq-guest: received D
 * duplicates X other Y": D distinct sequence numbers, X seen again, Y
 * datagrams that were not TAG's or out of range. Exit status 0, or 1
 * (with "vmq-guest: error: ...") on a setup error.
 */
#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#define TAG_LEN	  16U
#define COUNT_MAX 10000000ULL

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

int main(int argc, char **argv)
{
	struct sockaddr_in addr = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_ANY) };
	uint64_t count, distinct = 0, dups = 0, other = 0;
	unsigned char buf[2048], tag[TAG_LEN] = { 0 }, *seen;
	int fd, wait_ms, rcvbuf = 4 << 20;
	struct pollfd p;

	if (argc != 5) {
		fprintf(stderr, "usage: %s PORT COUNT TAG WAIT\n", argv[0]);
		return 2;
	}
	setvbuf(stdout, NULL, _IOLBF, 0);
	addr.sin_port = htons((uint16_t)num("bad port", argv[1], 1, 65535));
	count = num("bad count", argv[2], 1, COUNT_MAX);
	if (!argv[3][0] || strlen(argv[3]) > TAG_LEN)
		fail("tag must be 1..16 bytes", argv[3]);
	memcpy(tag, argv[3], strlen(argv[3]));
	wait_ms = (int)num("bad wait", argv[4], 1, 3600) * 1000;
	seen = calloc(count, 1);
	if (!seen)
		fail("out of memory", NULL);
	fd = socket(AF_INET, SOCK_DGRAM, 0);
	if (fd < 0)
		fail("socket", strerror(errno));
	/* A burst must not overflow the socket while the guest is slow (TCG). */
	setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, sizeof(rcvbuf));
	if (bind(fd, (struct sockaddr *)&addr, sizeof(addr)) < 0)
		fail("bind", strerror(errno));
	printf("vmq-guest: listening\n");
	p.fd = fd;
	p.events = POLLIN;
	while (distinct < count) {
		ssize_t n;
		uint64_t seq = 0;

		if (poll(&p, 1, wait_ms) <= 0)
			break;
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			fail("recv", strerror(errno));
		}
		for (int k = 0; k < 8 && n == 8 + TAG_LEN; k++)
			seq = seq << 8 | buf[k];
		if (n != 8 + TAG_LEN || memcmp(buf + 8, tag, TAG_LEN) || seq >= count) {
			other++;
			continue;
		}
		if (seen[seq]) {
			dups++;
			continue;
		}
		seen[seq] = 1;
		distinct++;
	}
	printf("vmq-guest: received %llu duplicates %llu other %llu\n",
	       (unsigned long long)distinct, (unsigned long long)dups, (unsigned long long)other);
	return 0;
}
