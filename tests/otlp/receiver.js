// SPDX-License-Identifier: GPL-2.0
// receiver.js OUT [FAILS] - an OTLP/HTTP metrics receiver for the agent's
// tests. It decodes each POST /v1/metrics with protobufjs and the message
// types generated from OpenTelemetry's official .proto files (shipped in
// @opentelemetry/otlp-transformer 0.52), an encoder independent of shark's.
// The first FAILS requests get 503 with Retry-After: 1 (a collector outage).
// Each accepted request becomes one line of OUT: the decoded request as JSON.
"use strict";
const http = require("http");
const fs = require("fs");
const root = require("@opentelemetry/otlp-transformer/build/src/generated/root");

const Req = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
const Resp = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceResponse;
const out = process.argv[2];
let fails = Number(process.argv[3] || 0);
let refused = 0;

function decode(type, body) {
  if (type.startsWith("application/json")) {
    // the protobuf JSON mapping: 64-bit integers are decimal strings, which
    // fromObject reads; the message it makes must then verify
    const msg = Req.fromObject(JSON.parse(body.toString("utf8")));
    const err = Req.verify(msg);
    if (err) throw new Error("OTLP/JSON does not verify: " + err);
    return msg;
  }
  if (type.startsWith("application/x-protobuf")) return Req.decode(body);
  throw new Error("unexpected content type " + type);
}

const server = http.createServer((req, res) => {
  const chunks = [];
  req.on("data", (c) => chunks.push(c));
  req.on("end", () => {
    if (req.method !== "POST" || req.url !== "/v1/metrics") {
      res.writeHead(404).end();
      return;
    }
    if (fails > 0) {
      fails--;
      refused++;
      fs.writeFileSync(out + ".refused", String(refused));
      res.writeHead(503, { "Retry-After": "1" }).end("collector unavailable");
      return;
    }
    let msg;
    try {
      msg = decode(req.headers["content-type"] || "", Buffer.concat(chunks));
    } catch (e) {
      fs.appendFileSync(out + ".errors", String(e) + "\n");
      res.writeHead(400).end(String(e));
      return;
    }
    const obj = Req.toObject(msg, { longs: String, enums: Number, defaults: false });
    fs.appendFileSync(out, JSON.stringify({ type: req.headers["content-type"], request: obj }) + "\n");
    res.writeHead(200, { "Content-Type": "application/x-protobuf" });
    res.end(Buffer.from(Resp.encode(Resp.create({})).finish()));
  });
});
server.listen(0, "127.0.0.1", () => {
  console.log("listening " + server.address().port);
});
