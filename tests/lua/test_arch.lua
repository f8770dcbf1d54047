-- SPDX-License-Identifier: GPL-2.0
-- shark.arch: the syscall table and the BPF target of the architecture shark
-- was built for (x86_64 natively; arm64 when tests/run's arm64 suite runs
-- the cross-built shark under qemu-user), numbers being ABI.
local t = require "tap"
local arch = require "shark.arch"

-- a few numbers of each table (arch/x86/entry/syscalls/syscall_64.tbl, asm-generic/unistd.h)
local WANT = {
  x64 = { target = "x86", read = 0, openat = 257, getppid = 110, newuname = 63, umount = 166, dwarf = true },
  arm64 = { target = "arm64", read = 63, openat = 56, getppid = 173, newuname = 160, umount = 39, dwarf = false },
}
local w = WANT[jit.arch]
if not w then
  t.skip("the syscall table of " .. jit.arch, "shark's tests know x64 and arm64 only")
  t.done()
  return
end
local nrs = arch.syscall_nrs()
t.is(arch.bpf_target, w.target, "__TARGET_ARCH_" .. w.target .. " for BPF C on " .. jit.arch)
for _, name in ipairs({ "read", "openat", "getppid", "newuname", "umount" }) do
  t.is(nrs[name], w[name], ("%s is syscall %d on %s"):format(name, w[name], jit.arch))
end
t.is(arch.syscall_name(w.openat), "openat", "and number " .. w.openat .. " is openat")
t.is(arch.syscall_name(w.newuname), "uname", "two names for one number: the C library's")
t.is(nrs.mseal, 462, "a syscall newer than Debian 12's headers: one number everywhere")
t.is(arch.syscall_name(99999), "syscall_99999", "an unknown number is named by its number")
t.is(arch.dwarf_unwind, w.dwarf, "DWARF unwinding of user stacks: x86-64 only")
local ok, err = pcall(perf.on, "cpu-clock", { callchain_u = "dwarf", pid = 1 }, function() end)
if w.dwarf then
  t.ok(ok or not tostring(err):find("x86-64 only", 1, true), "callchain_u = \"dwarf\" is taken here")
  if ok and err then err:stop() end
else
  t.ok(not ok and tostring(err):find("DWARF unwinding of user stacks is x86-64 only", 1, true),
    "callchain_u = \"dwarf\" is refused with the reason", err)
end
t.done()
