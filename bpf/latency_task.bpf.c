// SPDX-License-Identifier: GPL-2.0
/* latency_task.bpf.c - latency.bpf.c's programs keyed by a task_struct argument (CO-RE). */
#define SHARK_LATENCY_TASK
#include "latency.bpf.c"
