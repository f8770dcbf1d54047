/* SPDX-License-Identifier: GPL-2.0 */
/* vm.h - what the C core needs from the Lua state (needs lua.h first). */
#ifndef SHARK_VM_H
#define SHARK_VM_H

#include <lua.h>

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
