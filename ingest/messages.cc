// The ingest's reading of request bodies (messages.h). simdjson's DOM with error codes,
// as the engine's decoder: hostile bodies are refused with a reason, never crash.
#include "ingest/messages.h"

#include <simdjson.h>
#include <xxhash.h>

#include <cstdio>

#include "juncture/runtime/event.h"
#include "juncture/runtime/partition.h"
#include "juncture/runtime/runtime.h"

namespace juncture::ingest {
namespace {

namespace dom = simdjson::dom;

bool KnownCall(std::string_view type) {
  return type == "track" || type == "identify" || type == "page" || type == "screen" ||
         type == "group" || type == "alias";
}

// The members the ingest adds when they are missing (or null).
bool IsAdded(std::string_view key) {
  return key == "type" || key == "messageId" || key == "receivedAt" || key == "timestamp";
}

bool Has(dom::object o, const char* key) {
  dom::element e;
  return o.at_key(key).get(e) == simdjson::SUCCESS && !e.is_null();
}

// Checks one message and completes it. `where` names it in errors ("batch[3]: ...").
Status Prepare(dom::element e, std::string_view call, const std::string& received,
               const std::string& where, ReadyMessage& out) {
  dom::object o;
  if (e.get(o) != simdjson::SUCCESS) {
    return InvalidArgumentError(where + "a message must be a JSON object");
  }
  std::string minified = simdjson::to_string(e);
  if (minified.size() > kMaxMessageBytes) {
    return InvalidArgumentError(where + "message is larger than 32 KB (" +
                                std::to_string(minified.size()) + " bytes)");
  }
  // What the ingest adds goes first, before the message's own members (which it adds
  // only when they are missing).
  std::string added;
  bool replaced_null = false;  // a member the ingest adds was there, as null
  auto add = [&](std::string_view key, std::string_view value) {
    dom::element given;
    replaced_null |= o.at_key(key).get(given) == simdjson::SUCCESS;
    added += '"';
    added += key;
    added += "\":";
    runtime::AppendJsonString(value, added);
    added += ',';
  };
  std::string_view type;
  dom::element type_el;
  if (o.at_key("type").get(type_el) == simdjson::SUCCESS && !type_el.is_null()) {
    if (type_el.get(type) != simdjson::SUCCESS || !KnownCall(type)) {
      return InvalidArgumentError(where +
                                  "type must be one of \"track\", \"identify\", \"page\", "
                                  "\"screen\", \"group\", \"alias\"");
    }
    if (call != "batch" && type != call) {
      return InvalidArgumentError(where + "type \"" + std::string(type) + "\" sent to /v1/" +
                                  std::string(call));
    }
  } else if (call == "batch") {
    return InvalidArgumentError(where + "missing type");
  } else {
    add("type", call);
  }
  // Its customer by the engine's own rule, so that it goes to the partition of the
  // decider that owns the customer.
  if (!runtime::CustomerOfMessage(minified, &out.customer)) {
    return InvalidArgumentError(where + "missing userId and anonymousId");
  }
  dom::element id;
  if (o.at_key("messageId").get(id) == simdjson::SUCCESS && !id.is_null()) {
    std::string_view s;
    if (id.get(s) != simdjson::SUCCESS || s.empty()) {
      return InvalidArgumentError(where + "messageId must be a non-empty string");
    }
    out.message_id = std::string(s);
  } else {
    // Made from the content, so that a producer's retry of the same body gets the same
    // id and is deduplicated like any other.
    XXH128_hash_t h = XXH3_128bits(minified.data(), minified.size());
    char text[48];
    std::snprintf(text, sizeof text, "ingest-%016llx%016llx", static_cast<unsigned long long>(h.high64),
                  static_cast<unsigned long long>(h.low64));
    out.message_id = text;
    add("messageId", out.message_id);
  }
  if (!Has(o, "receivedAt")) add("receivedAt", received);
  if (!Has(o, "timestamp") && !Has(o, "originalTimestamp")) add("timestamp", received);
  if (added.empty()) {
    out.json = std::move(minified);
  } else if (replaced_null) {
    // A member given as null and added by the ingest: written once, the ingest's.
    out.json = "{" + added;
    for (dom::key_value_pair kv : o) {
      if (kv.value.is_null() && IsAdded(kv.key)) continue;
      runtime::AppendJsonString(kv.key, out.json);
      out.json += ':';
      out.json += simdjson::to_string(kv.value);
      out.json += ',';
    }
    out.json.back() = '}';
  } else if (minified == "{}") {
    added.pop_back();  // the last comma
    out.json = "{" + added + "}";
  } else {
    out.json.reserve(minified.size() + added.size());
    out.json = "{";
    out.json += added;
    out.json.append(minified, 1);
  }
  return OkStatus();
}

}  // namespace

ParsedRequest ParseRequest(std::string_view body, std::string_view call, int64_t received_us) {
  ParsedRequest out;
  if (body.size() > kMaxRequestBytes) {
    out.status = InvalidArgumentError("request is larger than 500 KB (" +
                                      std::to_string(body.size()) + " bytes)");
    return out;
  }
  if (body.size() >= 3 && body.substr(0, 3) == "\xEF\xBB\xBF") body.remove_prefix(3);
  thread_local dom::parser parser;
  dom::element doc;
  if (auto err = parser.parse(body.data(), body.size()).get(doc); err != simdjson::SUCCESS) {
    out.status = InvalidArgumentError(std::string("invalid JSON: ") + simdjson::error_message(err));
    return out;
  }
  dom::object root;
  if (doc.get(root) != simdjson::SUCCESS) {
    out.status = InvalidArgumentError("the body must be a JSON object");
    return out;
  }
  std::string_view key;
  if (root.at_key("writeKey").get(key) == simdjson::SUCCESS) out.write_key = std::string(key);
  const std::string received = runtime::FormatTimestamp(received_us);
  if (call != "batch") {
    out.messages.resize(1);
    out.status = Prepare(doc, call, received, "", out.messages[0]);
    if (!out.status.ok()) out.messages.clear();
    return out;
  }
  dom::array batch;
  dom::element batch_el;
  if (root.at_key("batch").get(batch_el) != simdjson::SUCCESS) {
    out.status = InvalidArgumentError("missing batch");
    return out;
  }
  if (batch_el.get(batch) != simdjson::SUCCESS) {
    out.status = InvalidArgumentError("batch must be an array");
    return out;
  }
  out.messages.resize(batch.size());
  size_t i = 0;
  for (dom::element e : batch) {
    out.status =
        Prepare(e, "batch", received, "batch[" + std::to_string(i) + "]: ", out.messages[i]);
    if (!out.status.ok()) {
      out.messages.clear();
      return out;
    }
    ++i;
  }
  return out;
}

}  // namespace juncture::ingest
