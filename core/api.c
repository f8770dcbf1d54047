// SPDX-License-Identifier: GPL-2.0
/* api.c - the function table behind core/shark_api.h. */
#include <errno.h>
#include <malloc.h>
#include <string.h>
#include <time.h>
#include <sys/resource.h>
#include "shark.h"
#include "unwind.h"
#include "pyframes.h"

struct shark_state shark_state = {
	.exit_code = -1,
	.target_status = -1,
};

static uint64_t clock_ns(clockid_t id)
{
	struct timespec ts;

	clock_gettime(id, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

uint64_t shark_time_ns(void)
{
	return clock_ns(CLOCK_MONOTONIC);
}

static uint64_t realtime_ns(void)
{
	return clock_ns(CLOCK_REALTIME);
}

static int32_t release_target(void)
{
	return shark_target__release();
}

static int32_t kill_target(int32_t sig)
{
	return shark_target__kill(sig);
}

static int32_t target_spawn(const char *cmd)
{
	return shark_target__spawn(cmd);
}

static int32_t target_watch(int32_t pid)
{
	return shark_target__watch(pid);
}

static const char *api_strerror(int32_t err)
{
	return shark_bpf_strerror(err);
}

static void trim_memory(void)
{
	malloc_trim(0);
}

static void note_pid(int32_t pid)
{
	shark_sym__refresh_pid(pid);
}

static int32_t set_rlimit(int32_t resource, uint64_t soft, uint64_t hard)
{
	struct rlimit r = { .rlim_cur = soft, .rlim_max = hard };

	return setrlimit(resource, &r) ? -errno : 0;
}

const struct shark_api shark_api = {
	.size = sizeof(struct shark_api),
	.state = &shark_state,
	.time_ns = shark_time_ns,
	.realtime_ns = realtime_ns,
	.stop = shark_stop,
	.release_target = release_target,
	.kill_target = kill_target,
	.strerror = api_strerror,
	.perf_new = shark_perf__new,
	.perf_add = shark_perf__add,
	.perf_enable = shark_perf__enable,
	.perf_disable = shark_perf__disable,
	.perf_free = shark_perf__free,
	.perf_error = shark_perf__error,
	.perf_nrings = shark_perf__nrings,
	.perf_ring_fd = shark_perf__ring_fd,
	.perf_read = shark_perf__read,
	.perf_consume = shark_perf__consume,
	.perf_stats = shark_perf__stats,
	.perf_count = shark_perf__count,
	.online_cpus = shark_online_cpus,
	.cgroup_open = shark_cgroup_open,
	.comm = shark_comm,
	.read_user_string = shark_read_user_string,
	.symbolize = shark_symbolize,
	.perf_probe = shark_perf_probe,
	.perf_snapshot = shark_perf__snapshot,
	.perf_replay = shark_perf__replay,
	.bpf_open = shark_bpf__open,
	.bpf_free = shark_bpf__free,
	.bpf_error = shark_bpf__error,
	.bpf_load = shark_bpf__load,
	.bpf_nprogs = shark_bpf__nprogs,
	.bpf_nmaps = shark_bpf__nmaps,
	.bpf_prog = shark_bpf__prog,
	.bpf_map = shark_bpf__map,
	.bpf_section = shark_bpf__section,
	.bpf_section_vars = shark_bpf__section_vars,
	.bpf_possible_cpus = shark_bpf__possible_cpus,
	.bpf_detach = shark_bpf__detach,
	.bpf_attach = shark_bpf__attach,
	.bpf_attach_tracepoint = shark_bpf__attach_tracepoint,
	.bpf_attach_raw_tracepoint = shark_bpf__attach_raw_tracepoint,
	.bpf_attach_uprobe = shark_bpf__attach_uprobe,
	.bpf_attach_usdt = shark_bpf__attach_usdt,
	.bpf_attach_kprobe = shark_bpf__attach_kprobe,
	.bpf_attach_perf = shark_bpf__attach_perf,
	.bpf_map_lookup = shark_bpf_map_lookup,
	.bpf_map_update = shark_bpf_map_update,
	.bpf_map_delete = shark_bpf_map_delete,
	.bpf_map_next_key = shark_bpf_map_next_key,
	.bpf_btf_type = shark_bpf__btf_type,
	.bpf_btf_c = shark_bpf__btf_c,
	.bpf_write_vmlinux_h = shark_bpf__write_vmlinux_h,
	.free_mem = shark_free,
	.hash64 = shark_hash64,
	.kernel_id = shark_kernel_id,
	.bundle_write = shark_bundle__write,
	.sym_note_pid = note_pid,
	.ringbuf_new = shark_ringbuf__new,
	.ringbuf_free = shark_ringbuf__free,
	.ringbuf_read = shark_ringbuf__read,
	.ringbuf_consume = shark_ringbuf__consume,
	.ringbuf_count = shark_ringbuf__count,
	.bpf_btf_find = shark_bpf__btf_find,
	.perf_fd = shark_perf__fd,
	.bpf_map_resize = shark_bpf__map_resize,
	.bpf_attach_socket = shark_bpf__attach_socket,
	.sym_functions = shark_sym_functions,
	.sym_variable = shark_sym_variable,
	.bpf_autoload = shark_bpf__autoload,
	.pprof_encode = shark_pprof_encode,
	.pprof_decode = shark_pprof_decode,
	.pprof_free = shark_pprof_free,
	.sym_frame = shark_sym_frame,
	.set_rlimit = set_rlimit,
	.otlp_encode = shark_otlp_encode,
	.db_open = shark_db__open,
	.db_close = shark_db__close,
	.db_exec = shark_db__exec,
	.db_errmsg = shark_db__errmsg,
	.db_prepare = shark_db__prepare,
	.db_bind_text = shark_db__bind_text,
	.db_bind_blob = shark_db__bind_blob,
	.db_bind_int64 = shark_db__bind_int64,
	.db_bind_double = shark_db__bind_double,
	.db_bind_null = shark_db__bind_null,
	.db_step = shark_db__step,
	.db_reset = shark_db__reset,
	.db_finalize = shark_db__finalize,
	.db_column_count = shark_db__column_count,
	.db_column_type = shark_db__column_type,
	.db_column_name = shark_db__column_name,
	.db_column_int64 = shark_db__column_int64,
	.db_column_double = shark_db__column_double,
	.db_column_bytes = shark_db__column_bytes,
	.db_last_id = shark_db__last_id,
	.db_changes = shark_db__changes,
	.http_request = shark_http_request,
	.trim_memory = trim_memory,
	.safe_dir = shark_safe_dir,
	.safe_write = shark_safe_write,
	.safe_read = shark_safe_read,
	.safe_create = shark_safe_create,
	.safe_error = shark_safe_error,
	.pid_valid = shark_pid_valid,
	.unwind_user = shark_unwind__user,
	.unwind_stats = shark_unwind__stats,
	.lang_frames = shark_py__splice,
	.journal_key_load = shark_journal_key_load,
	.journal_create = shark_journal__create,
	.journal_meta = shark_journal__meta,
	.journal_samples = shark_journal__samples,
	.journal_records = shark_journal__records,
	.journal_flush = shark_journal__flush,
	.journal_stats = shark_journal__stats,
	.journal_close = shark_journal__close,
	.journal_free = shark_journal__free,
	.jreader_open = shark_jreader__open,
	.jreader_check = shark_jreader__check,
	.jreader_next = shark_jreader__next,
	.jreader_samples = shark_jreader__samples,
	.jreader_records = shark_jreader__records,
	.jreader_error = shark_jreader__error,
	.jreader_note = shark_jreader__note,
	.jreader_stats = shark_jreader__stats,
	.jreader_free = shark_jreader__free,
	.count_open = shark_count__open,
	.count_read = shark_count__read,
	.count_enable = shark_count__enable,
	.fd_close = shark_fd_close,
	.child_spawn = shark_child__spawn,
	.child_release = shark_child__release,
	.child_wait = shark_child__wait,
	.target_spawn = target_spawn,
	.target_watch = target_watch,
	.build_id = shark_build_id,
	.sym_maps = shark_sym_maps,
};
