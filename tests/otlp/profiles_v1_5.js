// SPDX-License-Identifier: GPL-2.0
// profiles_v1_5.js - a strict decoder of OTLP profiles requests at
// opentelemetry-proto v1.5.0, for the agent's tests.
//
// No npm package ships the profiles protos (checked: @opentelemetry/
// otlp-transformer up to 0.301.1 generates logs, metrics and traces only;
// @parca/client ships the older v1experimental ones), so this is the
// strongest honest alternative: the wire is read by protobufjs's Reader
// (npm), the common messages (Resource, InstrumentationScope, KeyValue)
// are decoded by the types generated from OpenTelemetry's own .proto files
// (@opentelemetry/otlp-transformer), and the profiles messages by the table
// below, typed here field by field from v1.5.0's definitions
// (opentelemetry/proto/profiles/v1development/profiles.proto and
// collector/profiles/v1development/profiles_service.proto at tag v1.5.0, as
// generated into go.opentelemetry.io/proto/otlp v1.5.0), independently of
// core/proto/otlp_profiles.proto. It refuses what a v1.5.0 reader would
// misread: a field number v1.5.0 does not have, a wire type that is not
// the field's, a string that is not UTF-8 (Go's protobuf, the collector's,
// refuses those).
"use strict";
const protobuf = require("protobufjs/minimal");
const root = require("@opentelemetry/otlp-transformer/build/src/generated/root");

const common = root.opentelemetry.proto.common.v1;
const official = {
  Resource: root.opentelemetry.proto.resource.v1.Resource,
  InstrumentationScope: common.InstrumentationScope,
  KeyValue: common.KeyValue,
};

// message -> field number -> [name, type, repeated]
const V1_5 = {
  ExportProfilesServiceRequest: { 1: ["resource_profiles", "ResourceProfiles", true] },
  ResourceProfiles: {
    1: ["resource", "official:Resource"],
    2: ["scope_profiles", "ScopeProfiles", true],
    3: ["schema_url", "string"],
  },
  ScopeProfiles: {
    1: ["scope", "official:InstrumentationScope"],
    2: ["profiles", "Profile", true],
    3: ["schema_url", "string"],
  },
  Profile: {
    1: ["sample_type", "ValueType", true],
    2: ["sample", "Sample", true],
    3: ["mapping_table", "Mapping", true],
    4: ["location_table", "Location", true],
    5: ["location_indices", "int32", true],
    6: ["function_table", "Function", true],
    7: ["attribute_table", "official:KeyValue", true],
    8: ["attribute_units", "AttributeUnit", true],
    9: ["link_table", "Link", true],
    10: ["string_table", "string", true],
    11: ["time_nanos", "int64"],
    12: ["duration_nanos", "int64"],
    13: ["period_type", "ValueType"],
    14: ["period", "int64"],
    15: ["comment_strindices", "int32", true],
    16: ["default_sample_type_strindex", "int32"],
    17: ["profile_id", "bytes"],
    19: ["dropped_attributes_count", "uint32"],
    20: ["original_payload_format", "string"],
    21: ["original_payload", "bytes"],
    22: ["attribute_indices", "int32", true],
  },
  AttributeUnit: { 1: ["attribute_key_strindex", "int32"], 2: ["unit_strindex", "int32"] },
  Link: { 1: ["trace_id", "bytes"], 2: ["span_id", "bytes"] },
  ValueType: { 1: ["type_strindex", "int32"], 2: ["unit_strindex", "int32"], 3: ["aggregation_temporality", "enum"] },
  Sample: {
    1: ["locations_start_index", "int32"],
    2: ["locations_length", "int32"],
    3: ["value", "int64", true],
    4: ["attribute_indices", "int32", true],
    5: ["link_index", "int32"], // optional (presence) in v1.5.0
    6: ["timestamps_unix_nano", "uint64", true],
  },
  Mapping: {
    1: ["memory_start", "uint64"],
    2: ["memory_limit", "uint64"],
    3: ["file_offset", "uint64"],
    4: ["filename_strindex", "int32"],
    5: ["attribute_indices", "int32", true],
    6: ["has_functions", "bool"],
    7: ["has_filenames", "bool"],
    8: ["has_line_numbers", "bool"],
    9: ["has_inline_frames", "bool"],
  },
  Location: {
    1: ["mapping_index", "int32"], // optional (presence) in v1.5.0
    2: ["address", "uint64"],
    3: ["line", "Line", true],
    4: ["is_folded", "bool"],
    5: ["attribute_indices", "int32", true],
  },
  Line: { 1: ["function_index", "int32"], 2: ["line", "int64"], 3: ["column", "int64"] },
  Function: {
    1: ["name_strindex", "int32"],
    2: ["system_name_strindex", "int32"],
    3: ["filename_strindex", "int32"],
    4: ["start_line", "int64"],
  },
};

const VARINT = new Set(["int32", "int64", "uint64", "uint32", "bool", "enum"]);
const utf8 = new TextDecoder("utf-8", { fatal: true });

function scalar(r, type) {
  switch (type) {
    case "int32": return r.int32();
    case "uint32": return r.uint32();
    case "enum": return r.int32();
    case "bool": return r.bool();
    case "int64": return r.int64().toString();
    case "uint64": return r.uint64().toString();
    default: throw new Error("not a scalar: " + type);
  }
}

// decode(name, bytes) -> a plain object with v1.5.0's field names; unset
// fields are absent (so a test can tell "set to 0" from "not sent").
function decode(name, bytes, path) {
  const spec = V1_5[name];
  const r = protobuf.Reader.create(bytes);
  const out = {};
  path = path || name;
  while (r.pos < r.len) {
    const tag = r.uint32();
    const num = tag >>> 3, wt = tag & 7;
    const f = spec[num];
    if (!f) throw new Error(`${path}: field ${num} is not in v1.5.0's ${name}`);
    const [field, type, repeated] = f;
    const at = `${path}.${field}`;
    let vals;
    if (VARINT.has(type)) {
      if (wt === 2 && repeated) { // packed
        const end = r.uint32() + r.pos;
        vals = [];
        while (r.pos < end) vals.push(scalar(r, type));
      } else if (wt === 0) {
        vals = [scalar(r, type)];
      } else {
        throw new Error(`${at}: wire type ${wt}, v1.5.0 has a ${type} here`);
      }
    } else {
      if (wt !== 2) throw new Error(`${at}: wire type ${wt}, v1.5.0 has a ${type} here`);
      const b = r.bytes();
      if (type === "string") {
        try { vals = [utf8.decode(b)]; } catch (e) { throw new Error(`${at}: not UTF-8`); }
      } else if (type === "bytes") {
        vals = [Buffer.from(b).toString("hex")];
      } else if (type.startsWith("official:")) {
        const T = official[type.slice(9)];
        vals = [T.toObject(T.decode(b), { longs: String, enums: Number, defaults: false })];
      } else {
        vals = [decode(type, b, at)];
      }
    }
    if (repeated) out[field] = (out[field] || []).concat(vals);
    else if (field in out && !VARINT.has(type) && type !== "string" && type !== "bytes") {
      throw new Error(`${at}: sent twice`);
    } else out[field] = vals[vals.length - 1];
  }
  return out;
}

module.exports = { decode: (bytes) => decode("ExportProfilesServiceRequest", bytes), V1_5 };
