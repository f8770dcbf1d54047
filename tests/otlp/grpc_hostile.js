// SPDX-License-Identifier: GPL-2.0
// grpc_hostile.js - an HTTP/2 server (node's http2, prior knowledge) that
// answers gRPC calls wrongly, one way per request path's last segment, for
// the tests of shark's gRPC client (core/grpc.c); "random" answers with a
// mutated response each time. It prints "listening PORT".
"use strict";
const http2 = require("http2");

const GRPC = { ":status": 200, "content-type": "application/grpc" };
const prefix = (flag, len) => {
  const b = Buffer.alloc(5);
  b[0] = flag;
  b.writeUInt32BE(len, 1);
  return b;
};

// each: (stream) => void; trailers(stream, t) sends t after the body
function trailers(stream, t, body) {
  stream.respond(GRPC, { waitForTrailers: true });
  stream.on("wantTrailers", () => stream.sendTrailers(t));
  stream.end(body);
}

const modes = {
  ok: (s) => trailers(s, { "grpc-status": "0" }, prefix(0, 0)),
  // the request's message length, as its grpc-message (what arrived whole)
  size: (s, got) => trailers(s, { "grpc-status": "0", "grpc-message": String(got.length >= 5 ? got.readUInt32BE(1) +
    "/" + (got.length - 5) : "short") }, prefix(0, 0)),
  huge: (s) => trailers(s, { "grpc-status": "0" }, Buffer.concat([prefix(0, 0x7fffffff), Buffer.alloc(64)])),
  overbound: (s) => trailers(s, { "grpc-status": "0" }, prefix(0, (1 << 20) + 1)),
  badflag: (s) => trailers(s, { "grpc-status": "0" }, Buffer.concat([prefix(7, 2), Buffer.alloc(2)])),
  compressed: (s) => trailers(s, { "grpc-status": "0" }, Buffer.concat([prefix(1, 2), Buffer.alloc(2)])),
  truncated: (s) => trailers(s, { "grpc-status": "0" }, Buffer.concat([prefix(0, 100), Buffer.alloc(10)])),
  shortprefix: (s) => trailers(s, { "grpc-status": "0" }, Buffer.from([0, 0, 0])),
  twomsgs: (s) => trailers(s, { "grpc-status": "0" }, Buffer.concat([prefix(0, 1), Buffer.alloc(1), prefix(0, 1),
    Buffer.alloc(1)])),
  notrailers: (s) => {
    s.respond(GRPC);
    s.end(prefix(0, 0));
  },
  html: (s) => {
    s.respond({ ":status": 200, "content-type": "text/html" });
    s.end("<html>not gRPC</html>");
  },
  http503: (s) => {
    s.respond({ ":status": 503, "content-type": "text/plain" });
    s.end("overloaded");
  },
  badstatus: (s) => trailers(s, { "grpc-status": "abc" }, prefix(0, 0)),
  bigheaders: (s) => {
    const h = Object.assign({}, GRPC);
    for (let i = 0; i < 40; i++) h["x-junk-" + i] = "j".repeat(1000);
    s.respond(h, { waitForTrailers: true });
    s.on("wantTrailers", () => s.sendTrailers({ "grpc-status": "0" }));
    s.end(prefix(0, 0));
  },
  reset: (s) => s.close(http2.constants.NGHTTP2_INTERNAL_ERROR),
  message: (s) => trailers(s, { "grpc-status": "13", "grpc-message": "disk%20full%3A 100%25" }, undefined),
  silent: () => {},
  // a small mutation fuzzer: a deterministic stream (xorshift) of responses
  // near gRPC's shape, prefixes with random flags and lengths, bodies cut or
  // long, grpc-status of any text, or none
  random: (s) => {
    const r = () => {
      seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
      return (seed >>> 0) / 4294967296;
    };
    const pick = (a) => a[Math.floor(r() * a.length)];
    const n = Math.floor(r() * 40);
    const body = Buffer.alloc(n);
    for (let i = 0; i < n; i++) body[i] = r() < 0.5 ? 0 : Math.floor(r() * 256);
    if (n >= 5 && r() < 0.7) prefix(pick([0, 0, 1, 2, 255]), pick([0, 1, n - 5, n, 1 << 20, (1 << 20) + 1,
      0xffffffff])).copy(body);
    const t = {};
    if (r() < 0.8) t["grpc-status"] = pick(["0", "14", "8", "3", "-1", "99999", "", " 1", "1x"]);
    if (r() < 0.5) t["grpc-message"] = pick(["%", "%zz", "%41%", "a%20b", "x".repeat(400)]);
    if (r() < 0.3) t["grpc-status-details-bin"] = pick(["", "@@@", "CAgSAA", "AAAA", "CAgaKwopdHlwZS5nb29nbGVh"]);
    if (r() < 0.2) s.respond(Object.assign({}, GRPC, t), { endStream: true });
    else if (r() < 0.1) s.close(http2.constants.NGHTTP2_PROTOCOL_ERROR);
    else trailers(s, t, body);
  },
};
let seed = 0x5eed1234;

const server = http2.createServer({ maxHeaderListPairs: 2000 });
server.on("stream", (stream, headers) => {
  stream.on("error", () => {});
  const mode = String(headers[":path"]).split("/").pop();
  // read the request first, as a server would
  const chunks = [];
  stream.on("data", (c) => chunks.push(c));
  stream.on("end", () => (modes[mode] || modes.ok)(stream, Buffer.concat(chunks)));
});
server.on("sessionError", () => {});
server.listen(0, "127.0.0.1", () => console.log("listening " + server.address().port));
process.on("SIGTERM", () => process.exit(0));
