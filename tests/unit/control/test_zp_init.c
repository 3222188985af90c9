/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zp_init() / zp_run() / zp_fini() as a program sees them, on a real (net_null) port.
 *
 * The EAL can be initialised once per process, so every failing start-up runs zp_init() in a
 * forked child (before the parent ever starts the EAL) and reports errno and
 * zp_strerror_last() back over a pipe; the last test starts the stack in this process.
 */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmocka.h>

#include <zpath/zpath.h>

#define EAL_ARGS                                                                                   \
	"--no-huge", "-m", "128", "--no-pci", "-l", "0", "--no-shconf", "--log-level",             \
		"*:critical", "--no-telemetry"

static char dir[] = "/tmp/zpath-test-zp-init-XXXXXX";
static char ini[256];

static int group_setup(void **state)
{
	FILE *f;

	(void)state;
	if (mkdtemp(dir) == NULL)
		return -1;
	/* The control thread puts its sockets here instead of /run/zpath. */
	setenv("ZPATH_RUN_DIR", dir, 1);
	snprintf(ini, sizeof(ini), "%s/zpath.ini", dir);
	f = fopen(ini, "w");
	if (f == NULL)
		return -1;
	fprintf(f, "[stack]\ninstance = zpp-unit\nmbufs = 4095\nmbuf_cache = 32\n"
		   "[port0]\nvdev = net_null0\naddress = 10.9.0.2/24\n");
	fclose(f);
	return 0;
}

static int group_teardown(void **state)
{
	char cmd[512];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) == 0 ? 0 : -1;
}

struct child_result {
	int rc;
	int err;
	char msg[1024];
};

/* Run zp_init(argv) in a child; return what it returned, its errno and its message. */
static void init_in_child(char **argv, struct child_result *res)
{
	int fds[2], status;
	pid_t pid;
	ssize_t n;
	int argc = 0;

	while (argv[argc] != NULL)
		argc++;
	assert_int_equal(pipe(fds), 0);
	fflush(NULL);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct child_result r;
		FILE *devnull = freopen("/dev/null", "w", stdout);

		(void)devnull;
		memset(&r, 0, sizeof(r));
		r.rc = zp_init(argc, argv);
		r.err = errno;
		snprintf(r.msg, sizeof(r.msg), "%s", zp_strerror_last());
		if (write(fds[1], &r, sizeof(r)) != (ssize_t)sizeof(r))
			_exit(2);
		_exit(0);
	}
	close(fds[1]);
	memset(res, 0, sizeof(*res));
	n = read(fds[0], res, sizeof(*res));
	close(fds[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_int_equal(n, (ssize_t)sizeof(*res));
}

static void test_zp_init_unknown_device_is_enodev_and_lists_ports(void **state)
{
	char *argv[] = {"prog",	       EAL_ARGS, "--vdev=net_null5",	  "--", "-c", ini, "-s",
			"port0.vdev=", "-s",	 "port0.device=net_tap7", NULL};
	struct child_result r;

	(void)state;
	init_in_child(argv, &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err, ENODEV);
	assert_string_equal(r.msg, "[port0]: device \"net_tap7\" not found; ethdev ports: "
				   "net_null5 (give a vdev to the EAL with --vdev, allow a PCI "
				   "device with -a, or use vdev = ...)");
}

static void test_zp_init_more_workers_than_lcores_is_einval(void **state)
{
	char *argv[] = {"prog", EAL_ARGS, "--", "-c", ini, "-s", "stack.workers=3", NULL};
	struct child_result r;

	(void)state;
	init_in_child(argv, &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err, EINVAL);
	assert_string_equal(r.msg, "[stack] workers: 3 workers need 3 lcores but the EAL has 1 "
				   "(give the EAL more, e.g. -l 0-2)");
}

static void test_zp_init_bad_config_is_einval_with_the_line(void **state)
{
	char *argv[] = {"prog", EAL_ARGS, "--", "-c", ini, "-s", "port0.mtu=10", NULL};
	struct child_result r;

	(void)state;
	init_in_child(argv, &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err, EINVAL);
	assert_string_equal(r.msg, "-s port0.mtu=10: [port0] mtu: 10 is out of range 68..9000");
}

static void test_zp_init_missing_config_file_is_enoent(void **state)
{
	char *argv[] = {"prog", EAL_ARGS, "--", "-q", NULL};
	char cwd[512], expect[256];
	struct child_result r;

	(void)state;
	/* No -c: ./zpath.ini, which does not exist in the current directory... */
	assert_non_null(getcwd(cwd, sizeof(cwd)));
	assert_int_equal(chdir("/"), 0);
	init_in_child(argv, &r);
	assert_int_equal(chdir(cwd), 0);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err, ENOENT);
	assert_string_equal(r.msg, "zpath.ini: cannot open: No such file or directory (give the "
				   "configuration file with -c FILE)");
	/* ...and with -c the file named is the one reported. */
	snprintf(expect, sizeof(expect), "%s/nope.ini: cannot open: No such file or directory",
		 dir);
	{
		char path[256];
		char *argv2[] = {"prog", EAL_ARGS, "--", "-c", path, NULL};

		snprintf(path, sizeof(path), "%s/nope.ini", dir);
		init_in_child(argv2, &r);
	}
	assert_int_equal(r.err, ENOENT);
	assert_string_equal(r.msg, expect);
}

static void test_zp_init_unknown_option_is_einval(void **state)
{
	char *argv[] = {"prog", EAL_ARGS, "--", "-c", ini, "--verbose", NULL};
	struct child_result r;

	(void)state;
	init_in_child(argv, &r);
	assert_int_equal(r.rc, -1);
	assert_int_equal(r.err, EINVAL);
	assert_string_equal(r.msg, "unknown zpath option \"--verbose\" (zpath options: -c FILE, "
				   "-i NAME, -q, -s SECTION.KEY=VALUE; program options go after a "
				   "second \"--\")");
}

/* What the worker function saw, checked by the test afterwards. */
struct run_probe {
	int id;
	int polled;
	bool running;
};

static int probe_worker(void *arg)
{
	struct run_probe *p = arg;

	p->id = zp_worker_id();
	p->running = zp_running();
	p->polled = zp_poll();
	return 7;
}

static int stop_worker(void *arg)
{
	(void)arg;
	zp_stop();
	return zp_running() ? 1 : 0;
}

/* Last: starts the EAL in this process. */
static void test_zp_init_run_fini_as_a_program_uses_them(void **state)
{
	char *argv[] = {"prog", EAL_ARGS,     "--", "-q",	  "-c", ini,
			"-i",	"zpp-unit-2", "--", "--duration", "1",	NULL};
	int argc = (int)(sizeof(argv) / sizeof(argv[0])) - 1;
	struct zp_counter c[256];
	struct run_probe probe = {.id = -5};
	char sock[512];
	int n, i, nc;
	bool rx_seen = false, drop_seen = false, tcp_stat_seen = false, tcp_drop_seen = false;
	int j;

	(void)state;
	assert_int_equal(zp_worker_count(), 0);
	n = zp_init(argc, argv);
	assert_true(n > 0);
	/* The program's arguments follow its name, as after a plain exec. */
	assert_int_equal(argc - n, 3);
	assert_string_equal(argv[n], "prog");
	assert_string_equal(argv[n + 1], "--duration");
	assert_string_equal(argv[n + 2], "1");
	assert_string_equal(zp_strerror_last(), "");

	/* -i named the control socket. */
	snprintf(sock, sizeof(sock), "%s/zpp-unit-2.sock", dir);
	assert_int_equal(access(sock, F_OK), 0);

	assert_int_equal(zp_worker_count(), 1);
	assert_int_equal(zp_worker_id(), -1);
	errno = 0;
	assert_int_equal(zp_poll(), -1);
	assert_int_equal(errno, EPERM);
	assert_true(zp_running());

	assert_int_equal(zp_run(probe_worker, &probe), 7);
	assert_int_equal(probe.id, 0);
	assert_true(probe.running);
	assert_true(probe.polled >= 0);
	assert_int_equal(zp_worker_id(), -1); /* the main thread is no worker after zp_run */

	nc = zp_counters(c, 256);
	assert_true(nc > 10 && nc <= 256);
	for (i = 0; i < nc; i++) {
		rx_seen |= !c[i].drop && strcmp(c[i].name, "rx_packets") == 0;
		drop_seen |= c[i].drop && strcmp(c[i].name, "ip_csum") == 0;
		/* The TCP engine's counters too, prefixed so that none clashes ("nomem"). */
		tcp_stat_seen |= !c[i].drop && strcmp(c[i].name, "tcp.retrans_segs") == 0;
		tcp_drop_seen |= c[i].drop && strcmp(c[i].name, "tcp.nomem") == 0;
		for (j = 0; j < i; j++)
			assert_string_not_equal(c[i].name, c[j].name);
	}
	assert_true(rx_seen);
	assert_true(drop_seen);
	assert_true(tcp_stat_seen);
	assert_true(tcp_drop_seen);
	assert_int_equal(zp_counters(c, 2), nc); /* the count, even when truncated */

	assert_int_equal(zp_run(stop_worker, NULL), 0);
	assert_false(zp_running());

	errno = 0;
	assert_int_equal(zp_init(argc, argv), -1);
	assert_int_equal(errno, EALREADY);

	assert_int_equal(zp_fini(), 0);
	assert_int_not_equal(access(sock, F_OK), 0); /* the control socket is gone */
	assert_int_equal(zp_worker_count(), 0);
	errno = 0;
	assert_int_equal(zp_fini(), -1);
	assert_int_equal(errno, EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_zp_init_unknown_device_is_enodev_and_lists_ports),
		cmocka_unit_test(test_zp_init_more_workers_than_lcores_is_einval),
		cmocka_unit_test(test_zp_init_bad_config_is_einval_with_the_line),
		cmocka_unit_test(test_zp_init_missing_config_file_is_enoent),
		cmocka_unit_test(test_zp_init_unknown_option_is_einval),
		cmocka_unit_test(test_zp_init_run_fini_as_a_program_uses_them),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
