// SPDX-License-Identifier: GPL-2.0
/* lib_http.c - the "shark.http" module: an HTTP server on shark's loop calling a Lua handler per request. */
#include <errno.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include <uv.h>
#include "shark.h"
#include "http.h"
#include "vm.h"

#define SERVER_MT "shark.http.server"

struct lserver {
	struct shark_http_server *srv;
	lua_State *L;
	int handler;		/* registry ref of the Lua handler */
};

static int traceback(lua_State *L)
{
	if (shark_vm__is_stop(L, 1))
		return 1;	/* a stop stays one (see on_request) */
	luaL_traceback(L, L, lua_tostring(L, 1) ? lua_tostring(L, 1) : "(error object is not a string)", 1);
	return 1;
}

/*
 * One request: handler{method, url, authorization, content_type, body}
 * returns status, content type, body[, extra header lines]. An error in the
 * handler is this request's 500, not the end of the server; a stop closes
 * the connection unanswered.
 */
static void on_request(void *ctx, struct shark_http_conn *c, const struct shark_http_request *req)
{
	struct lserver *s = ctx;
	lua_State *L = s->L;
	int top = lua_gettop(L);
	const char *body, *ctype, *extra;
	size_t len;

	lua_pushcfunction(L, traceback);
	lua_rawgeti(L, LUA_REGISTRYINDEX, s->handler);
	lua_createtable(L, 0, 5);
	lua_pushstring(L, req->method);
	lua_setfield(L, -2, "method");
	lua_pushlstring(L, req->url, req->url_len);
	lua_setfield(L, -2, "url");
	if (req->authorization) {
		lua_pushstring(L, req->authorization);
		lua_setfield(L, -2, "authorization");
	}
	if (req->content_type) {
		lua_pushstring(L, req->content_type);
		lua_setfield(L, -2, "content_type");
	}
	lua_pushlstring(L, req->body ? req->body : "", req->body_len);
	lua_setfield(L, -2, "body");
	if (lua_pcall(L, 1, 4, top + 1)) {
		static const char msg[] = "{\"error\":\"internal error (see the server's log)\"}\n";

		/*
		 * shark's stop (SIGTERM, shark.exit) unwound the handler: the
		 * request was not handled, and no answer says so best. The
		 * connection closes unanswered: a client retries, where a 4xx
		 * or 5xx would say the request itself failed.
		 */
		if (shark_vm__is_stop(L, -1)) {
			lua_settop(L, top);
			shark_http__drop(c);
			return;
		}

		fprintf(stderr, "shark serve: %s %s: %s\n", req->method, req->url, lua_tostring(L, -1));
		shark_http__respond(c, 500, "application/json", msg, sizeof(msg) - 1, NULL);
		lua_settop(L, top);
		return;
	}
	ctype = lua_tostring(L, top + 3);
	body = lua_tolstring(L, top + 4, &len);
	extra = lua_tostring(L, top + 5);
	shark_http__respond(c, (int)lua_tointeger(L, top + 2), ctype, body ? body : "", body ? len : 0, extra);
	lua_settop(L, top);
}

/* listen(host, port, max_body, handler) -> server, or nil, message */
static int l_listen(lua_State *L)
{
	const char *host = luaL_checkstring(L, 1);
	int port = (int)luaL_checkinteger(L, 2);
	lua_Number max = luaL_checknumber(L, 3);
	struct lserver *s;
	int err = 0;

	luaL_checktype(L, 4, LUA_TFUNCTION);
	s = lua_newuserdata(L, sizeof(*s));
	memset(s, 0, sizeof(*s));
	s->handler = LUA_NOREF;
	luaL_getmetatable(L, SERVER_MT);
	lua_setmetatable(L, -2);
	s->L = L;
	s->srv = shark_http__listen(shark_loop(), host, port, (size_t)max, on_request, s, &err);
	if (!s->srv) {
		lua_pushnil(L);
		lua_pushstring(L, uv_strerror(err));
		return 2;
	}
	lua_pushvalue(L, 4);
	s->handler = luaL_ref(L, LUA_REGISTRYINDEX);
	return 1;
}

/* srv:tls(cert, key) -> nil, or the reason the files do not make a server */
static int l_tls(lua_State *L)
{
	struct lserver *s = luaL_checkudata(L, 1, SERVER_MT);
	const char *cert = luaL_checkstring(L, 2), *key = luaL_checkstring(L, 3);
	char err[256];

	if (!s->srv)
		return luaL_error(L, "the server is closed");
	if (shark_http__tls(s->srv, cert, key, err, sizeof(err))) {
		lua_pushstring(L, err);
		return 1;
	}
	return 0;
}

static int l_port(lua_State *L)
{
	struct lserver *s = luaL_checkudata(L, 1, SERVER_MT);

	lua_pushinteger(L, s->srv ? shark_http__port(s->srv) : 0);
	return 1;
}

static int l_close(lua_State *L)
{
	struct lserver *s = luaL_checkudata(L, 1, SERVER_MT);

	shark_http__close(s->srv);
	s->srv = NULL;
	luaL_unref(L, LUA_REGISTRYINDEX, s->handler);
	s->handler = LUA_NOREF;
	return 0;
}

int luaopen_shark_http(lua_State *L)
{
	static const luaL_Reg methods[] = {
		{ "port", l_port },
		{ "tls", l_tls },
		{ "close", l_close },
		{ NULL, NULL },
	};

	luaL_newmetatable(L, SERVER_MT);
	lua_newtable(L);
	luaL_register(L, NULL, methods);
	lua_setfield(L, -2, "__index");
	lua_pop(L, 1);
	lua_newtable(L);
	lua_pushcfunction(L, l_listen);
	lua_setfield(L, -2, "listen");
	return 1;
}
