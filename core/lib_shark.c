// SPDX-License-Identifier: GPL-2.0
/* lib_shark.c - the "shark.core" module: what Lua needs that the FFI cannot give. */
#include <errno.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <sys/sdt.h>
#include <sys/utsname.h>
#include <lua.h>
#include <lauxlib.h>
#include <luajit.h>
#include <bpf/libbpf.h>
#include <uv.h>
#include "shark.h"
#include "vm.h"

/*
 * print() writing to stdout, which -o may have redirected. A closed pipe
 * (shark … | head) stops the run quietly instead of printing into nothing.
 */
int shark_vm__print(lua_State *L)
{
	int n = lua_gettop(L);
	int ok = 1;

	for (int i = 1; i <= n && ok; i++) {
		const char *s;
		size_t len;

		if (lua_type(L, i) == LUA_TSTRING || lua_type(L, i) == LUA_TNUMBER) {
			s = lua_tolstring(L, i, &len);
		} else {
			lua_getglobal(L, "tostring");
			lua_pushvalue(L, i);
			lua_call(L, 1, 1);
			if (!lua_isstring(L, -1))
				return luaL_error(L, "'tostring' must return a string to 'print'");
			lua_replace(L, i);	/* keep the string alive while it is written */
			s = lua_tolstring(L, i, &len);
		}
		if (i > 1 && fputc('\t', stdout) == EOF)
			ok = 0;
		if (ok && len && fwrite(s, 1, len, stdout) != len)
			ok = 0;
	}
	if (ok && fputc('\n', stdout) == EOF)
		ok = 0;
	if (!ok && errno == EPIPE) {
		clearerr(stdout);
		shark_stop(SHARK_STOP_STDOUT);
		return shark_vm__raise_stop(L);
	}
	return 0;
}

static int l_set_error_handler(lua_State *L)
{
	luaL_checktype(L, 1, LUA_TFUNCTION);
	shark_vm__set_error_handler(L, 1);
	return 0;
}

static int l_raise_stop(lua_State *L)
{
	return shark_vm__raise_stop(L);
}

static int l_versions(lua_State *L)
{
	struct utsname u;
	char buf[32];

	lua_createtable(L, 0, 5);
	lua_pushstring(L, SHARK_VERSION);
	lua_setfield(L, -2, "shark");
	lua_pushstring(L, LUAJIT_VERSION);
	lua_setfield(L, -2, "luajit");
	lua_pushstring(L, uv_version_string());
	lua_setfield(L, -2, "libuv");
	snprintf(buf, sizeof(buf), "%u.%u", libbpf_major_version(), libbpf_minor_version());
	lua_pushstring(L, buf);
	lua_setfield(L, -2, "libbpf");
	if (uname(&u) == 0) {
		lua_pushstring(L, u.release);
		lua_setfield(L, -2, "kernel");
	}
	return 1;
}

static int l_modules(lua_State *L)
{
	int i = 0;

	lua_newtable(L);
	for (const struct shark_module *m = shark_modules; m->name; m++) {
		lua_pushstring(L, m->name);
		lua_rawseti(L, -2, ++i);
	}
	return 1;
}

/* files() -> { name = contents } of the embedded files */
static int l_files(lua_State *L)
{
	lua_newtable(L);
	for (const struct shark_module *f = shark_files; f->name; f++) {
		lua_pushlstring(L, (const char *)f->code, f->len);
		lua_setfield(L, -2, f->name);
	}
	return 1;
}

/* file(name) -> the contents of one embedded file, or nil */
static int l_file(lua_State *L)
{
	const char *name = luaL_checkstring(L, 1);

	for (const struct shark_module *f = shark_files; f->name; f++) {
		if (!strcmp(f->name, name)) {
			lua_pushlstring(L, (const char *)f->code, f->len);
			return 1;
		}
	}
	lua_pushnil(L);
	return 1;
}

/* bundle() -> the payload of this bundle (a string), or nil */
static int l_bundle(lua_State *L)
{
	size_t len;
	const void *p = shark_bundle__payload(&len);

	if (p)
		lua_pushlstring(L, p, len);
	else
		lua_pushnil(L);
	return 1;
}

/* { ["struct x"] = { size = n, fields = { name = offset } } } */
static int l_layout(lua_State *L)
{
	lua_newtable(L);
	for (const struct shark_layout *l = shark_layout; l->type; l++) {
		lua_getfield(L, -1, l->type);
		if (lua_isnil(L, -1)) {
			lua_pop(L, 1);
			lua_newtable(L);
			lua_newtable(L);
			lua_setfield(L, -2, "fields");
			lua_pushvalue(L, -1);
			lua_setfield(L, -3, l->type);
		}
		lua_pushnumber(L, (lua_Number)l->value);
		if (l->field) {
			lua_getfield(L, -2, "fields");
			lua_insert(L, -2);
			lua_setfield(L, -2, l->field);
			lua_pop(L, 1);
		} else {
			lua_setfield(L, -2, "size");
		}
		lua_pop(L, 1);
	}
	return 1;
}

/*
 * watch(pid, [as_target]): a tool's -p. The process must exist; the run ends
 * when it exits, as with shark -p. as_target (a bundle's -p): it becomes
 * shark's target too (shark.target(), the templates' default pid). Return:
 * true, or nil and why.
 */
static int l_watch(lua_State *L)
{
	lua_Integer pid = luaL_checkinteger(L, 1);
	int err;

	if (pid <= 0 || pid > INT32_MAX) {
		lua_pushnil(L);
		lua_pushfstring(L, "%d is not a process id", (int)pid);
		return 2;
	}
	if (shark_state.target_pid == pid) {
		lua_pushboolean(L, 1);
		return 1;
	}
	if (lua_toboolean(L, 2) && !shark_state.target_pid)
		err = shark_target__watch((int)pid);
	else
		err = shark_loop__watch_exit((int)pid);
	if (err) {
		lua_pushnil(L);
		lua_pushfstring(L, "cannot trace process %d: %s", (int)pid,
				err == -ESRCH ? "no such process" : strerror(-err));
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/*
 * A bundle's own -c and -o (shark's, for a script that takes no options):
 * spawn(cmd) holds CMD until the script is ready, as shark -c does;
 * output(path) sends stdout to a file, as shark -o does. true, or nil, why.
 */
static int l_spawn(lua_State *L)
{
	const char *cmd = luaL_checkstring(L, 1);
	int err;

	if (shark_state.target_pid) {
		lua_pushnil(L);
		lua_pushstring(L, "-p and -c cannot be used together");
		return 2;
	}
	err = shark_target__spawn(cmd);
	if (err) {
		lua_pushnil(L);
		lua_pushfstring(L, "cannot start '%s': %s", cmd, strerror(-err));
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

static int l_output(lua_State *L)
{
	const char *path = luaL_checkstring(L, 1);

	fflush(stdout);
	if (!freopen(path, "w", stdout)) {
		lua_pushnil(L);
		lua_pushfstring(L, "cannot write %s: %s", path, strerror(errno));
		return 2;
	}
	lua_pushboolean(L, 1);
	return 1;
}

/* A function for `shark test` to put a uprobe on (in shark itself). */
__attribute__((noinline, used)) long shark_selftest_mark(long i)
{
	__asm__ volatile("" : : "r"(i) : "memory");
	return i;
}

/* selftest(n): n calls of shark_selftest_mark and n hits of the USDT probe shark:selftest(i). */
static int l_selftest(lua_State *L)
{
	lua_Integer n = luaL_checkinteger(L, 1);
	long sum = 0;

	for (long i = 1; i <= (long)n; i++) {
		sum += shark_selftest_mark(i);
		STAP_PROBE1(shark, selftest, i);
	}
	lua_pushinteger(L, sum);
	return 1;
}

int luaopen_shark_core(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "set_error_handler", l_set_error_handler },
		{ "raise_stop", l_raise_stop },
		{ "versions", l_versions },
		{ "modules", l_modules },
		{ "layout", l_layout },
		{ "files", l_files },
		{ "file", l_file },
		{ "bundle", l_bundle },
		{ "watch", l_watch },
		{ "selftest", l_selftest },
		{ "spawn", l_spawn },
		{ "output", l_output },
		{ NULL, NULL },
	};

	lua_newtable(L);
	luaL_register(L, NULL, funcs);
	lua_pushlightuserdata(L, (void *)&shark_api);
	lua_setfield(L, -2, "api");
	lua_pushstring(L, shark_cdef);
	lua_setfield(L, -2, "cdef");
	lua_pushlightuserdata(L, (void *)&shark_vm_sentinel);
	lua_setfield(L, -2, "sentinel");
	return 1;
}
