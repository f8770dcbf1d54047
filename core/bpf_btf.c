// SPDX-License-Identifier: GPL-2.0
/* bpf_btf.c - BTF of a BPF object for Lua (types, C declarations for ffi.cdef, section
 * variables) and the kernel's BTF as vmlinux.h. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include "shark.h"
#include "bpf_object.h"

static const struct btf *obj_btf(struct shark_bpf *o)
{
	return o ? bpf_object__btf(o->obj) : NULL;
}

/* What a BTF type is, through typedefs and qualifiers. */
int32_t shark_bpf__btf_type(struct shark_bpf *o, uint32_t id, struct shark_btf_type *out)
{
	const struct btf *btf = obj_btf(o);
	const struct btf_type *t;

	memset(out, 0, sizeof(*out));
	if (!btf)
		return -ENOENT;
	id = (uint32_t)btf__resolve_type(btf, id);
	t = btf__type_by_id(btf, id);
	if (!t)
		return -ENOENT;
	out->id = id;
	out->kind = btf_kind(t);
	out->name = btf__name_by_offset(btf, t->name_off);
	switch (out->kind) {
	case BTF_KIND_INT:
		out->size = t->size;
		out->is_signed = !!(btf_int_encoding(t) & BTF_INT_SIGNED);
		out->is_char = !!(btf_int_encoding(t) & BTF_INT_CHAR) || (t->size == 1 && out->name &&
									     strstr(out->name, "char"));
		break;
	case BTF_KIND_ENUM:
	case BTF_KIND_ENUM64:
		out->size = t->size;
		out->is_signed = btf_kflag(t);
		break;
	case BTF_KIND_ARRAY: {
		const struct btf_array *a = btf_array(t);
		struct shark_btf_type elem;

		out->elem = a->type;
		out->nelem = a->nelems;
		out->size = (uint32_t)btf__resolve_size(btf, id);
		if (!shark_bpf__btf_type(o, a->type, &elem))
			out->is_char = elem.is_char;
		out->elem = elem.id;
		break;
	}
	case BTF_KIND_PTR:
		out->size = sizeof(void *);
		out->elem = t->type;	/* the pointee */
		break;
	default:
		out->size = (uint32_t)btf__resolve_size(btf, id);
		break;
	}
	return 0;
}

struct dump_buf {
	char *buf;
	size_t len, cap;
};

static void dump_printf(void *ctx, const char *fmt, va_list args)
{
	struct dump_buf *d = ctx;
	va_list copy;
	int n;

	va_copy(copy, args);
	n = vsnprintf(d->buf ? d->buf + d->len : NULL, d->buf ? d->cap - d->len : 0, fmt, copy);
	va_end(copy);
	if (n < 0)
		return;
	if (d->len + (size_t)n + 1 > d->cap) {
		size_t cap = (d->cap + (size_t)n + 1) * 2;
		char *nb = realloc(d->buf, cap);

		if (!nb)
			return;
		d->buf = nb;
		d->cap = cap;
		vsnprintf(d->buf + d->len, d->cap - d->len, fmt, args);
	}
	d->len += (size_t)n;
}

static void dump_printf_str(struct dump_buf *d, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	dump_printf(d, fmt, ap);
	va_end(ap);
}

/*
 * C declarations of BTF type @id and everything it needs (libbpf's
 * btf_dump), for ffi.cdef. Return: a malloc'd string (free with
 * shark_free) or NULL with errno set.
 */
char *shark_bpf__btf_c(struct shark_bpf *o, uint32_t id)
{
	const struct btf *btf = obj_btf(o);
	struct dump_buf d = { 0 };
	struct btf_dump *dump;
	int err;

	if (!btf) {
		errno = ENOENT;
		return NULL;
	}
	dump = btf_dump__new(btf, dump_printf, &d, NULL);
	err = (int)libbpf_get_error(dump);
	if (err) {
		errno = -err;
		return NULL;
	}
	/* what the type needs, then "typedef <the type> shark_t<id>;": one name
	 * for FFI whether the type is named, anonymous, an array or a scalar */
	err = btf_dump__dump_type(dump, id);
	if (!err) {
		char name[32];
		LIBBPF_OPTS(btf_dump_emit_type_decl_opts, decl, .field_name = name);

		snprintf(name, sizeof(name), "shark_t%u", id);
		dump_printf_str(&d, "typedef ");
		err = btf_dump__emit_type_decl(dump, id, &decl);
		dump_printf_str(&d, ";\n");
	}
	btf_dump__free(dump);
	if (err || !d.buf) {
		free(d.buf);
		errno = err ? -err : ENOENT;
		return NULL;
	}
	return d.buf;
}

int32_t shark_bpf__btf_find(struct shark_bpf *o, const char *name, uint32_t kind)
{
	const struct btf *btf = obj_btf(o);
	int32_t id;

	if (!btf)
		return 0;
	id = btf__find_by_name_kind(btf, name, kind);
	return id > 0 ? id : 0;
}

/*
 * The variables of a data section (".bss", ".data", ".rodata"): call back
 * with each one's name, offset and BTF type. Return: the count or -errno.
 */
int32_t shark_bpf__section_vars(struct shark_bpf *o, const char *section, struct shark_btf_var *vars, int32_t max)
{
	const struct btf *btf = obj_btf(o);
	int n = 0;

	if (!btf)
		return -ENOENT;
	for (uint32_t id = 1; id < btf__type_cnt(btf); id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const struct btf_var_secinfo *v;
		const char *name;

		if (!btf_is_datasec(t))
			continue;
		name = btf__name_by_offset(btf, t->name_off);
		if (!name || strcmp(name, section))
			continue;
		v = btf_var_secinfos(t);
		for (int k = 0; k < btf_vlen(t); k++, v++) {
			const struct btf_type *var = btf__type_by_id(btf, v->type);

			if (n < max) {
				vars[n].name = btf__name_by_offset(btf, var->name_off);
				vars[n].offset = v->offset;
				vars[n].size = v->size;
				vars[n].type_id = var->type;
			}
			n++;
		}
		return n;
	}
	return 0;
}

/* ------------------------------------------------------------ vmlinux.h */

/* Write the kernel's types as C (vmlinux.h) to @path, from its BTF. */
int32_t shark_bpf__write_vmlinux_h(const char *path)
{
	struct btf *btf = btf__load_vmlinux_btf();
	struct dump_buf d = { 0 };
	struct btf_dump *dump;
	FILE *f;
	int err;

	err = (int)libbpf_get_error(btf);
	if (err)
		return err;
	dump = btf_dump__new(btf, dump_printf, &d, NULL);
	err = (int)libbpf_get_error(dump);
	if (err) {
		btf__free(btf);
		return err;
	}
	for (uint32_t id = 1; id < btf__type_cnt(btf) && !err; id++)
		err = btf_dump__dump_type(dump, id);
	btf_dump__free(dump);
	btf__free(btf);
	if (err) {
		free(d.buf);
		return err;
	}
	f = fopen(path, "we");
	if (!f) {
		err = -errno;
		free(d.buf);
		return err;
	}
	fputs("#ifndef __VMLINUX_H__\n#define __VMLINUX_H__\n\n"
	      "#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n"
	      "#pragma clang attribute push (__attribute__((preserve_access_index)), apply_to = record)\n"
	      "#endif\n\n", f);
	fwrite(d.buf, 1, d.len, f);
	fputs("\n#ifndef BPF_NO_PRESERVE_ACCESS_INDEX\n#pragma clang attribute pop\n#endif\n\n"
	      "#endif /* __VMLINUX_H__ */\n", f);
	free(d.buf);
	if (fclose(f))
		return -errno;
	return 0;
}
