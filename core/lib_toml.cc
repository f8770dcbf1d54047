// SPDX-License-Identifier: GPL-2.0
/* lib_toml.cc - the "shark.toml" module: TOML text to Lua tables, through toml11. */
#include <sstream>
#include <string>
#include <toml.hpp>

extern "C" {
#include <lua.h>
#include <lauxlib.h>
int luaopen_shark_toml(lua_State *L);
}

namespace {

using value = toml::basic_value<toml::discard_comments>;

/* lines[path] = line of the key's value, so a config checker can say where. */
void note_line(lua_State *L, int lines, const std::string &path, const value &v)
{
	const auto loc = v.location();
	lua_pushinteger(L, static_cast<lua_Integer>(loc.line()));
	lua_setfield(L, lines, path.c_str());
}

void push(lua_State *L, const value &v, int lines, const std::string &path);

void push_table(lua_State *L, const value &v, int lines, const std::string &path)
{
	const auto &t = v.as_table();
	lua_createtable(L, 0, static_cast<int>(t.size()));
	for (const auto &kv : t) {
		std::string sub = path.empty() ? kv.first : path + "." + kv.first;
		push(L, kv.second, lines, sub);
		lua_setfield(L, -2, kv.first.c_str());
	}
}

void push_array(lua_State *L, const value &v, int lines, const std::string &path)
{
	const auto &a = v.as_array();
	lua_createtable(L, static_cast<int>(a.size()), 0);
	for (size_t i = 0; i < a.size(); i++) {
		push(L, a[i], lines, path + "[" + std::to_string(i + 1) + "]");
		lua_rawseti(L, -2, static_cast<int>(i + 1));
	}
}

/* Dates and times become their TOML text: configs use none, and a string keeps them whole. */
void push_text(lua_State *L, const value &v)
{
	std::ostringstream os;
	switch (v.type()) {
	case toml::value_t::offset_datetime: os << v.as_offset_datetime(); break;
	case toml::value_t::local_datetime: os << v.as_local_datetime(); break;
	case toml::value_t::local_date: os << v.as_local_date(); break;
	default: os << v.as_local_time(); break;
	}
	lua_pushstring(L, os.str().c_str());
}

void push(lua_State *L, const value &v, int lines, const std::string &path)
{
	note_line(L, lines, path, v);
	switch (v.type()) {
	case toml::value_t::boolean: lua_pushboolean(L, v.as_boolean()); break;
	case toml::value_t::integer: lua_pushnumber(L, static_cast<lua_Number>(v.as_integer())); break;
	case toml::value_t::floating: lua_pushnumber(L, v.as_floating()); break;
	case toml::value_t::string: {
		const std::string &s = v.as_string().str;
		lua_pushlstring(L, s.data(), s.size());
		break;
	}
	case toml::value_t::array: push_array(L, v, lines, path); break;
	case toml::value_t::table: push_table(L, v, lines, path); break;
	case toml::value_t::empty: lua_pushnil(L); break;
	default: push_text(L, v); break;
	}
}

/* toml11 writes a multi-line report; the first line after "[error]" says what is wrong. */
std::string first_line(const std::string &what)
{
	std::string s = what;
	const std::string tag = "[error] ";
	if (s.compare(0, tag.size(), tag) == 0)
		s = s.substr(tag.size());
	auto nl = s.find('\n');
	return nl == std::string::npos ? s : s.substr(0, nl);
}

/* parse(text, name) -> table, lines | nil, "name:line: message" */
int l_parse(lua_State *L)
{
	size_t len;
	const char *text = luaL_checklstring(L, 1, &len);
	const char *name = luaL_optstring(L, 2, "config");
	std::string err;
	int line = 0;

	try {
		std::istringstream in(std::string(text, len));
		value root = toml::parse<toml::discard_comments>(in, name);
		lua_newtable(L);
		int lines = lua_gettop(L);
		push(L, root, lines, "");
		lua_pushvalue(L, lines);
		lua_remove(L, lines);
		return 2;
	} catch (const toml::exception &e) {
		err = first_line(e.what());
		line = static_cast<int>(e.location().line());
	} catch (const std::exception &e) {
		err = e.what();
	}
	lua_pushnil(L);
	if (line > 0)
		lua_pushfstring(L, "%s:%d: %s", name, line, err.c_str());
	else
		lua_pushfstring(L, "%s: %s", name, err.c_str());
	return 2;
}

const luaL_Reg funcs[] = {
	{ "parse", l_parse },
	{ nullptr, nullptr },
};

} // namespace

int luaopen_shark_toml(lua_State *L)
{
	lua_newtable(L);
	luaL_register(L, nullptr, funcs);
	return 1;
}
