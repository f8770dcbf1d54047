// SPDX-License-Identifier: GPL-2.0
/*
 * test_tpnames.c - e.comm of BPF-delivered tracepoints: tpring records and
 * name records (renames, exits) written here into a replay ring, read by
 * shark_ringbuf__read_tp. Each event gets its thread's name at that point
 * of the ring, across batches, for threads first seen, gone, and reused tids.
 */
#include <linux/bpf.h>
#include <string.h>
#include "tap.h"
#include "shark.h"
#include "tpring.h"

/* tids no process here has (beyond any pid_max): /proc knows nothing of them */
enum { T1 = 0x7ffffff1, T2 = 0x7ffffff2 };

static uint8_t buf[4096];
static int len;

static void *put(uint32_t size)
{
	uint32_t *hdr = (uint32_t *)(buf + len);

	hdr[0] = size;
	hdr[1] = 0;
	len += (BPF_RINGBUF_HDR_SZ + size + 7) & ~7;
	return hdr + 2;
}

static void event(uint32_t tid)
{
	struct shark_tprec *t = put(sizeof(*t) + 8);

	memset(t, 0, sizeof(*t) + 8);
	t->pid = t->tid = tid;
	t->raw_size = 8;
	t->ips_off = sizeof(*t) + 8;
}

static void name(uint32_t tid, const char *old, const char *new, int exiting)
{
	struct shark_tprec *t = put(sizeof(*t) + sizeof(struct shark_tpname));
	struct shark_tpname *n = (void *)(t + 1);

	memset(t, 0, sizeof(*t) + sizeof(*n));
	t->pid = t->tid = tid;
	t->event = SHARK_TP_NAME;
	t->raw_size = sizeof(*n);
	t->pad = exiting ? SHARK_TPNAME_EXIT : 0;
	strcpy(n->oldcomm, old);
	strcpy(n->newcomm, new);
}

void test_tpnames(void)
{
	const char *names[] = { "test:ev" };
	struct shark_sample s[8];
	struct shark_ringbuf *r;
	int n;

	event(T1);			/* alpha: the old name of its first rename */
	name(T1, "alpha", "beta", 0);
	event(T1);			/* beta */
	event(T2);			/* gamma: never renamed, its name at exit */
	name(T2, "gamma", "gamma", 1);
	event(T2);			/* the tid reused by a new thread: delta */
	name(T2, "delta", "eps", 0);
	event(T1);			/* beta, from the table after the batch */
	event(T2);			/* eps */
	r = shark_ringbuf__replay(buf, len);
	ok(r != NULL, "tpnames: a replay ring of %d bytes", len);
	if (!r)
		return;
	n = shark_ringbuf__read_tp(r, s, 2, names, 1);
	is_int(n, 2, "tpnames: name records are no events");
	is_str(s[0].comm_at, "alpha", "tpnames: before a rename, the old name (first seen, not in /proc)");
	is_str(s[1].comm_at, "beta", "tpnames: after it, the new one");
	shark_ringbuf__consume(r);
	n = shark_ringbuf__read_tp(r, s, 8, names, 1);
	is_int(n, 4, "tpnames: the rest");
	is_str(s[0].comm_at, "gamma", "tpnames: a thread gone, never renamed: its name at exit");
	is_str(s[1].comm_at, "delta", "tpnames: a reused tid is a new thread");
	is_str(s[2].comm_at, "beta", "tpnames: a name from an earlier batch");
	is_str(s[3].comm_at, "eps", "tpnames: the reused tid renamed");
	shark_ringbuf__free(r);
}
