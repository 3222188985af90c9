/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared includes and helpers of the TCP unit tests. */
#ifndef ZPATH_TEST_TCP_COMMON_H
#define ZPATH_TEST_TCP_COMMON_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "zpt_tcp.h"
#include "tcp/tcp_priv.h"

#define F_SYN TCP_FLAG_SYN
#define F_ACK TCP_FLAG_ACK
#define F_FIN TCP_FLAG_FIN
#define F_RST TCP_FLAG_RST
#define F_PSH TCP_FLAG_PSH
#define SEC 1000000000ull
#define MSEC 1000000ull

static struct zpt_tcp *T;

static inline int setup(void **state)
{
	(void)state;
	T = zpt_tcp_new();
	return 0;
}

static inline int teardown(void **state)
{
	(void)state;
	zpt_tcp_free(T);
	T = NULL;
	return 0;
}

#define TEST(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)

/** Pop one segment and check its flags. */
static inline struct zpt_seg expect_seg(uint8_t flags)
{
	struct zpt_seg s;

	assert_true(zpt_tcp_pop(T, &s));
	assert_int_equal(s.flags & 0x3f, flags);
	return s;
}

static inline void expect_none(void)
{
	assert_int_equal(zpt_tcp_pending(T), 0);
}

static inline ssize_t recv_some(int fd, void *buf, size_t len)
{
	return zp_recv(fd, buf, len, 0);
}

#endif
