// SPDX-License-Identifier: GPL-2.0
// grpc_receiver.js OUT [options] - an OTLP/gRPC receiver for the agent's
// tests: a real gRPC server (@grpc/grpc-js) with MetricsService/Export and
// ProfilesService/Export (v1development) registered. Requests are decoded
// by the server's deserializer: metrics with the message types generated
// from OpenTelemetry's official .proto files (@opentelemetry/otlp-transformer),
// profiles with profiles_v1_5.js (strict, opentelemetry-proto v1.5.0); so
// the bytes shark's protobuf-c encoder sent are checked independently. A
// request that does not decode fails with INTERNAL and is written to
// OUT.errors. Each accepted request is one line of OUT (or OUT.profiles).
// Options:
//   --fail N CODE        answer the first N Exports with status CODE (OUT.refused counts them)
//   --message TEXT       the grpc-message of those answers
//   --retry-info MS      with them, grpc-status-details-bin holding a RetryInfo of MS
//   --tls CERT KEY       serve TLS (ALPN h2) with that certificate chain and key
// It prints "listening PORT" once bound to 127.0.0.1.
"use strict";
const fs = require("fs");
const grpc = require("@grpc/grpc-js");
const protobuf = require("protobufjs");
const root = require("@opentelemetry/otlp-transformer/build/src/generated/root");
const profiles = require("./profiles_v1_5.js");

const Req = root.opentelemetry.proto.collector.metrics.v1.ExportMetricsServiceRequest;
const out = process.argv[2];
const opt = { fail: 0, code: 14, message: "", retryMs: -1, tls: null };
for (let i = 3; i < process.argv.length; i++) {
  const a = process.argv[i];
  if (a === "--fail") {
    opt.fail = Number(process.argv[++i]);
    opt.code = Number(process.argv[++i]);
  } else if (a === "--message") opt.message = process.argv[++i];
  else if (a === "--retry-info") opt.retryMs = Number(process.argv[++i]);
  else if (a === "--tls") opt.tls = [process.argv[++i], process.argv[++i]];
  else throw new Error("unknown option " + a);
}

// google.rpc.Status with a google.rpc.RetryInfo detail, for RESOURCE_EXHAUSTED
const rpc = protobuf.Root.fromJSON({
  nested: {
    Any: { fields: { type_url: { type: "string", id: 1 }, value: { type: "bytes", id: 2 } } },
    Duration: { fields: { seconds: { type: "int64", id: 1 }, nanos: { type: "int32", id: 2 } } },
    RetryInfo: { fields: { retry_delay: { type: "Duration", id: 1 } } },
    Status: {
      fields: {
        code: { type: "int32", id: 1 }, message: { type: "string", id: 2 },
        details: { rule: "repeated", type: "Any", id: 3 },
      },
    },
  },
});

function statusDetails(code, ms) {
  const ri = rpc.lookupType("RetryInfo");
  const value = ri.encode({ retry_delay: { seconds: Math.floor(ms / 1000), nanos: (ms % 1000) * 1e6 } }).finish();
  const st = rpc.lookupType("Status");
  return Buffer.from(st.encode({ code, message: opt.message,
    details: [{ type_url: "type.googleapis.com/google.rpc.RetryInfo", value }] }).finish());
}

let refused = 0;
function handler(file, toJSON) {
  return (call, callback) => {
    if (opt.fail > 0) {
      opt.fail--;
      refused++;
      fs.writeFileSync(out + ".refused", String(refused));
      const md = new grpc.Metadata();
      if (opt.retryMs >= 0) md.set("grpc-status-details-bin", statusDetails(opt.code, opt.retryMs));
      callback({ code: opt.code, details: opt.message, metadata: md });
      return;
    }
    fs.appendFileSync(file, JSON.stringify({ metadata: call.metadata.getMap(), request: toJSON(call.request) }) + "\n");
    callback(null, {});
  };
}

// The deserializer decodes strictly; what it cannot read is recorded (the
// server then answers INTERNAL).
function decoder(what, fn) {
  return (buf) => {
    try {
      return fn(buf);
    } catch (e) {
      fs.appendFileSync(out + ".errors", what + ": " + String(e) + "\n");
      throw e;
    }
  };
}

const empty = () => Buffer.alloc(0);	// an empty Export*ServiceResponse: no partial_success
const server = new grpc.Server();
server.register("/opentelemetry.proto.collector.metrics.v1.MetricsService/Export",
  handler(out, (m) => Req.toObject(m, { longs: String, enums: Number, defaults: false })),
  empty, decoder("metrics", (b) => Req.decode(b)), "unary");
server.register("/opentelemetry.proto.collector.profiles.v1development.ProfilesService/Export",
  handler(out + ".profiles", (m) => m), empty, decoder("profiles", (b) => profiles.decode(b)), "unary");

const creds = opt.tls
  ? grpc.ServerCredentials.createSsl(null, [{ cert_chain: fs.readFileSync(opt.tls[0]),
    private_key: fs.readFileSync(opt.tls[1]) }], false)
  : grpc.ServerCredentials.createInsecure();
server.bindAsync("127.0.0.1:0", creds, (err, port) => {
  if (err) throw err;
  console.log("listening " + port);
});
process.on("SIGTERM", () => server.forceShutdown());
