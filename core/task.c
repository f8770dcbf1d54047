// SPDX-License-Identifier: GPL-2.0
/* task.c - facts about processes: command names, user memory, cgroups. */
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <linux/magic.h>
#include <sys/statfs.h>
#include <sys/uio.h>
#include <sys/utsname.h>
#include <unistd.h>
#include "shark.h"

#define COMM_SLOTS 1024

/* A small pid-indexed cache; an entry is re-read after a second (exec renames). */
static struct {
	int32_t pid;
	uint64_t at;
	char comm[17];
} comms[COMM_SLOTS];

const char *shark_comm(int32_t pid)
{
	unsigned slot = (unsigned)pid % COMM_SLOTS;
	uint64_t now = shark_time_ns();
	char path[48];
	ssize_t n;
	int fd;

	if (pid == 0)
		return "swapper";
	if (comms[slot].pid == pid && now - comms[slot].at < 1000000000ull)
		return comms[slot].comm;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	/* gone: the last name known (read before, or from its records) */
	if (fd < 0)
		return comms[slot].pid == pid ? comms[slot].comm : "<...>";
	n = read(fd, comms[slot].comm, sizeof(comms[slot].comm) - 1);
	close(fd);
	if (n <= 0) {
		comms[slot].pid = 0;
		return "<...>";
	}
	if (comms[slot].comm[n - 1] == '\n')
		n--;
	comms[slot].comm[n] = '\0';
	comms[slot].pid = pid;
	comms[slot].at = now;
	return comms[slot].comm;
}

/*
 * A process's name as its records give it (PERF_RECORD_COMM, an exec): kept
 * as the last one known, for when the process is gone before its events are
 * read.
 */
void shark_comm__note(int32_t pid, const char *comm)
{
	unsigned slot = (unsigned)pid % COMM_SLOTS;

	if (pid <= 0)
		return;
	snprintf(comms[slot].comm, sizeof(comms[slot].comm), "%s", comm);
	comms[slot].pid = pid;
	comms[slot].at = shark_time_ns();
}

/*
 * Each thread's last few names with the time (CLOCK_MONOTONIC ns) each began,
 * from its PERF_RECORD_COMM records (an exec, a prctl rename), so that a
 * sample is named as its thread was when it was taken. A thread's records
 * can sit in several CPU rings, read in any order: they are kept sorted by
 * their time, never by arrival.
 */
#define NAMES_SLOTS 1024
#define NAMES_KEEP 4

static struct names {
	int32_t tid;
	uint32_t n;		/* names known, oldest first */
	uint64_t since[NAMES_KEEP];
	char comm[NAMES_KEEP][16];
} names[NAMES_SLOTS];

void shark_comm__at(int32_t tid, uint64_t time, const char *comm)
{
	struct names *s = &names[(unsigned)tid % NAMES_SLOTS];
	uint32_t i;

	if (tid <= 0)
		return;
	if (s->tid != tid) {
		s->tid = tid;
		s->n = 0;
	}
	if (s->n == NAMES_KEEP) {
		if (time < s->since[0])
			return;		/* older than all: the newer ones are kept */
		/* drop the oldest */
		memmove(s->since, s->since + 1, sizeof(s->since[0]) * (NAMES_KEEP - 1));
		memmove(s->comm, s->comm + 1, sizeof(s->comm[0]) * (NAMES_KEEP - 1));
		s->n--;
	}
	/* insert by time */
	for (i = s->n; i > 0 && s->since[i - 1] > time; i--) {
		s->since[i] = s->since[i - 1];
		memcpy(s->comm[i], s->comm[i - 1], sizeof(s->comm[i]));
	}
	s->since[i] = time;
	snprintf(s->comm[i], sizeof(s->comm[i]), "%s", comm);
	s->n++;
}

/*
 * Start @tid's names with the one it has now (/proc/TID/comm), valid from
 * @time: a task attached to (-p) was named before any record of a rename, so
 * its samples before its first name record have the name it had then. Read
 * after its events are enabled, so a later rename has its own record. The
 * name already latest is not repeated. Return 0 or -errno (the thread gone).
 */
int shark_comm__seed(int32_t tid, uint64_t time)
{
	const struct names *s = &names[(unsigned)tid % NAMES_SLOTS];
	char path[48], comm[17];
	ssize_t n;
	int fd;

	if (tid <= 0)
		return -EINVAL;
	snprintf(path, sizeof(path), "/proc/%d/comm", (int)tid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, comm, sizeof(comm) - 1);
	close(fd);
	if (n <= 0)
		return n < 0 ? -errno : -ENOENT;
	if (comm[n - 1] == '\n')
		n--;
	comm[n] = '\0';
	if (s->tid == tid && s->n && s->since[s->n - 1] <= time && !strcmp(s->comm[s->n - 1], comm))
		return 0;
	shark_comm__at(tid, time, comm);
	return 0;
}

/* The name of @tid at @time as its records tell, else its process's; NULL: unknown. */
const char *shark_comm__when(int32_t pid, int32_t tid, uint64_t time)
{
	for (int k = 0; k < 2; k++, tid = pid) {
		const struct names *s = &names[(unsigned)tid % NAMES_SLOTS];

		if (s->tid == tid && s->n) {
			for (uint32_t i = s->n; i > 0; i--)
				if (time >= s->since[i - 1])
					return s->comm[i - 1];
			return NULL;	/* before the first change known: not a name known */
		}
		if (pid == tid)
			break;
	}
	return NULL;
}

int32_t shark_read_user_string(int32_t pid, uint64_t addr, char *buf, int32_t len)
{
	struct iovec local = { buf, (size_t)len - 1 };
	struct iovec remote = { (void *)(uintptr_t)addr, (size_t)len - 1 };
	ssize_t n;

	if (len < 2 || !addr)
		return -EINVAL;
	/* a string near the end of a mapping: retry with what is readable */
	n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	if (n < 0 && errno == EFAULT) {
		size_t page = 4096 - (addr & 4095);

		local.iov_len = remote.iov_len = page < (size_t)len - 1 ? page : (size_t)len - 1;
		n = process_vm_readv(pid, &local, 1, &remote, 1, 0);
	}
	if (n < 0)
		return -errno;
	buf[n] = '\0';
	return (int32_t)strlen(buf);
}

static int open_cgroup_dir(const char *path)
{
	struct statfs st;
	int fd = open(path, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* a plain directory would make perf_event_open fail with EBADF */
	if (fstatfs(fd, &st) || (st.f_type != CGROUP2_SUPER_MAGIC && st.f_type != CGROUP_SUPER_MAGIC)) {
		close(fd);
		return -ENOTDIR;
	}
	return fd;
}

/*
 * An fd of a cgroup directory for perf's cgroup mode. A relative path is
 * looked up in the v2 hierarchy (/sys/fs/cgroup, or /sys/fs/cgroup/unified on
 * hybrid systems) and then in a v1 perf_event hierarchy.
 */
int32_t shark_cgroup_open(const char *path)
{
	static const char *const roots[] = { "/sys/fs/cgroup", "/sys/fs/cgroup/unified",
					     "/sys/fs/cgroup/perf_event" };
	char full[512];
	int fd = -ENOENT;

	if (!path || !*path)
		return -EINVAL;
	if (path[0] == '/')
		return open_cgroup_dir(path);
	for (size_t i = 0; i < sizeof(roots) / sizeof(roots[0]); i++) {
		snprintf(full, sizeof(full), "%s/%s", roots[i], path);
		fd = open_cgroup_dir(full);
		if (fd >= 0)
			return fd;
	}
	return fd;
}

uint64_t shark_hash64(const void *buf, uint64_t len)
{
	const uint8_t *p = buf;
	uint64_t h = SHARK_FNV_BASIS;

	for (uint64_t i = 0; i < len; i++)
		h = shark_fnv1a(h, p[i]);
	return h;
}

/*
 * "release/build-id" of the running kernel: a compiled BPF object is CO-RE,
 * but its cache entry also remembers which kernel's vmlinux.h it was built with.
 */
const char *shark_kernel_id(void)
{
	static char id[160];
	unsigned char notes[4096];
	struct utsname u;
	ssize_t n = 0;
	int fd;

	if (id[0])
		return id;
	uname(&u);
	snprintf(id, sizeof(id), "%s", u.release);
	fd = open("/sys/kernel/notes", O_RDONLY | O_CLOEXEC);
	if (fd >= 0) {
		n = read(fd, notes, sizeof(notes));
		close(fd);
	}
	for (ssize_t off = 0; off + 12 <= n;) {
		uint32_t namesz, descsz, type;

		memcpy(&namesz, notes + off, 4);
		memcpy(&descsz, notes + off + 4, 4);
		memcpy(&type, notes + off + 8, 4);
		off += 12;
		if (type == 3 /* NT_GNU_BUILD_ID */ && namesz == 4 && (size_t)off + 4 + descsz <= (size_t)n) {
			size_t l = strlen(id);

			id[l++] = '/';
			for (uint32_t i = 0; i < descsz && l + 3 < sizeof(id); i++, l += 2)
				snprintf(id + l, 3, "%02x", notes[off + 4 + i]);
			break;
		}
		off += ((namesz + 3) & ~3u) + ((descsz + 3) & ~3u);
	}
	return id;
}
