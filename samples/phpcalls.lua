-- SPDX-License-Identifier: GPL-2.0
-- phpcalls.lua - PHP function calls (class::function) counted, and timed with -L, in the kernel from
-- PHP's USDT probes (php:function__entry/return), with a line per request start and end, as BCC's ucalls.
-- Run: USE_ZEND_DTRACE=1 shark -c "php app.php" samples/phpcalls.lua -L     shark samples/phpcalls.lua -p PID
local ucalls = require "ucalls"
local o = shark.getopt(ucalls.options{
  about = "Count PHP function calls (class::function) from PHP's USDT probes; with -L, total and average\n" ..
    "time per function; request start/end lines. Debian's /usr/bin/php8.2 carries the probes (readelf -n).\n" ..
    "PHP fires them only when USE_ZEND_DTRACE=1 is in the traced process's environment.",
  examples = { "USE_ZEND_DTRACE=1 shark -c 'php8.2 app.php' samples/phpcalls.lua -L",
    "shark samples/phpcalls.lua -p 1234 -T 10 5    # php-fpm started with USE_ZEND_DTRACE=1, every 5 s" },
  binary = "the PHP binary or library with the probes (default: /usr/bin/php8.2, or -p's)",
})

local req = bpf.load([[
struct php_req { u32 pid, start; char file[128], uri[64], method[16]; };
SHARK_RINGBUF(requests, struct php_req, 1 << 16);

static __always_inline int request(const char *file, const char *uri, const char *method, u32 start)
{
  struct php_req r = { bpf_get_current_pid_tgid() >> 32, start };
  bpf_probe_read_user_str(r.file, sizeof(r.file), file);
  bpf_probe_read_user_str(r.uri, sizeof(r.uri), uri);
  bpf_probe_read_user_str(r.method, sizeof(r.method), method);
  shark_ringbuf_output(requests, &r, sizeof(r));
  return 0;
}
SEC("usdt") int BPF_USDT(req_start, const char *f, const char *u, const char *m) { return request(f, u, m, 1); }
SEC("usdt") int BPF_USDT(req_end, const char *f, const char *u, const char *m) { return request(f, u, m, 0); }
]], { attach = false })
local bin = ucalls.binary(o, "/usr/bin/php8.2")
ucalls.attach(req, { req_start = "request__startup", req_end = "request__shutdown" }, "php", bin, o.pid)
bpf.on_ring("requests", function(r)
  print(("%s %s pid %d %s %s %s"):format(os.date("%H:%M:%S"), r.start == 1 and "request start" or "request end  ",
    r.pid, ffi.string(r.method), ffi.string(r.uri), ffi.string(r.file)))
end)

-- php:function__entry(function, file, line, class)
ucalls.trace(o, { provider = "php", binary = bin, cls = 3, func = 0, sep = "::",
  hint = "phpcalls: no PHP function call seen: PHP fires its function probes only when USE_ZEND_DTRACE=1 " ..
    "is in its environment (USE_ZEND_DTRACE=1 php ..., or in php-fpm's)" })
