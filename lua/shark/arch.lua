-- SPDX-License-Identifier: GPL-2.0
-- shark/arch.lua - what differs by CPU architecture on the Lua side, in one
-- place: the __TARGET_ARCH_ clang needs for BPF C (bpf_tracing.h's pt_regs
-- argument macros), and the syscall numbers. Its BPF twin is
-- bpf/include/shark_arch.bpf.h; the Makefile's BPF_ARCH builds the prebuilt
-- programs. A new architecture adds a line to each.
local core = require "perf.core"

local M = {}

-- jit.arch -> the kernel's name for it in __TARGET_ARCH_<name>
local BPF_TARGET = { x64 = "x86", arm64 = "arm64", ppc64le = "powerpc", s390x = "s390", mips = "mips" }
M.bpf_target = BPF_TARGET[jit.arch]

-- Syscall numbers the C library's table lacks: tracepoints named after the
-- kernel's SYSCALL_DEFINE rather than __NR_*, and syscalls newer than Debian
-- 12's headers. Numbers are ABI; tests/e2e/perf.sh checks each one on the
-- running kernel (x86_64 here; arm64's need an arm64 kernel).
-- Since Linux 5.1 a new syscall has one number on every architecture.
local NEWER = {
  cachestat = 451, fchmodat2 = 452, map_shadow_stack = 453, futex_wake = 454, futex_wait = 455,
  futex_requeue = 456, statmount = 457, listmount = 458, lsm_get_self_attr = 459,
  lsm_set_self_attr = 460, lsm_list_modules = 461, mseal = 462, setxattrat = 463, getxattrat = 464,
  listxattrat = 465, removexattrat = 466, open_tree_attr = 467, file_getattr = 468, file_setattr = 469,
}
local EXTRA = {
  x64 = { newuname = 63, sendfile64 = 40, newfstat = 5, newlstat = 6, newstat = 4, umount = 166 },
  -- asm-generic/unistd.h: __NR_uname, __NR3264_sendfile, __NR3264_fstat,
  -- __NR_umount2 (SYSCALL_DEFINE2(umount)), __NR3264_fadvise64 (sys_fadvise64_64)
  arm64 = { newuname = 160, sendfile64 = 71, newfstat = 80, umount = 39, fadvise64_64 = 223 },
}
M.syscall_extra = EXTRA[jit.arch] or {}
for name, nr in pairs(NEWER) do M.syscall_extra[name] = nr end

-- DWARF unwinding of copied user stacks (callchain_u = "dwarf", bpf.offcpu
-- user = "dwarf"): perf's register numbers and the unwinder's are x86-64's
-- (core/unwind.c); elsewhere frame-pointer stacks only.
M.dwarf_unwind = jit.arch == "x64"
M.NO_DWARF = ("DWARF unwinding of user stacks is x86-64 only (shark on %s): use frame-pointer stacks " ..
  "(callchain_u = true)"):format(jit.arch)

local nrs, names

-- { name = nr } of this architecture's syscalls (the C library's and the extras).
function M.syscall_nrs()
  if not nrs then
    nrs = core.syscalls()
    for name, nr in pairs(M.syscall_extra) do
      if not nrs[name] then nrs[name] = nr end
    end
  end
  return nrs
end

-- The name of syscall nr ("syscall_N" when unknown).
function M.syscall_name(nr)
  if not names then
    names = {}
    for name, n in pairs(M.syscall_nrs()) do
      -- two names for one number (the C library's and the kernel's): the C library's
      if not names[n] or M.syscall_extra[names[n]] then names[n] = name end
    end
  end
  return names[nr] or ("syscall_" .. nr)
end

return M
