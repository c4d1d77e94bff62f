// JSON for the jsonb columns: writing string maps, and reading what the
// columns hold back — a small parser, and a JSON-to-message filler for the
// proto3 JSON the intake is stored as. protobuf's own JSON parser (3.21)
// goes through a generic stream of type lookups and allocations: it was a
// fifth of the server's time on a case read (docs/benchmarks.md).
#ifndef XINFANG_SERVICES_STORAGE_JSON_H_
#define XINFANG_SERVICES_STORAGE_JSON_H_

#include <map>
#include <optional>
#include <string>
#include <vector>

#include <google/protobuf/message.h>

#include "absl/strings/string_view.h"

namespace xinfang::storage {

// `s` as a JSON string literal, quotes included (UTF-8 passes through).
std::string JsonQuote(absl::string_view s);
// {"k":"v",...} in key order.
std::string JsonObject(const std::map<std::string, std::string>& m);

struct JsonMember;

// A parsed JSON value.
struct JsonValue {
  enum class Kind { kNull, kBool, kNumber, kString, kArray, kObject };
  Kind kind = Kind::kNull;
  bool boolean = false;
  std::string text;  // kString: the string, unescaped; kNumber: the literal
  std::vector<JsonValue> items;                            // kArray
  std::vector<JsonMember> members;  // kObject, as written

  // A string's text; "" for any other value (as protobuf's Value.string_value).
  absl::string_view str() const { return kind == Kind::kString ? absl::string_view(text) : absl::string_view(); }
};

struct JsonMember {
  std::string key;
  JsonValue value;
};

// The value `json` holds (RFC 8259; surrounding white space allowed);
// nullopt when it is not JSON, or nests deeper than 100.
std::optional<JsonValue> ParseJson(absl::string_view json);

// An object's string members (other members read as ""); nullopt when
// `json` is not an object.
std::optional<std::map<std::string, std::string>> ParseStringMap(absl::string_view json);

// `json` (proto3 JSON mapping, unknown fields ignored) into `m`, as
// google::protobuf::util::JsonStringToMessage does. Strings, numbers, bools,
// enums, nested and repeated messages and google.protobuf.Timestamp are
// read here; a message using anything else (maps, bytes, other well-known
// types) goes to protobuf's parser, as does any value this reader does not
// take as it stands, so for valid UTF-8 (the database's encoding) the
// result is always protobuf's. False when the JSON does not parse into `m`.
bool JsonToMessage(absl::string_view json, google::protobuf::Message* m);

namespace internal {
// JsonToMessage's own reader alone (for tests): false where it leaves the
// JSON to protobuf's parser.
bool ReadMessage(absl::string_view json, google::protobuf::Message* m);
}  // namespace internal

}  // namespace xinfang::storage

#endif  // XINFANG_SERVICES_STORAGE_JSON_H_
