// SPDX-License-Identifier: GPL-2.0
/* vm.c - the Lua state: libraries, embedded modules, protected calls, the run. */
#include <errno.h>
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/wait.h>
#include <lua.h>
#include <lauxlib.h>
#include <lualib.h>
#include <luajit.h>
#include <luv/luv.h>
#include <lua-cjson.h>
#include "shark.h"
#include "vm.h"

static lua_State *vm_L;

lua_State *shark_vm__main(void)
{
	return vm_L;
}
static int errh_ref = LUA_NOREF;

/* Raised to unwind Lua for a stop that is not an error (exit, signal, EPIPE). */
const char shark_vm_sentinel;

/* ------------------------------------------------------------ interrupts */

static void interrupt_hook(lua_State *L, lua_Debug *ar)
{
	(void)ar;
	lua_sethook(L, NULL, 0, 0);
	shark_vm__raise_stop(L);
}

/* Called from a signal handler, as luajit.c does: only sets a hook. */
void shark_vm__interrupt(void)
{
	if (vm_L)
		lua_sethook(vm_L, interrupt_hook, LUA_MASKCALL | LUA_MASKRET | LUA_MASKCOUNT, 1);
}

void shark_vm__clear_interrupt(void)
{
	if (vm_L)
		lua_sethook(vm_L, NULL, 0, 0);
}

int shark_vm__raise_stop(lua_State *L)
{
	lua_pushlightuserdata(L, (void *)&shark_vm_sentinel);
	return lua_error(L);
}

int shark_vm__is_stop(lua_State *L, int idx)
{
	return lua_touserdata(L, idx) == &shark_vm_sentinel;
}

/* ---------------------------------------------------------- protected calls */

void shark_vm__set_error_handler(lua_State *L, int idx)
{
	lua_pushvalue(L, idx);
	if (errh_ref != LUA_NOREF)
		luaL_unref(L, LUA_REGISTRYINDEX, errh_ref);
	errh_ref = luaL_ref(L, LUA_REGISTRYINDEX);
}

/* Used until shark.boot has installed its handler. */
static int fallback_handler(lua_State *L)
{
	if (shark_vm__is_stop(L, 1))
		return 1;
	luaL_traceback(L, L, lua_tostring(L, 1) ? lua_tostring(L, 1) : "(error object is not a string)", 1);
	fprintf(stderr, "%s\n", lua_tostring(L, -1));
	shark_state.errors++;
	shark_stop(SHARK_STOP_ERROR);
	shark_vm__raise_stop(L);
	return 1;
}

/*
 * Call the function below @nargs arguments with shark's error handler. The
 * handler reports a Lua error (file:line, traceback) and stops the loop, so
 * callers only need the status. Return: 0 or the lua_pcall status.
 */
int shark_vm__pcall(lua_State *L, int nargs, int nresults)
{
	int base = lua_gettop(L) - nargs;
	int rc;

	if (errh_ref == LUA_NOREF)
		lua_pushcfunction(L, fallback_handler);
	else
		lua_rawgeti(L, LUA_REGISTRYINDEX, errh_ref);
	lua_insert(L, base);
	rc = lua_pcall(L, nargs, nresults, base);
	lua_remove(L, base);
	if (rc) {
		if (!shark_vm__is_stop(L, -1)) {
			/* the handler could not run: out of memory, error in error */
			fprintf(stderr, "shark: %s\n", lua_tostring(L, -1) ? lua_tostring(L, -1) :
				"error in error handling");
			shark_state.errors++;
			shark_stop(SHARK_STOP_ERROR);
		}
		lua_pop(L, 1);
	}
	return rc;
}

/* luv runs every uv.* callback through this: errors end the run like any other. */
static int luv_pcall(lua_State *L, int nargs, int nresults, int flags)
{
	int top = lua_gettop(L) - nargs - 1;
	int rc;

	(void)flags;
	rc = shark_vm__pcall(L, nargs, nresults);
	if (rc)
		return -rc;
	return nresults == LUA_MULTRET ? lua_gettop(L) - top : nresults;
}

/* ------------------------------------------------------------- the modules */

const struct shark_module *shark_module__find(const char *name)
{
	for (const struct shark_module *m = shark_modules; m->name; m++)
		if (!strcmp(m->name, name))
			return m;
	return NULL;
}

/*
 * package.loaders entry: SHARK_LUA_PATH=dir loads dir/a/b.lua for "a.b" (for
 * development), else the bytecode embedded at build time.
 */
static int searcher(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);
	const char *dev = getenv("SHARK_LUA_PATH");
	const struct shark_module *m;

	if (dev && *dev) {
		char path[PATH_MAX];
		int n = snprintf(path, sizeof(path), "%s/%s.lua", dev, name);

		if (n > 0 && (size_t)n < sizeof(path)) {
			for (char *p = path + strlen(dev) + 1; *p; p++)
				if (*p == '.' && strcmp(p, ".lua"))
					*p = '/';
			if (access(path, R_OK) == 0) {
				if (luaL_loadfile(L, path))
					return lua_error(L);
				return 1;
			}
		}
	}
	m = shark_module__find(name);
	if (!m) {
		lua_pushfstring(L, "\n\tno module '%s' in shark", name);
		return 1;
	}
	if (luaL_loadbuffer(L, (const char *)m->code, m->len, name))
		return lua_error(L);
	return 1;
}

static void add_searcher(lua_State *L)
{
	int n;

	lua_getglobal(L, "package");
	lua_getfield(L, -1, "loaders");
	n = (int)lua_objlen(L, -1);
	/* shift to make shark's searcher second, right after preload */
	for (int i = n; i >= 2; i--) {
		lua_rawgeti(L, -1, i);
		lua_rawseti(L, -2, i + 1);
	}
	lua_pushcfunction(L, searcher);
	lua_rawseti(L, -2, 2);
	lua_pop(L, 2);
}

/* "luv" is another name for "uv": one module, one set of handles. */
static int open_luv_alias(lua_State *L)
{
	lua_getglobal(L, "require");
	lua_pushstring(L, "uv");
	lua_call(L, 1, 1);
	return 1;
}

static void preload(lua_State *L, const char *name, lua_CFunction f)
{
	lua_getglobal(L, "package");
	lua_getfield(L, -1, "preload");
	lua_pushcfunction(L, f);
	lua_setfield(L, -2, name);
	lua_pop(L, 2);
}

lua_State *shark_vm__new(const struct shark_opts *opts)
{
	lua_State *L;

	(void)opts;
	L = luaL_newstate();
	if (!L) {
		errno = ENOMEM;
		return NULL;
	}
	luaL_openlibs(L);
	luv_set_loop(L, shark_loop());
	luv_set_callback(L, luv_pcall);
	preload(L, "uv", luaopen_luv);
	preload(L, "luv", open_luv_alias);
	preload(L, "cjson", luaopen_cjson);
	preload(L, "shark.core", luaopen_shark_core);
	preload(L, "perf.core", luaopen_perf_core);
	preload(L, "shark.toml", luaopen_shark_toml);
	preload(L, "shark.http", luaopen_shark_http);
	preload(L, "shark.httpc", luaopen_shark_httpc);
	add_searcher(L);
	lua_pushcfunction(L, shark_vm__print);
	lua_setglobal(L, "print");
	vm_L = L;
	return L;
}

/* ------------------------------------------------------------------ the run */

static void push_opts(lua_State *L, const struct shark_opts *o)
{
	static const char *const kinds[] = { "none", "file", "code", "stdin", "module", "bundle" };

	lua_createtable(L, 0, 10);
	lua_pushstring(L, kinds[o->kind]);
	lua_setfield(L, -2, "kind");
	lua_pushstring(L, o->script);
	lua_setfield(L, -2, "script");
	lua_createtable(L, o->nargs, 0);
	for (int i = 0; i < o->nargs; i++) {
		lua_pushstring(L, o->args[i]);
		lua_rawseti(L, -2, i + 1);
	}
	lua_setfield(L, -2, "args");
	lua_pushnumber(L, o->duration);
	lua_setfield(L, -2, "duration");
	if (o->output) {
		lua_pushstring(L, o->output);
		lua_setfield(L, -2, "output");
	}
	if (o->command) {
		lua_pushstring(L, o->command);
		lua_setfield(L, -2, "command");
	}
	if (o->module) {
		lua_pushstring(L, o->module);
		lua_setfield(L, -2, "module");
	}
	lua_pushinteger(L, o->verbose);
	lua_setfield(L, -2, "verbose");
	lua_pushboolean(L, o->version);
	lua_setfield(L, -2, "version");
	if (o->pid) {
		lua_pushinteger(L, o->pid);
		lua_setfield(L, -2, "pid");
	}
}

/* Call boot[field](...) protected; leaves nresults values (nil on error). */
static int call_boot(lua_State *L, int boot, const char *field, int nargs, int nresults)
{
	int rc;

	lua_getfield(L, boot, field);
	lua_insert(L, -nargs - 1);
	rc = shark_vm__pcall(L, nargs, nresults);
	if (rc)
		for (int i = 0; i < nresults; i++)
			lua_pushnil(L);
	return rc;
}

static int exit_code(int handlers_ran)
{
	if (shark_state.errors)
		return SHARK_EXIT_ERROR;
	if (shark_state.exit_code >= 0)
		return shark_state.exit_code;
	if (shark_state.stop_reason == SHARK_STOP_SIGNAL && !handlers_ran)
		return 128 + shark_state.signo;
	return SHARK_EXIT_OK;
}

/*
 * The -c command failed on its own: say so. shark's exit status stays the
 * script's (shark.exit, an error, a signal); shark.target() has the command's.
 */
static void tell_command_status(const struct shark_opts *opts)
{
	int w = shark_state.target_status;

	if (!opts->command || shark_state.stop_reason != SHARK_STOP_TARGET || w < 0)
		return;
	if (WIFEXITED(w) && WEXITSTATUS(w))
		pr_info("'%s' exited with status %d\n", opts->command, WEXITSTATUS(w));
	else if (WIFSIGNALED(w))
		pr_info("'%s' was killed by signal %d (%s)\n", opts->command, WTERMSIG(w),
			strsignal(WTERMSIG(w)));
}

/*
 * Run the script: load and run its top level, then the loop, then the
 * on_end handlers. Return: the process exit code.
 */
int shark_vm__run(lua_State *L, const struct shark_opts *opts)
{
	int boot, ran = 0, err;

	lua_getglobal(L, "require");
	lua_pushstring(L, "shark.boot");
	if (shark_vm__pcall(L, 1, 1))
		return SHARK_EXIT_ERROR;
	boot = lua_gettop(L);

	push_opts(L, opts);
	call_boot(L, boot, "main", 1, 0);
	err = shark_loop__ready();
	if (err) {
		pr_err("cannot start the -d timer: %s\n", uv_strerror(err));
		shark_state.errors++;
		shark_stop(SHARK_STOP_ERROR);
	}
	/* -c, or a bundle's -c (shark.core.spawn): the command runs now */
	if (!shark_state.stop_reason && shark_state.target_held) {
		err = shark_target__release();
		if (err) {
			pr_err("cannot run '%s': %s\n", opts->command ? opts->command : "the -c command",
			       strerror(-err));
			shark_state.errors++;
			shark_stop(SHARK_STOP_ERROR);
		}
	}
	shark_watchdog__looping();
	shark_loop__run();
	shark_watchdog__finishing();
	shark_vm__clear_interrupt();
	call_boot(L, boot, "finish", 0, 1);
	ran = (int)lua_tointeger(L, -1);
	lua_pop(L, 2);
	fflush(stdout);
	tell_command_status(opts);
	return exit_code(ran);
}
