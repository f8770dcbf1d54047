// SPDX-License-Identifier: GPL-2.0
/* lib_httpc.c - "shark.httpc": HTTP requests off the loop (libuv's thread pool runs the blocking client). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <lua.h>
#include <lauxlib.h>
#include <uv.h>
#include "shark.h"
#include "vm.h"

#define RESP_MAX (1 << 20)	/* the response body kept: the agent reads status lines, not data */
#define HDR_MAX 8192

struct call {
	uv_work_t work;
	int cb;			/* registry ref of the callback */
	char *method, *url, *headers, *body, *ca_file;
	size_t len;
	int timeout_ms;
	char *resp;
	char hdr[HDR_MAX];
	int32_t status, rc;
	char error[192];
	struct shark_grpc_call *grpc;	/* a gRPC call, not HTTP */
};

static void call_free(struct call *c)
{
	free(c->method);
	free(c->url);
	free(c->headers);
	free(c->body);
	free(c->ca_file);
	free(c->resp);
	free(c->grpc);
	free(c);
}

static void run(uv_work_t *w)
{
	struct call *c = w->data;

	if (c->grpc) {
		c->grpc->url = c->url;
		c->grpc->metadata = c->headers;
		c->grpc->ca_file = c->ca_file[0] ? c->ca_file : NULL;
		c->grpc->msg = c->body;
		c->grpc->len = c->len;
		c->grpc->timeout_ms = c->timeout_ms;
		c->rc = shark_grpc_call(c->grpc);
		memcpy(c->error, c->grpc->error, sizeof(c->error));
		return;
	}

	struct shark_http_call call = { .method = c->method, .url = c->url, .headers = c->headers,
					.ca_file = c->ca_file[0] ? c->ca_file : NULL, .body = c->body, .len = c->len,
					.timeout_ms = c->timeout_ms, .resp = c->resp, .resp_len = RESP_MAX,
					.resp_hdr = c->hdr, .hdr_len = HDR_MAX };

	c->rc = shark_http_call(&call);
	c->status = call.status;
	memcpy(c->error, call.error, sizeof(c->error));
}

/*
 * callback(status, headers, body) or callback(nil, message) on the loop;
 * a gRPC call's: callback(grpc_status, grpc_message, retry_ms | nil, http_status).
 */
static void done(uv_work_t *w, int status)
{
	struct call *c = w->data;
	lua_State *L = shark_vm__main();
	int nargs;

	lua_rawgeti(L, LUA_REGISTRYINDEX, c->cb);
	luaL_unref(L, LUA_REGISTRYINDEX, c->cb);
	if (status < 0 || c->rc < 0) {
		lua_pushnil(L);
		lua_pushstring(L, status < 0 ? uv_strerror(status) : c->error[0] ? c->error : strerror(-c->rc));
		nargs = 2;
	} else if (c->grpc) {
		lua_pushinteger(L, c->grpc->grpc_status);
		lua_pushstring(L, c->grpc->message);
		if (c->grpc->retry_ms >= 0)
			lua_pushinteger(L, c->grpc->retry_ms);
		else
			lua_pushnil(L);
		lua_pushinteger(L, c->grpc->http_status);
		nargs = 4;
	} else {
		lua_pushinteger(L, c->status);
		lua_pushstring(L, c->hdr);
		lua_pushlstring(L, c->resp, (size_t)c->rc);
		nargs = 3;
	}
	call_free(c);
	shark_vm__pcall(L, nargs, 0);
}

static char *dup_opt(lua_State *L, int t, const char *key, size_t *len)
{
	const char *s;
	size_t n;
	char *out;

	lua_getfield(L, t, key);
	s = lua_tolstring(L, -1, &n);
	lua_pop(L, 1);
	if (!s) {
		s = "";
		n = 0;
	}
	out = malloc(n + 1);
	if (!out)
		return NULL;
	memcpy(out, s, n);
	out[n] = '\0';
	if (len)
		*len = n;
	return out;
}

/*
 * request{method, url, headers, body, timeout_ms, ca_file}, callback -> true | nil, message
 * grpc{url, headers, body, timeout_ms, ca_file}, callback: a gRPC unary call (url's path: the method)
 */
static int start(lua_State *L, int grpc)
{
	struct call *c;
	int err;

	luaL_checktype(L, 1, LUA_TTABLE);
	luaL_checktype(L, 2, LUA_TFUNCTION);
	c = calloc(1, sizeof(*c));
	if (!c)
		return luaL_error(L, "out of memory");
	c->method = dup_opt(L, 1, "method", NULL);
	c->url = dup_opt(L, 1, "url", NULL);
	c->headers = dup_opt(L, 1, "headers", NULL);
	c->body = dup_opt(L, 1, "body", &c->len);
	c->ca_file = dup_opt(L, 1, "ca_file", NULL);
	if (grpc)
		c->grpc = calloc(1, sizeof(*c->grpc));
	else
		c->resp = malloc(RESP_MAX);
	lua_getfield(L, 1, "timeout_ms");
	c->timeout_ms = lua_isnumber(L, -1) ? (int)lua_tointeger(L, -1) : 5000;
	lua_pop(L, 1);
	if (!c->method || !c->url || !c->headers || !c->body || !c->ca_file || !(c->resp || c->grpc)) {
		call_free(c);
		return luaL_error(L, "out of memory");
	}
	c->work.data = c;
	err = uv_queue_work(shark_loop(), &c->work, run, done);
	if (err) {
		call_free(c);
		lua_pushnil(L);
		lua_pushstring(L, uv_strerror(err));
		return 2;
	}
	lua_pushvalue(L, 2);
	c->cb = luaL_ref(L, LUA_REGISTRYINDEX);	/* one registry for every thread */
	lua_pushboolean(L, 1);
	return 1;
}

static int l_request(lua_State *L)
{
	return start(L, 0);
}

static int l_grpc(lua_State *L)
{
	return start(L, 1);
}

int luaopen_shark_httpc(lua_State *L)
{
	lua_newtable(L);
	lua_pushcfunction(L, l_request);
	lua_setfield(L, -2, "request");
	lua_pushcfunction(L, l_grpc);
	lua_setfield(L, -2, "grpc");
	return 1;
}
