// SPDX-License-Identifier: GPL-2.0
/* tracefs.c - find or mount tracefs; tracepoint ids, formats and listing. */
#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>
#include <traceevent/event-parse.h>
#include "shark.h"

static const char *tracefs_dir;
static struct tep_handle *tep;
static char bad_format[256];

#define TRACEFS_MAGIC 0x74726163

static int has_events(const char *dir)
{
	char path[256];
	struct stat st;

	snprintf(path, sizeof(path), "%s/events", dir);
	return stat(path, &st) == 0 && S_ISDIR(st.st_mode);
}

/*
 * The tracefs mount point. A fresh boot may have none: as root, shark mounts
 * it at /sys/kernel/tracing (where the kernel provides the mount point).
 * Return: the path, or NULL with errno set (EACCES: not root).
 */
/* tracefs mounted here, whether or not this user may read it? */
static int is_tracefs(const char *dir)
{
	struct statfs sf;

	return statfs(dir, &sf) == 0 && sf.f_type == TRACEFS_MAGIC;
}

const char *shark_tracefs(void)
{
	const char *env = getenv("SHARK_TRACEFS");	/* tests: captured formats */

	if (tracefs_dir)
		return tracefs_dir;
	if (env && *env)
		return tracefs_dir = env;
	if (has_events("/sys/kernel/tracing"))
		return tracefs_dir = "/sys/kernel/tracing";
	if (has_events("/sys/kernel/debug/tracing"))
		return tracefs_dir = "/sys/kernel/debug/tracing";
	if (is_tracefs("/sys/kernel/tracing") || is_tracefs("/sys/kernel/debug/tracing")) {
		errno = EPERM;	/* mounted, but its events are not ours to read */
		return NULL;
	}
	if (geteuid() != 0) {
		errno = EACCES;
		return NULL;
	}
	if (mount("nodev", "/sys/kernel/tracing", "tracefs", 0, NULL) == 0 &&
	    has_events("/sys/kernel/tracing")) {
		pr_debug("mounted tracefs at /sys/kernel/tracing\n");
		return tracefs_dir = "/sys/kernel/tracing";
	}
	if (errno == 0)
		errno = ENOENT;
	return NULL;
}

const char *shark_tracefs__why(int err)
{
	if (err == EPERM)
		return "tracefs is mounted at /sys/kernel/tracing but this user cannot read its events: "
		       "run shark as root (or with CAP_PERFMON and read access to tracefs)";
	if (err == EACCES)
		return "tracefs is not mounted and shark is not root: run "
		       "'mount -t tracefs nodev /sys/kernel/tracing' as root, or run shark as root";
	if (err == ENOENT)
		return "tracefs is not mounted and cannot be: /sys/kernel/tracing does not exist (sysfs is not "
		       "mounted on /sys, or this kernel lacks CONFIG_TRACING)";
	if (err == ENODEV)
		return "tracefs is not available: this kernel was built without it (CONFIG_TRACING)";
	return "tracefs is not mounted, and mounting it at /sys/kernel/tracing failed "
	       "(try 'mount -t tracefs nodev /sys/kernel/tracing')";
}

static char *read_file(const char *path, size_t *len)
{
	size_t cap = 4096, n = 0;
	char *buf = malloc(cap);
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t r;

	if (fd < 0 || !buf) {
		int e = fd < 0 ? errno : ENOMEM;

		free(buf);
		if (fd >= 0)
			close(fd);
		errno = e;
		return NULL;
	}
	while ((r = read(fd, buf + n, cap - n - 1)) > 0) {
		n += (size_t)r;
		if (n + 1 == cap) {
			char *nb = realloc(buf, cap *= 2);

			if (!nb) {
				free(buf);
				close(fd);
				errno = ENOMEM;
				return NULL;
			}
			buf = nb;
		}
	}
	close(fd);
	if (r < 0) {
		int e = errno;

		free(buf);
		errno = e;
		return NULL;
	}
	buf[n] = '\0';
	if (len)
		*len = n;
	return buf;
}

static int event_path(char *buf, size_t len, const char *sys, const char *name, const char *file)
{
	const char *dir = shark_tracefs();
	int n;

	if (!dir)
		return -errno;
	/* names come from scripts: keep them inside events/ */
	if (strchr(sys, '/') || strchr(name, '/') || !strcmp(sys, "..") || !strcmp(name, ".."))
		return -EINVAL;
	n = snprintf(buf, len, "%s/events/%s/%s/%s", dir, sys, name, file);
	return n < 0 || (size_t)n >= len ? -ENAMETOOLONG : 0;
}

/* Return: the tracepoint's id (perf_event_attr.config), or -errno (-ENOENT: no such event). */
int shark_tp__id(const char *sys, const char *name)
{
	char path[512], *s;
	int err, id;

	err = event_path(path, sizeof(path), sys, name, "id");
	if (err)
		return err;
	s = read_file(path, NULL);
	if (!s)
		return -errno;
	id = atoi(s);
	free(s);
	return id > 0 ? id : -EINVAL;
}

/*
 * shark_tp__check() - is every field of @ev inside a record? Samples carry at
 * most PERF_MAX_TRACE_SIZE bytes of record; a field past that, or a
 * __data_loc that is not a u32, would have Lua read memory that is not the
 * record's. Return: 0, or -EBADMSG with @why filled.
 */
int shark_tp__check(const struct tep_event *ev, char *why, size_t len)
{
	const struct tep_format_field *lists[2] = { ev->format.common_fields, ev->format.fields };

	for (int i = 0; i < 2; i++) {
		for (const struct tep_format_field *f = lists[i]; f; f = f->next) {
			const char *bad = NULL;

			if (f->offset < 0 || f->size < 0 ||
			    (uint64_t)f->offset + (uint64_t)f->size > SHARK_TP_MAX_RECORD)
				bad = "lies past the largest record (8192 bytes)";
			else if ((f->flags & TEP_FIELD_IS_DYNAMIC) && f->size != 4)
				bad = "is a __data_loc that is not 4 bytes";
			else if ((f->flags & TEP_FIELD_IS_ARRAY) && f->arraylen &&
				 (uint64_t)f->arraylen * (uint64_t)(f->elementsize > 0 ? f->elementsize : 1) >
					 (uint64_t)f->size)
				bad = "is an array larger than its size";
			if (bad) {
				snprintf(why, len, "malformed format of %s:%s: field '%s' (offset %d, size %d) %s",
					 ev->system, ev->name, f->name, f->offset, f->size, bad);
				return -EBADMSG;
			}
		}
	}
	return 0;
}

const char *shark_tp__bad_format(void)
{
	return bad_format;
}

/* "\tfield:DECL;\toffset:N;\tsize:N;\tsigned:N;": the kernel's shape of a field line */
static int field_line_ok(const char *p, const char *end)
{
	static const char *const keys[] = { "\toffset:", "\tsize:", "\tsigned:" };
	int depth = 0;

	p += strlen("\tfield:");
	if (p >= end || *p == ';')
		return 0;
	for (; p < end && *p != ';'; p++) {
		depth += (*p == '[' || *p == '(') - (*p == ']' || *p == ')');
		if (depth < 0)
			return 0;
	}
	if (p >= end || depth)
		return 0;
	p++;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		size_t n = strlen(keys[k]);
		const char *d;

		if ((size_t)(end - p) < n || strncmp(p, keys[k], n))
			return 0;
		p += n;
		if (p < end && *p == '-')
			p++;
		for (d = p; p < end && *p >= '0' && *p <= '9'; p++)
			;
		if (p == d || p - d > 9 || p >= end || *p++ != ';')
			return 0;
	}
	return 1;
}

/*
 * shark_tp__parse_text() - a format file's text to @tep, when it has the
 * kernel's shape: printable text, field lines as the kernel writes them.
 * libtraceevent trusts its input (a mangled field line can crash it), and
 * shark reads formats from tracefs or, in tests, SHARK_TRACEFS.
 * Return: libtraceevent's result, or -EBADMSG (shark_tp__bad_format() says why).
 */
int shark_tp__parse_text(struct tep_handle *t, const char *buf, size_t len, const char *sys)
{
	const char *p = buf, *end = buf + len;
	int line = 1;

	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)buf[i];

		if (c != '\t' && c != '\n' && (c < 0x20 || c > 0x7e)) {
			snprintf(bad_format, sizeof(bad_format), "malformed format of %s: byte %zu is not text",
				 sys, i);
			return -EBADMSG;
		}
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));

		if (!nl)
			nl = end;
		if (nl - p >= 7 && !strncmp(p, "\tfield:", 7) && !field_line_ok(p, nl)) {
			snprintf(bad_format, sizeof(bad_format), "malformed format of %s: line %d is not a field "
				 "as the kernel writes them", sys, line);
			return -EBADMSG;
		}
		p = nl + 1;
		line++;
	}
	return tep_parse_event(t, buf, len, sys);
}

/* libtraceevent keeps what it parsed: a refused format is refused each time */
static struct tep_event *checked(struct tep_event *ev)
{
	if (shark_tp__check(ev, bad_format, sizeof(bad_format))) {
		errno = EBADMSG;
		return NULL;
	}
	return ev;
}

/* The parsed format of a tracepoint, cached for the life of the process. */
struct tep_event *shark_tp__format(const char *sys, const char *name)
{
	struct tep_event *ev;
	char path[512], *buf;
	size_t len;
	int err;

	if (!tep) {
		tep = tep_alloc();
		if (!tep) {
			errno = ENOMEM;
			return NULL;
		}
		tep_set_long_size(tep, sizeof(long));
		tep_set_page_size(tep, (int)sysconf(_SC_PAGESIZE));
	}
	ev = tep_find_event_by_name(tep, sys, name);
	if (ev)
		return checked(ev);
	err = event_path(path, sizeof(path), sys, name, "format");
	if (err) {
		errno = -err;
		return NULL;
	}
	buf = read_file(path, &len);
	if (!buf)
		return NULL;
	err = shark_tp__parse_text(tep, buf, len, sys);
	free(buf);
	if (err == -EBADMSG) {
		snprintf(bad_format + strlen(bad_format), sizeof(bad_format) - strlen(bad_format), " (%s:%s)",
			 sys, name);
		errno = EBADMSG;
		return NULL;
	}
	/* a print format libtraceevent cannot parse still leaves the fields */
	ev = tep_find_event_by_name(tep, sys, name);
	if (!ev) {
		pr_debug("cannot parse the format of %s:%s (%d)\n", sys, name, err);
		errno = EINVAL;
		return NULL;
	}
	return checked(ev);
}

struct tep_handle *shark_tep(void)
{
	return tep;
}

/*
 * Call @fn for every "sys:event" of available_events matching @glob (NULL:
 * all). Return: the number of matches, or -errno.
 */
int shark_tp__list(const char *glob, void (*fn)(const char *sys, const char *event, void *arg), void *arg)
{
	const char *dir = shark_tracefs();
	char path[256], *buf, *line, *save = NULL;
	int n = 0;

	if (!dir)
		return -errno;
	snprintf(path, sizeof(path), "%s/available_events", dir);
	buf = read_file(path, NULL);
	if (!buf)
		return -errno;
	for (line = strtok_r(buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
		char *colon = strchr(line, ':');

		if (!colon)
			continue;
		if (glob && fnmatch(glob, line, 0))
			continue;
		*colon = '\0';
		fn(line, colon + 1, arg);
		n++;
	}
	free(buf);
	return n;
}
