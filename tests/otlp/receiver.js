// SPDX-License-Identifier: GPL-2.0
// receiver.js OUT [FAILS] - an OTLP/HTTP receiver for the agent's tests.
// It decodes each POST /v1/metrics with protobufjs and the message types
// generated from OpenTelemetry's official .proto files (shipped in
// @opentelemetry/otlp-transformer 0.52), an encoder independent of shark's;
// and each POST /v1development/profiles (the collector's path for the
// development profiles signal) with profiles_v1_5.js, a strict decoder of
// opentelemetry-proto v1.5.0 (see there why not the official files).
// The first FAILS requests get 503 with Retry-After: 1 (a collector outage).
// Each accepted request becomes one line of OUT (metrics) or OUT.profiles:
// the decoded request as JSON.
"use strict";
const http = require("http");
const fs = require("fs");
const root = require("@opentelemetry/otlp-transformer/build/src/generated/root");
const profiles = require("./profiles_v1_5.js");

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
    const isProfiles = req.url === "/v1development/profiles";
    if (req.method !== "POST" || (req.url !== "/v1/metrics" && !isProfiles)) {
      fs.appendFileSync(out + ".404", req.method + " " + req.url + "\n");
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
    if (isProfiles) {
      let obj;
      try {
        const type = req.headers["content-type"] || "";
        if (!type.startsWith("application/x-protobuf")) throw new Error("unexpected content type " + type);
        obj = profiles.decode(Buffer.concat(chunks));
      } catch (e) {
        fs.appendFileSync(out + ".errors", "profiles: " + String(e) + "\n");
        res.writeHead(400).end(String(e));
        return;
      }
      fs.appendFileSync(out + ".profiles", JSON.stringify({ type: req.headers["content-type"], request: obj }) + "\n");
      // an empty ExportProfilesServiceResponse: no partial_success
      res.writeHead(200, { "Content-Type": "application/x-protobuf" }).end();
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
