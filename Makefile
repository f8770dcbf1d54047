# SPDX-License-Identifier: GPL-2.0
# shark - build, test, demo, install. `make V=1` shows full commands.

OUT     := .output
PREFIX  ?= /usr/local
CC      ?= gcc
CFLAGS  ?= -O2 -g
LUAJIT  ?= luajit
OBJCOPY ?= objcopy
# the kernel's name of this architecture, for __TARGET_ARCH_ (also in lua/shark/arch.lua)
BPF_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/' -e 's/ppc64le/powerpc/')
LIB_INCLUDES := -I/usr/include/luajit-2.1 -I/usr/include/lua5.1
# clang finds <asm/errno.h> (usdt.bpf.h) in the C library's multiarch headers
BPF_SYS_INCLUDES = -I/usr/include/$(shell $(CC) -dumpmachine)

# make ARCH=arm64: an aarch64 shark in .output/arm64/shark, cross-built with
# Debian's aarch64-linux-gnu toolchain against Debian's arm64 libraries
# unpacked into .output/arm64/sysroot (deps/sysroot: why not multiarch).
# `make ARCH=arm64 test-arm64` runs its C unit and Lua tests under qemu-user.
ifneq ($(filter arm64 aarch64,$(ARCH)),)
ifneq ($(BPF_ARCH),arm64)
OUT      := .output/arm64
SYSROOT  := $(OUT)/sysroot
CROSS    := aarch64-linux-gnu-
CC       := $(CROSS)gcc
CXX      := $(CROSS)g++
OBJCOPY  := $(CROSS)objcopy
BPF_ARCH := arm64
# the headers and static archives of the sysroot before the machine's own
LIB_INCLUDES := -isystem $(SYSROOT)/usr/include/aarch64-linux-gnu -isystem $(SYSROOT)/usr/include -I$(SYSROOT)/usr/include/luajit-2.1 -I$(SYSROOT)/usr/include/lua5.1
LIB_DIRS := -L$(SYSROOT)/usr/lib/aarch64-linux-gnu
SYSROOT_STAMP := $(SYSROOT)/.packages
BPF_SYS_INCLUDES := -I/usr/aarch64-linux-gnu/include
# vmlinux.h is this machine's (x86) BTF: the arm64 structs it lacks come from shark_cross.bpf.h
BPF_CROSS := -DSHARK_FOREIGN_BTF -include bpf/include/shark_cross.bpf.h
# the build runs the shark it builds (tools/prebuild.lua): under qemu-user
RUN      := qemu-aarch64-static
endif
endif

WARN     := -Wall -Wextra -Werror
INCLUDES := -Icore -Ibpf -I$(OUT) -I$(OUT)/proto $(LIB_INCLUDES)
ALL_CFLAGS = $(CFLAGS) $(WARN) -std=gnu11 -D_GNU_SOURCE $(INCLUDES)

# Every library but glibc links statically: the binary runs where none of
# them is installed. Order matters for static archives.
STATIC_LIBS := -l:liblua5.1-luv.a -l:liblua5.1-cjson.a -l:libluajit-5.1.a \
	-l:libuv_a.a -l:libsqlite3.a -l:libhttp_parser.a -l:libnghttp2.a -l:libbpf.a -l:libtraceevent.a -l:libprotobuf-c.a \
	-l:libdw.a -l:libelf.a -l:libzstd.a -l:libsodium.a -l:libz.a -l:libmbedtls.a -l:libmbedx509.a -l:libmbedcrypto.a -l:liblzma.a -l:libbz2.a -l:libstdc++.a
SYS_LIBS    := -lm -ldl -lpthread -lrt
LDFLAGS_SHARK = -Wl,-E -static-libgcc -no-pie $(LIB_DIRS)

ifeq ($(V),1)
Q :=
msg :=
else
Q := @
msg = @printf '  %-8s %s\n' "$(1)" "$(2)";
ifneq ($(findstring s,$(firstword -$(MAKEFLAGS))),)
msg :=
endif
endif

CORE_SRCS := $(filter-out core/main.c,$(wildcard core/*.c))
CORE_CXX_SRCS := $(wildcard core/*.cc)
CORE_OBJS := $(patsubst core/%.c,$(OUT)/core/%.o,$(CORE_SRCS)) \
	$(patsubst core/%.cc,$(OUT)/core/%.o,$(CORE_CXX_SRCS))
MAIN_OBJ  := $(OUT)/core/main.o
# core/proto/*.proto (pprof's profile.proto, OTLP metrics and profiles) compiled by
# protoc-c here, never kept in the tree
PROTOS    := $(wildcard core/proto/*.proto)
PROTO_OBJ := $(patsubst core/proto/%.proto,$(OUT)/proto/%.pb-c.o,$(PROTOS))
EMBED_OBJ0 := $(OUT)/api_table.o $(OUT)/embed.o $(OUT)/layout.o $(OUT)/syscalls.o $(OUT)/files0.o $(PROTO_OBJ)
EMBED_OBJ := $(OUT)/api_table.o $(OUT)/embed.o $(OUT)/layout.o $(OUT)/syscalls.o $(OUT)/files.o $(PROTO_OBJ)
# Headers clang needs for BPF C at run time: libbpf's (from libbpf-dev, at
# build time) and shark's own; written out to the cache on first use.
LIBBPF_HDRS := bpf_helpers.h bpf_helper_defs.h bpf_tracing.h bpf_core_read.h bpf_endian.h usdt.bpf.h
EMBED_FILES = $(foreach h,$(LIBBPF_HDRS),include/bpf/$(h)=/usr/include/bpf/$(h)) \
	include/linux/errno.h=bpf/include/linux/errno.h include/shark.bpf.h=bpf/include/shark.bpf.h \
	include/shark_arch.bpf.h=bpf/include/shark_arch.bpf.h include/shark_cross.bpf.h=bpf/include/shark_cross.bpf.h \
	$(foreach o,$(BPF_OBJS),bpf/$(notdir $(o))=$(o)) \
	$(foreach v,$(VIEWER_FILES),viewer/$(notdir $(v))=$(v))
# The web viewer of shark serve (HTML, JS, CSS), served from inside the binary.
VIEWER_FILES := $(sort $(wildcard tools/viewer/*.html tools/viewer/*.js tools/viewer/*.css))
LUA_SRCS  := $(shell find lua -name '*.lua' | sort)
HEADERS   := $(wildcard core/*.h) $(OUT)/shark_api_impl.h $(SYSROOT_STAMP)

PROG_SRCS := $(wildcard tests/progs/*.c tests/progs/*.cc)
PROGS     := $(patsubst tests/progs/%,$(OUT)/progs/%,$(basename $(PROG_SRCS)))
CXX       ?= g++
CTEST_SRCS := $(wildcard tests/c/*.c)

.PHONY: all test test-build test-under-load demo bench install clean deps deps-test lint check-static progs fuzz asan browser-deps
.DELETE_ON_ERROR:

all: shark

# ./shark is the host's: make ARCH=arm64 leaves it alone
shark: $(OUT)/shark
ifeq ($(CROSS),)
	$(Q)ln -sf $(OUT)/shark shark
endif

# The DWARF goes to shark.debug beside it (gdb finds it by the debuglink):
# bundles copy the binary, and 6 of its 14 MB would be debug info.
$(OUT)/shark: $(MAIN_OBJ) $(CORE_OBJS) $(EMBED_OBJ)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS_SHARK) -o $@ $^ $(STATIC_LIBS) $(SYS_LIBS)
	$(Q)$(OBJCOPY) --only-keep-debug $@ $@.debug && $(OBJCOPY) --strip-debug --add-gnu-debuglink=$@.debug $@

# shark without the samples' BPF objects: it compiles them (tools/prebuild.lua),
# then shark is linked with them inside, so the samples need no clang where
# they run. The cache keeps unchanged sources from compiling again.
$(OUT)/shark0: $(MAIN_OBJ) $(CORE_OBJS) $(EMBED_OBJ0)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(CFLAGS) $(LDFLAGS_SHARK) -o $@ $^ $(STATIC_LIBS) $(SYS_LIBS)

SAMPLE_SRCS := $(wildcard samples/*.lua)
$(OUT)/prebuilt.stamp: $(OUT)/shark0 tools/prebuild.lua $(SAMPLE_SRCS) $(LUA_SRCS)
	$(call msg,PREBUILD,samples)
	$(Q)SHARK_CACHE=$(abspath $(OUT))/cache SHARK_LUA_PATH= ASAN_OPTIONS=detect_leaks=0 \
		$(RUN) $(OUT)/shark0 -q tools/prebuild.lua $(OUT)/prebuilt $(SAMPLE_SRCS)
	$(Q)for o in $(OUT)/prebuilt/*.bpf.o; do $(LLVM_STRIP) -g $$o; done
	$(Q)touch $@

$(OUT)/core/%.o: core/%.c $(HEADERS) | $(OUT)/core
	$(call msg,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# C++ only where the field's library is C++ (toml11); no exceptions cross into C.
$(OUT)/core/%.o: core/%.cc $(HEADERS) | $(OUT)/core
	$(call msg,CXX,$<)
	$(Q)$(CXX) $(CFLAGS) $(WARN) -std=c++17 -D_GNU_SOURCE $(INCLUDES) -c -o $@ $<

$(OUT)/proto/%.pb-c.c $(OUT)/proto/%.pb-c.h: core/proto/%.proto
	$(call msg,PROTOC,$<)
	$(Q)mkdir -p $(OUT)/proto
	$(Q)protoc-c --c_out=$(OUT)/proto -Icore/proto $<

$(OUT)/core/pprof.o: $(OUT)/proto/profile.pb-c.h
$(OUT)/core/otlp.o: $(OUT)/proto/otlp.pb-c.h
$(OUT)/core/grpc.o: $(OUT)/proto/grpc_status.pb-c.h
$(OUT)/core/otlp_profiles.o: $(OUT)/proto/otlp_profiles.pb-c.h $(OUT)/proto/otlp.pb-c.h
$(OUT)/proto/otlp_profiles.pb-c.o: $(OUT)/proto/otlp.pb-c.h

$(OUT)/proto/%.pb-c.o: $(OUT)/proto/%.pb-c.c $(OUT)/proto/%.pb-c.h $(SYSROOT_STAMP)
	$(call msg,CC,$<)
	$(Q)$(CC) $(CFLAGS) -I$(OUT)/proto $(LIB_INCLUDES) -c -o $@ $<

# The FFI surface: shark_api.h (and the structs prebuilt BPF programs share,
# bpf/template.h, bpf/tpring.h, bpf/ustack.h) through the preprocessor, as ffi.cdef text.
$(OUT)/shark_api.cdef: core/shark_api.h bpf/template.h bpf/ustack.h bpf/tpring.h $(SYSROOT_STAMP) | $(OUT)
	$(call msg,CDEF,$@)
	$(Q)cat $(filter %.h,$^) | $(CC) -E -P -DSHARK_CDEF -o $@ -

# Each entry point is declared once, as a member of struct shark_api with
# SHARK_IMPL(fn): the table and the prototypes of the fns are generated.
$(OUT)/shark_api_impl.h: tools/api.lua core/shark_api.h | $(OUT)
	$(call msg,GEN,$@)
	$(Q)$(LUAJIT) tools/api.lua protos core/shark_api.h $@

$(OUT)/api_table.c: tools/api.lua core/shark_api.h | $(OUT)
	$(call msg,GEN,$@)
	$(Q)$(LUAJIT) tools/api.lua table core/shark_api.h $@

# ------------------------------------------------------------ BPF programs

# Prebuilt CO-RE programs, compiled here and embedded: the templates need no
# compiler on the machine that runs them. vmlinux.h is made here, never kept.
BPF_SRCS := $(wildcard bpf/*.bpf.c)
BPF_OBJS := $(patsubst bpf/%.bpf.c,$(OUT)/bpf/%.bpf.o,$(BPF_SRCS))
CLANG    ?= clang
BPFTOOL  ?= bpftool
LLVM_STRIP ?= llvm-strip

$(OUT)/bpf/vmlinux.h: | $(OUT)/bpf
	$(call msg,GEN,$@)
	$(Q)$(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c >$@

$(OUT)/bpf/%.bpf.o: bpf/%.bpf.c bpf/template.h bpf/template.bpf.h bpf/ustack.h bpf/tpring.h bpf/include/shark.bpf.h \
		bpf/include/shark_arch.bpf.h bpf/include/shark_cross.bpf.h $(OUT)/bpf/vmlinux.h | $(OUT)/bpf
	$(call msg,BPF,$<)
	$(Q)$(CLANG) -g -O2 -target bpf -mcpu=v3 -D__TARGET_ARCH_$(BPF_ARCH) $(BPF_CROSS) -Wall -Werror -I$(OUT)/bpf -Ibpf \
		$(BPF_SYS_INCLUDES) -c $< -o $@
	$(Q)$(LLVM_STRIP) -g $@	# DWARF: 90% of the object; .BTF and .BTF.ext stay

$(OUT)/bpf/latency_task.bpf.o: bpf/latency.bpf.c

$(OUT)/bpf:
	$(Q)mkdir -p $@

# The names of the Lua files, rewritten only when one is added or removed: a
# deleted module must leave the embedded set too.
$(OUT)/lua.list: FORCE | $(OUT)
	$(Q)echo $(LUA_SRCS) | cmp -s - $@ || echo $(LUA_SRCS) >$@

.PHONY: FORCE
FORCE:

$(OUT)/embed.c: tools/embed.lua $(OUT)/shark_api.cdef $(LUA_SRCS) $(OUT)/lua.list | $(OUT)
	$(call msg,EMBED,$@)
	$(Q)$(LUAJIT) tools/embed.lua $@ $(OUT)/shark_api.cdef lua $(LUA_SRCS)

$(OUT)/layout.c: tools/layout.lua $(OUT)/shark_api.cdef | $(OUT)
	$(call msg,LAYOUT,$@)
	$(Q)$(LUAJIT) tools/layout.lua $(OUT)/shark_api.cdef $@

$(OUT)/files0.c: tools/embed_files.lua bpf/include/shark.bpf.h bpf/include/shark_arch.bpf.h bpf/include/shark_cross.bpf.h bpf/include/linux/errno.h \
		$(BPF_OBJS) $(VIEWER_FILES) | $(OUT)
	$(call msg,EMBED,$@)
	$(Q)$(LUAJIT) tools/embed_files.lua $@ $(EMBED_FILES)

$(OUT)/files.c: tools/embed_files.lua bpf/include/shark.bpf.h bpf/include/shark_arch.bpf.h bpf/include/shark_cross.bpf.h bpf/include/linux/errno.h \
		$(BPF_OBJS) $(VIEWER_FILES) $(OUT)/prebuilt.stamp | $(OUT)
	$(call msg,EMBED,$@)
	$(Q)$(LUAJIT) tools/embed_files.lua $@ $(EMBED_FILES) \
		$$(for o in $(OUT)/prebuilt/*.bpf.o; do n=$${o##*/}; echo "bpf/src/$${n%.bpf.o}=$$o"; done)

# Syscall numbers of this architecture, from the C library's headers: lets
# perf.on("syscalls:*") ride on the two raw_syscalls tracepoints.
$(OUT)/syscalls.c: $(SYSROOT_STAMP) | $(OUT)
	$(call msg,GEN,$@)
	$(Q){ echo '/* generated from <sys/syscall.h>: do not edit */'; \
	  echo '#include "shark.h"'; \
	  echo 'const struct shark_syscall shark_syscalls[] = {'; \
	  echo '#include <sys/syscall.h>' | $(CC) -E -dM - | \
	    awk '/^#define __NR_[a-z0-9_]+ [0-9]+$$/ { printf "\t{ \"%s\", %s },\n", substr($$2, 6), $$3 }'; \
	  echo '	{ NULL, -1 },'; echo '};'; } >$@

$(OUT)/%.o: $(OUT)/%.c $(HEADERS)
	$(call msg,CC,$<)
	$(Q)$(CC) $(ALL_CFLAGS) -c -o $@ $<

# the cross toolchain and qemu-user (deps/install: idempotent), then the arm64 libraries
$(SYSROOT_STAMP): deps/sysroot deps/install deps/packages.txt
	$(call msg,SYSROOT,$(SYSROOT))
	$(Q)deps/install arm64 && deps/sysroot $(SYSROOT) && touch $@

$(OUT) $(OUT)/core $(OUT)/progs:
	$(Q)mkdir -p $@

# ----------------------------------------------------------------- tests

# Workloads with exactly known behaviour; frame pointers for stack tests.
$(OUT)/progs/%: tests/progs/%.c | $(OUT)/progs
	$(call msg,CC,$<)
	$(Q)$(CC) -O1 -g -fno-omit-frame-pointer -fno-inline $(WARN) -o $@ $< -lpthread

# Built as Debian builds packages: -O2, no frame pointers, no -g (.eh_frame
# only); its library beside it, found through the rpath.
DEBIAN_CFLAGS := -O2 -fomit-frame-pointer -fstack-protector-strong -D_FORTIFY_SOURCE=2 $(WARN)

$(OUT)/progs/libdwlib.so: tests/progs/lib/dwlib.c | $(OUT)/progs
	$(call msg,CC,$<)
	$(Q)$(CC) $(DEBIAN_CFLAGS) -fPIC -shared -o $@ $<

$(OUT)/progs/dwchain: tests/progs/dwchain.c $(OUT)/progs/libdwlib.so | $(OUT)/progs
	$(call msg,CC,$<)
	$(Q)$(CC) $(DEBIAN_CFLAGS) -o $@ $< -L$(OUT)/progs -ldwlib -Wl,-rpath,'$$ORIGIN'

$(OUT)/progs/%: tests/progs/%.cc | $(OUT)/progs
	$(call msg,CXX,$<)
	$(Q)$(CXX) -O1 -g -fno-omit-frame-pointer -fno-inline $(WARN) -o $@ $<

$(OUT)/unit: $(CTEST_SRCS) $(CORE_OBJS) $(EMBED_OBJ0) $(HEADERS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS_SHARK) -Itests/c -o $@ $(CTEST_SRCS) $(CORE_OBJS) $(EMBED_OBJ0) \
		$(STATIC_LIBS) $(SYS_LIBS)

# ------------------------------------------------------------- fuzz, asan

# libFuzzer targets (tests/fuzz/fuzz_*.c) over the core built with clang and
# ASan/UBSan; `make fuzz` runs each for FUZZ_SECONDS, then the Lua mutation
# loops (tests/fuzz/*.lua) inside ./shark.
FUZZ_CC      ?= clang-14
FUZZ_SECONDS ?= 10
FUZZ_OUT     := $(OUT)/fuzz
FUZZ_CFLAGS   = -g -O1 -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-fsanitize=fuzzer-no-link -std=gnu11 -D_GNU_SOURCE $(INCLUDES)
FUZZ_CXX     ?= clang++-14
FUZZ_OBJS    := $(patsubst core/%.c,$(FUZZ_OUT)/core/%.o,$(CORE_SRCS)) \
	$(patsubst core/%.cc,$(FUZZ_OUT)/core/%.o,$(CORE_CXX_SRCS)) $(patsubst $(OUT)/%,$(FUZZ_OUT)/%,$(EMBED_OBJ0))
FUZZ_TARGETS := $(patsubst tests/fuzz/%.c,$(FUZZ_OUT)/%,$(wildcard tests/fuzz/fuzz_*.c))

$(FUZZ_OUT)/core/%.o: core/%.c $(HEADERS) | $(FUZZ_OUT)/core
	$(call msg,FUZZCC,$<)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

$(FUZZ_OUT)/%.o: $(OUT)/%.c $(HEADERS) | $(FUZZ_OUT)/core
	$(call msg,FUZZCC,$<)
	$(Q)mkdir -p $(dir $@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<

# C++ (toml11) gets ASan only: UBSan's C++ checks need its C++ runtime
$(FUZZ_OUT)/core/%.o: core/%.cc $(HEADERS) | $(FUZZ_OUT)/core
	$(call msg,FUZZCXX,$<)
	$(Q)$(FUZZ_CXX) -g -O1 -fsanitize=address -fsanitize=fuzzer-no-link -std=c++17 -D_GNU_SOURCE $(INCLUDES) -c -o $@ $<

$(FUZZ_OUT)/core/pprof.o: $(OUT)/proto/profile.pb-c.h
$(FUZZ_OUT)/core/otlp.o: $(OUT)/proto/otlp.pb-c.h
$(FUZZ_OUT)/core/grpc.o: $(OUT)/proto/grpc_status.pb-c.h
$(FUZZ_OUT)/core/otlp_profiles.o: $(OUT)/proto/otlp_profiles.pb-c.h $(OUT)/proto/otlp.pb-c.h

$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_OBJS)
	$(call msg,FUZZLD,$@)
	$(Q)$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -Wl,-E -o $@ $< $(FUZZ_OBJS) $(STATIC_LIBS) $(SYS_LIBS)

$(FUZZ_OUT)/core:
	$(Q)mkdir -p $@

.SECONDARY: $(FUZZ_OBJS)

fuzz: shark $(FUZZ_TARGETS)
	$(Q)tests/fuzz/run $(FUZZ_SECONDS) $(FUZZ_TARGETS)

# The C unit, Lua and e2e suites on a shark built with ASan and UBSan (in
# $(OUT)/asan; the runtimes linked in, so its bundles run in the bare root).
# It closes the Lua state at exit, so any block left is a leak, but for the
# few tests/asan/lsan.supp names.
ASAN_OUT    := $(OUT)/asan
ASAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=undefined \
	-static-libasan -static-libubsan

asan:
	$(Q)$(MAKE) -s --no-print-directory OUT=$(ASAN_OUT) CFLAGS="$(ASAN_CFLAGS)" \
		$(ASAN_OUT)/shark $(ASAN_OUT)/unit $(patsubst $(OUT)/%,$(ASAN_OUT)/%,$(PROGS))
	$(Q)SHARK=$(CURDIR)/$(ASAN_OUT)/shark OUT=$(CURDIR)/$(ASAN_OUT) \
		ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:detect_odr_violation=0 \
		LSAN_OPTIONS=suppressions=$(CURDIR)/tests/asan/lsan.supp:print_suppressions=0 \
		UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 tests/run $(or $(ASAN_SUITES),lint unit lua e2e)

# The two unwinders on one copied stack (tests/bench/unwind.sh); libunwind only here.
$(OUT)/bench_unwind: tests/bench/unwind_libs.c $(CORE_OBJS) $(EMBED_OBJ) $(HEADERS)
	$(call msg,LINK,$@)
	$(Q)$(CC) $(ALL_CFLAGS) $(LDFLAGS_SHARK) -o $@ $< $(CORE_OBJS) $(EMBED_OBJ) \
		-l:libunwind-x86_64.a -l:libunwind.a $(STATIC_LIBS) $(SYS_LIBS)

deps:
	$(Q)deps/install build

deps-test:
	$(Q)deps/install build test arm64

progs: $(PROGS)

# npm packages the tests drive real peers with, each folder from its
# committed lock file (npm ci) into its node_modules (ignored):
# tests/browser: playwright-core for Debian's chromium (the viewer);
# tests/otlp: protobufjs and OpenTelemetry's generated protos (the agent).
NODE_DIRS   := tests/browser tests/otlp
NODE_STAMPS := $(addsuffix /node_modules/.package-lock.json,$(NODE_DIRS))
tests/%/node_modules/.package-lock.json: tests/%/package.json tests/%/package-lock.json
	$(call msg,NPM,tests/$*)
	$(Q)cd tests/$* && npm ci --no-audit --no-fund --ignore-scripts --loglevel=error >/dev/null
	$(Q)touch $@

browser-deps: $(NODE_STAMPS)

# Everything tests/run needs, built on every CPU unless make was given -j (its
# jobserver then): shark, the unit tests, the workloads, the node packages,
# the ASan decoder that e2e/fuzz_pprof.sh runs, and the arm64 suite's build
# (.output/arm64: shark and unit only)
test-build: deps-test
	$(Q)case " $$MAKEFLAGS" in *" -j"*) j= ;; *) j=-j$$(nproc) ;; esac; \
		$(MAKE) --no-print-directory $$j shark $(OUT)/unit $(PROGS) browser-deps \
			$(FUZZ_OUT)/fuzz_pprof_decode && \
		$(MAKE) --no-print-directory $$j ARCH=arm64 shark $(OUT)/arm64/unit

test: test-build
	$(Q)tests/run

# The whole suite while a CPU hog runs on every CPU: tests must hold on a busy machine.
test-under-load: test-build
	$(Q)tests/under-load

lint:
	$(Q)luacheck -q lua samples tests/lua tests/bundle tests/fuzz tools

check-static: shark
	$(Q)! ldd $(OUT)/shark | grep -v -E 'linux-vdso|libc\.so|libm\.so|libpthread|libdl|librt|ld-linux' | grep .

demo: deps
	$(Q)$(MAKE) --no-print-directory shark
	$(Q)./shark samples/demo.lua

bench: deps
	$(Q)deps/install bench
	$(Q)$(MAKE) --no-print-directory shark $(PROGS)
	$(Q)tests/bench/run

install: shark
	$(call msg,INSTALL,$(DESTDIR)$(PREFIX)/bin/shark)
	$(Q)install -D -m 0755 $(OUT)/shark $(DESTDIR)$(PREFIX)/bin/shark
	$(Q)mkdir -p $(DESTDIR)$(PREFIX)/share/shark/samples
	$(Q)install -m 0644 samples/*.lua $(DESTDIR)$(PREFIX)/share/shark/samples/

clean:
	$(call msg,CLEAN,$(OUT))
	$(Q)rm -rf $(OUT) shark

# The journal reader under ASan/UBSan, fed mutated journals (tests/fuzz/journal.sh).
$(OUT)/fuzz_journal: tests/fuzz/journal_fuzz.c core/journal.c core/jreader.c $(HEADERS) | $(OUT)
	$(call msg,LINK,$@)
	$(Q)$(CC) -O1 -g -fsanitize=address,undefined -fno-sanitize-recover=all $(WARN) -std=gnu11 -D_GNU_SOURCE \
		-Icore -o $@ tests/fuzz/journal_fuzz.c core/journal.c core/jreader.c -l:libzstd.a -l:libsodium.a -lz -lpthread
