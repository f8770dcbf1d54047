// SPDX-License-Identifier: GPL-2.0
/* lib_perf.c - the "perf.core" module: tracefs listing and formats as Lua tables. */
#include <errno.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include <traceevent/event-parse.h>
#include "shark.h"

static int push_errno(lua_State *L, int err, const char *what)
{
	lua_pushnil(L);
	if (err == ENOENT)
		lua_pushfstring(L, "%s: no such event", what);
	else if (err == EBADMSG)
		lua_pushstring(L, shark_tp__bad_format());
	else if (err == EPERM)
		lua_pushfstring(L, "%s: %s", what, shark_tracefs__why(err));
	else
		lua_pushfstring(L, "%s: %s", what, strerror(err));
	lua_pushinteger(L, err);
	return 3;
}

/* tracefs() -> path | nil, message */
static int l_tracefs(lua_State *L)
{
	const char *dir = shark_tracefs();

	if (!dir) {
		lua_pushnil(L);
		lua_pushstring(L, shark_tracefs__why(errno));
		return 2;
	}
	lua_pushstring(L, dir);
	return 1;
}

/* tp_id(sys, name) -> id | nil, message, errno */
static int l_tp_id(lua_State *L)
{
	const char *sys = luaL_checkstring(L, 1), *name = luaL_checkstring(L, 2);
	int id = shark_tp__id(sys, name);

	if (id < 0)
		return push_errno(L, -id, lua_pushfstring(L, "%s:%s", sys, name));
	lua_pushinteger(L, id);
	return 1;
}

static void push_field(lua_State *L, const struct tep_format_field *f, int common)
{
	lua_createtable(L, 0, 12);
	lua_pushstring(L, f->name);
	lua_setfield(L, -2, "name");
	lua_pushstring(L, f->type);
	lua_setfield(L, -2, "type");
	lua_pushinteger(L, f->offset);
	lua_setfield(L, -2, "offset");
	lua_pushinteger(L, f->size);
	lua_setfield(L, -2, "size");
	lua_pushinteger(L, (lua_Integer)f->arraylen);
	lua_setfield(L, -2, "arraylen");
	lua_pushinteger(L, (lua_Integer)f->elementsize);
	lua_setfield(L, -2, "elemsize");
	lua_pushboolean(L, !!(f->flags & TEP_FIELD_IS_SIGNED));
	lua_setfield(L, -2, "signed");
	lua_pushboolean(L, !!(f->flags & TEP_FIELD_IS_ARRAY));
	lua_setfield(L, -2, "array");
	lua_pushboolean(L, !!(f->flags & TEP_FIELD_IS_STRING));
	lua_setfield(L, -2, "string");
	lua_pushboolean(L, !!(f->flags & TEP_FIELD_IS_DYNAMIC));
	lua_setfield(L, -2, "dynamic");
	lua_pushboolean(L, !!(f->flags & TEP_FIELD_IS_RELATIVE));
	lua_setfield(L, -2, "relative");
	lua_pushboolean(L, !!(f->flags & TEP_FIELD_IS_POINTER));
	lua_setfield(L, -2, "pointer");
	lua_pushboolean(L, common);
	lua_setfield(L, -2, "common");
}

/* tp_format(sys, name) -> { id, system, name, fields = {...} } | nil, message */
static int l_tp_format(lua_State *L)
{
	const char *sys = luaL_checkstring(L, 1), *name = luaL_checkstring(L, 2);
	struct tep_event *ev = shark_tp__format(sys, name);
	const struct tep_format_field *f;
	int i = 0;

	if (!ev)
		return push_errno(L, errno, lua_pushfstring(L, "%s:%s", sys, name));
	lua_createtable(L, 0, 4);
	lua_pushinteger(L, ev->id);
	lua_setfield(L, -2, "id");
	lua_pushstring(L, ev->system);
	lua_setfield(L, -2, "system");
	lua_pushstring(L, ev->name);
	lua_setfield(L, -2, "name");
	lua_newtable(L);
	for (f = ev->format.common_fields; f; f = f->next) {
		push_field(L, f, 1);
		lua_rawseti(L, -2, ++i);
	}
	for (f = ev->format.fields; f; f = f->next) {
		push_field(L, f, 0);
		lua_rawseti(L, -2, ++i);
	}
	lua_setfield(L, -2, "fields");
	return 1;
}

static void list_cb(const char *sys, const char *event, void *arg)
{
	lua_State *L = arg;

	lua_pushfstring(L, "%s:%s", sys, event);
	lua_rawseti(L, -2, (int)lua_objlen(L, -2) + 1);
}

/* tp_list([glob]) -> { "sys:event", ... } | nil, message */
static int l_tp_list(lua_State *L)
{
	const char *glob = luaL_optstring(L, 1, NULL);
	int n;

	lua_newtable(L);
	n = shark_tp__list(glob, list_cb, L);
	if (n < 0) {
		lua_pushnil(L);
		lua_pushstring(L, -n == EACCES || -n == ENOENT || -n == EPERM ? shark_tracefs__why(-n)
									      : strerror(-n));
		return 2;
	}
	return 1;
}

/* syscalls() -> { name = nr } for this architecture */
static int l_syscalls(lua_State *L)
{
	lua_newtable(L);
	for (const struct shark_syscall *s = shark_syscalls; s->name; s++) {
		lua_pushinteger(L, s->nr);
		lua_setfield(L, -2, s->name);
	}
	return 1;
}

int luaopen_perf_core(lua_State *L)
{
	static const luaL_Reg funcs[] = {
		{ "tracefs", l_tracefs },
		{ "tp_id", l_tp_id },
		{ "tp_format", l_tp_format },
		{ "tp_list", l_tp_list },
		{ "syscalls", l_syscalls },
		{ NULL, NULL },
	};

	lua_newtable(L);
	luaL_register(L, NULL, funcs);
	return 1;
}
