/* SPDX-License-Identifier: GPL-2.0 */
/* vm.h - the Lua state (vm.c) and the C modules it preloads (lib_*.c); includes lua.h. */
#ifndef SHARK_VM_H
#define SHARK_VM_H

#include <lua.h>

struct shark_opts;

/* vm.c: the Lua state */
lua_State *shark_vm__new(const struct shark_opts *opts);
int shark_vm__run(lua_State *L, const struct shark_opts *opts);
void shark_vm__interrupt(void);

/* lib_shark.c, lib_perf.c: the C modules shark.core and perf.core */
long shark_selftest_mark(long i);	/* a uprobe target for shark test */
int luaopen_shark_core(lua_State *L);
int luaopen_perf_core(lua_State *L);
int luaopen_shark_toml(lua_State *L);
int luaopen_shark_http(lua_State *L);
int luaopen_shark_httpc(lua_State *L);

/* Protected call with shark's error handler (reports, stops the loop). */
int shark_vm__pcall(lua_State *L, int nargs, int nresults);
/* Unwind Lua with the stop sentinel: a stop that is not an error. */
int shark_vm__raise_stop(lua_State *L);
int shark_vm__is_stop(lua_State *L, int idx);
void shark_vm__set_error_handler(lua_State *L, int idx);
void shark_vm__clear_interrupt(void);
int shark_vm__print(lua_State *L);
/* The main Lua state: callbacks from the loop run on it, not on a coroutine's. */
lua_State *shark_vm__main(void);
extern const char shark_vm_sentinel;

#endif /* SHARK_VM_H */
