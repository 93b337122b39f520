// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/*
 * vmqd: the vmq control daemon. Runs in the foreground, logs to stderr,
 * adopts the pinned data plane at start and leaves it in place at exit:
 * steering never depends on the daemon being alive.
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "balance.h"
#include "log.h"
#include "metrics.h"
#include "proto.h"
#include "server.h"
#include "vmqd.h"

#define VMQD_STATE_DIR_DEFAULT "/var/lib/vmq"

#ifndef VMQ_VERSION
#define VMQ_VERSION "0.1"
#endif

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: vmqd [OPTIONS]\n"
		"Serve vmqctl: manage per-VM NIC TX queues on uplinks (foreground; logs to "
		"stderr).\n"
		"\n"
		"  -s, --socket PATH      control socket (default %s)\n"
		"  -b, --bpffs-dir DIR    pin directory on a bpffs (default %s);\n"
		"                         a bpffs is mounted there when it is not on one\n"
		"  -d, --state-dir DIR    keep the desired state in DIR/" VMQD_STATE_FILE
		" (default %s),\n"
		"                         restored at start when no pins exist (a host reboot)\n"
		"  -g, --group NAME       let members of group NAME use the socket (mode 0660)\n"
		"  -r, --read-group NAME  let members of group NAME show, stats, doctor (no "
		"probe)\n"
		"                         and save; every change is refused (EPERM). With\n"
		"                         --group another group, the socket is 0666 and vmqd\n"
		"                         checks each peer itself\n"
		"  -o, --bpf-object FILE  load vmq_tx from FILE, not the built-in program: new\n"
		"                         attaches, \"dev upgrade\", and adopted uplinks whose\n"
		"                         program differs are upgraded to it\n"
		"  -m, --metrics [ADDR:]PORT\n"
		"                         serve Prometheus metrics at http://ADDR:PORT/metrics\n"
		"                         (ADDR: IPv4, or IPv6 in brackets; default %s),\n"
		"                         or on a Unix socket: --metrics /PATH (mode 0600, 0660\n"
		"                         to --read-group's group); off unless given. The\n"
		"                         figures name every VM: any local user can read a TCP\n"
		"                         port, so prefer a socket or a token\n"
		"  -T, --metrics-token-file FILE\n"
		"                         answer /metrics only with \"Authorization: Bearer\n"
		"                         TOKEN\", TOKEN the first line of FILE (read at start)\n"
		"  -v, --verbose          debug messages, libbpf's included\n"
		"  -h, --help             this text\n"
		"  -V, --version          print the version\n"
		"\n"
		"SIGTERM or SIGINT stops the daemon; programs and maps stay attached and pinned,\n"
		"and the next vmqd adopts them. One vmqd per --bpffs-dir: a second one refuses\n"
		"to start and names the first one's pid.\n",
		VMQ_SOCKET_DEFAULT, VMQ_BPFFS_DIR_DEFAULT, VMQD_STATE_DIR_DEFAULT,
		VMQD_METRICS_ADDR_DEFAULT);
}

/* Who may read the metrics: the token, and a Unix socket's group (the read
 * group, which the control socket checks too). */
static int metrics_access(struct vmqd_metrics_addr *addr, bool want_token, const char *token_file,
			  const char *read_group, char token[VMQD_METRICS_TOKEN_MAX + 1])
{
	char why[160];
	struct group *g;

	if (want_token) {
		if (vmqd_metrics_read_token(token_file, token, VMQD_METRICS_TOKEN_MAX + 1, why,
					    sizeof(why))) {
			log_err("--metrics-token-file %s: %s", token_file, why);
			return -EINVAL;
		}
		addr->token = token;
	}
	if (read_group && addr->listen.ss.ss_family == AF_UNIX && (g = getgrnam(read_group))) {
		addr->group = true;
		addr->gid = g->gr_gid;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option options[] = {
		{ "socket", required_argument, NULL, 's' },
		{ "bpffs-dir", required_argument, NULL, 'b' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "group", required_argument, NULL, 'g' },
		{ "read-group", required_argument, NULL, 'r' },
		{ "metrics-token-file", required_argument, NULL, 'T' },
		{ "metrics", required_argument, NULL, 'm' },
		{ "bpf-object", required_argument, NULL, 'o' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ "version", no_argument, NULL, 'V' },
		{ NULL, 0, NULL, 0 },
	};
	const char *socket_path = VMQ_SOCKET_DEFAULT, *bpffs_dir = VMQ_BPFFS_DIR_DEFAULT;
	const char *group = NULL, *read_group = NULL, *token_file = NULL,
		   *state_dir = VMQD_STATE_DIR_DEFAULT, *bpf_object = NULL;
	enum vmqd_log_level level = VMQD_LOG_INFO;
	struct vmqd_metrics_addr metrics_addr = {};
	struct vmqd_metrics *metrics = NULL;
	bool want_metrics = false, want_token = false;
	struct vmqd_server server;
	char why[160], token[VMQD_METRICS_TOKEN_MAX + 1];
	struct vmqd d;
	int opt, err, watch_fd, lock_fd = -1;

	while ((opt = getopt_long(argc, argv, "s:b:d:g:r:m:T:o:vhV", options, NULL)) != -1) {
		switch (opt) {
		case 's':
			socket_path = optarg;
			break;
		case 'b':
			bpffs_dir = optarg;
			break;
		case 'd':
			state_dir = optarg;
			break;
		case 'g':
			group = optarg;
			break;
		case 'r':
			read_group = optarg;
			break;
		case 'T':
			token_file = optarg;
			want_token = true;
			break;
		case 'm':
			if (vmq_parse_listen_addr(optarg, VMQD_METRICS_ADDR_DEFAULT,
						  &metrics_addr.listen, why, sizeof(why))) {
				fprintf(stderr, "vmqd: --metrics \"%s\": %s; try \"vmqd --help\"\n",
					optarg, why);
				return 1;
			}
			want_metrics = true;
			break;
		case 'o':
			bpf_object = optarg;
			break;
		case 'v':
			level = VMQD_LOG_DEBUG;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case 'V':
			printf("vmqd %s\n", VMQ_VERSION);
			return 0;
		default:
			usage(stderr);
			return 1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "vmqd: unexpected argument \"%s\"\n", argv[optind]);
		usage(stderr);
		return 1;
	}
	if (want_token && !want_metrics) {
		fprintf(stderr, "vmqd: --metrics-token-file needs --metrics\n");
		return 1;
	}
	vmqd_log_init(level);
	if (geteuid() != 0) {
		log_err("must run as root (BPF, tc, sysfs)");
		return 1;
	}
	if (bpffs_dir[0] != '/' || state_dir[0] != '/') {
		log_err("%s %s: must be an absolute path",
			bpffs_dir[0] != '/' ? "--bpffs-dir" : "--state-dir",
			bpffs_dir[0] != '/' ? bpffs_dir : state_dir);
		return 1;
	}
	if (want_metrics &&
	    metrics_access(&metrics_addr, want_token, token_file, read_group, token))
		return 1;
	if (bpf_object && access(bpf_object, R_OK)) {
		log_err("--bpf-object %s: cannot read it: %s", bpf_object, strerror(errno));
		return 1;
	}
	err = vmqd_init(&d, bpffs_dir);
	if (err)
		return 1;
	d.state_dir = state_dir;
	d.bpf_object = bpf_object;
	/* Before the restore: a device that appears meanwhile is an event
	 * waiting in the socket, not a miss. */
	watch_fd = vmqd_linkwatch_open();
	if (watch_fd < 0)
		log_warn("no link events (%s): TX queue changes, new ports and devices the state "
			 "file waits for go unnoticed",
			 strerror(-watch_fd));
	/* The socket first: a second vmqd must stop before it touches pins or
	 * the state file. */
	err = vmqd_server_open(&server, socket_path, group, read_group);
	/* Before adoption: a second vmqd on these pins must not touch them. */
	if (!err)
		err = vmqd_lock_dir(bpffs_dir, &lock_fd);
	if (!err) {
		err = vmqd_adopt_all(&d);
		if (err)
			log_err("%s: cannot read pinned devices: %s", bpffs_dir, strerror(-err));
		if (!err)
			err = vmqd_state_restore(&d, d.ndevs || d.ports.map_fd >= 0);
		server.watch_fd = watch_fd;
		server.on_watch = vmqd_linkwatch_read;
		server.timer_period_ms = vmqd_balance_period_ms;
		server.on_timer = vmqd_balance_tick;
		/* After the server: its thread must inherit SIGTERM/SIGINT blocked. */
		if (!err && want_metrics)
			err = vmqd_metrics_start(&metrics, &d, &metrics_addr);
		if (!err)
			err = vmqd_server_run(&server, &d);
		vmqd_metrics_stop(metrics);
	}
	vmqd_server_close(&server);
	if (watch_fd >= 0)
		close(watch_fd);
	vmqd_fini(&d);
	if (lock_fd >= 0)
		close(lock_fd);
	return err ? 1 : 0;
}
