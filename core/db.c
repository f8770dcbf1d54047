// SPDX-License-Identifier: GPL-2.0
/* db.c - SQLite (the C library, linked statically) for Lua: open, statements, rows. */
#include <errno.h>
#include <stdio.h>
#include <sqlite3.h>
#include "shark.h"

/*
 * Thin on purpose: Lua holds the SQL. The wrappers exist because the FFI
 * surface names only fixed-width types and shark_ functions.
 */
struct shark_db *shark_db__open(const char *path, char *err, int32_t errlen)
{
	sqlite3 *db = NULL;
	int rc = sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX,
				 NULL);

	if (rc != SQLITE_OK) {
		snprintf(err, (size_t)errlen, "%s", db ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
		sqlite3_close(db);
		return NULL;
	}
	sqlite3_busy_timeout(db, 5000);
	sqlite3_extended_result_codes(db, 0);
	return (struct shark_db *)db;
}

void shark_db__close(struct shark_db *db)
{
	sqlite3_close_v2((sqlite3 *)db);
}

int32_t shark_db__exec(struct shark_db *db, const char *sql)
{
	return sqlite3_exec((sqlite3 *)db, sql, NULL, NULL, NULL);
}

const char *shark_db__errmsg(struct shark_db *db)
{
	return sqlite3_errmsg((sqlite3 *)db);
}

struct shark_stmt *shark_db__prepare(struct shark_db *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2((sqlite3 *)db, sql, -1, &st, NULL) != SQLITE_OK)
		return NULL;
	return (struct shark_stmt *)st;
}

int32_t shark_db__bind_text(struct shark_stmt *st, int32_t i, const char *s, int32_t len)
{
	return sqlite3_bind_text((sqlite3_stmt *)st, i, s, len, SQLITE_TRANSIENT);
}

int32_t shark_db__bind_blob(struct shark_stmt *st, int32_t i, const void *p, int64_t len)
{
	return sqlite3_bind_blob64((sqlite3_stmt *)st, i, p, (sqlite3_uint64)len, SQLITE_TRANSIENT);
}

int32_t shark_db__bind_int64(struct shark_stmt *st, int32_t i, int64_t v)
{
	return sqlite3_bind_int64((sqlite3_stmt *)st, i, v);
}

int32_t shark_db__bind_double(struct shark_stmt *st, int32_t i, double v)
{
	return sqlite3_bind_double((sqlite3_stmt *)st, i, v);
}

int32_t shark_db__bind_null(struct shark_stmt *st, int32_t i)
{
	return sqlite3_bind_null((sqlite3_stmt *)st, i);
}

int32_t shark_db__step(struct shark_stmt *st)
{
	return sqlite3_step((sqlite3_stmt *)st);
}

int32_t shark_db__reset(struct shark_stmt *st)
{
	sqlite3_clear_bindings((sqlite3_stmt *)st);
	return sqlite3_reset((sqlite3_stmt *)st);
}

void shark_db__finalize(struct shark_stmt *st)
{
	sqlite3_finalize((sqlite3_stmt *)st);
}

int32_t shark_db__column_count(struct shark_stmt *st)
{
	return sqlite3_column_count((sqlite3_stmt *)st);
}

int32_t shark_db__column_type(struct shark_stmt *st, int32_t i)
{
	return sqlite3_column_type((sqlite3_stmt *)st, i);
}

const char *shark_db__column_name(struct shark_stmt *st, int32_t i)
{
	return sqlite3_column_name((sqlite3_stmt *)st, i);
}

int64_t shark_db__column_int64(struct shark_stmt *st, int32_t i)
{
	return sqlite3_column_int64((sqlite3_stmt *)st, i);
}

double shark_db__column_double(struct shark_stmt *st, int32_t i)
{
	return sqlite3_column_double((sqlite3_stmt *)st, i);
}

/* text or blob bytes; *len receives their length */
const void *shark_db__column_bytes(struct shark_stmt *st, int32_t i, int32_t *len)
{
	const void *p = sqlite3_column_blob((sqlite3_stmt *)st, i);

	*len = sqlite3_column_bytes((sqlite3_stmt *)st, i);
	return p;
}

int64_t shark_db__last_id(struct shark_db *db)
{
	return sqlite3_last_insert_rowid((sqlite3 *)db);
}

int32_t shark_db__changes(struct shark_db *db)
{
	return sqlite3_changes((sqlite3 *)db);
}
