#include "services/storage/json.h"

#include <google/protobuf/timestamp.pb.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/time_util.h>

#include <algorithm>
#include <cstdint>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_format.h"

namespace xinfang::storage {

std::string JsonQuote(absl::string_view s) {
  std::string out = "\"";
  for (char ch : s) {
    const unsigned char c = static_cast<unsigned char>(ch);
    switch (c) {
      case '"': out += "\\\""; break;
      case '\\': out += "\\\\"; break;
      case '\n': out += "\\n"; break;
      case '\r': out += "\\r"; break;
      case '\t': out += "\\t"; break;
      default:
        if (c < 0x20) {
          out += absl::StrFormat("\\u%04x", c);
        } else {
          out += ch;
        }
    }
  }
  out += '"';
  return out;
}

std::string JsonObject(const std::map<std::string, std::string>& m) {
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : m) {
    if (!first) out += ',';
    first = false;
    out += JsonQuote(k);
    out += ':';
    out += JsonQuote(v);
  }
  out += '}';
  return out;
}

namespace {

// Recursive descent over RFC 8259.
class Parser {
 public:
  explicit Parser(absl::string_view s) : s_(s) {}

  std::optional<JsonValue> Document() {
    JsonValue v;
    if (!Value(&v, 0)) return std::nullopt;
    Space();
    if (at_ != s_.size()) return std::nullopt;
    return v;
  }

 private:
  static constexpr int kMaxDepth = 100;  // arrays and objects within each other

  void Space() {
    while (at_ < s_.size() &&
           (s_[at_] == ' ' || s_[at_] == '\t' || s_[at_] == '\n' || s_[at_] == '\r')) {
      ++at_;
    }
  }
  bool Eat(char c) {
    Space();
    if (at_ < s_.size() && s_[at_] == c) return ++at_, true;
    return false;
  }
  bool Word(absl::string_view w) {
    if (s_.substr(at_, w.size()) != w) return false;
    at_ += w.size();
    return true;
  }

  bool Value(JsonValue* v, int depth) {
    Space();
    if (at_ >= s_.size()) return false;
    switch (s_[at_]) {
      case '{': return depth < kMaxDepth && Object(v, depth);
      case '[': return depth < kMaxDepth && Array(v, depth);
      case '"': v->kind = JsonValue::Kind::kString; return String(&v->text);
      case 't': v->kind = JsonValue::Kind::kBool; v->boolean = true; return Word("true");
      case 'f': v->kind = JsonValue::Kind::kBool; return Word("false");
      case 'n': v->kind = JsonValue::Kind::kNull; return Word("null");
      default: v->kind = JsonValue::Kind::kNumber; return Number(&v->text);
    }
  }

  bool Object(JsonValue* v, int depth) {
    v->kind = JsonValue::Kind::kObject;
    ++at_;  // {
    if (Eat('}')) return true;
    do {
      Space();
      JsonMember& m = v->members.emplace_back();
      if (at_ >= s_.size() || s_[at_] != '"' || !String(&m.key) || !Eat(':') ||
          !Value(&m.value, depth + 1)) {
        return false;
      }
    } while (Eat(','));
    return Eat('}');
  }

  bool Array(JsonValue* v, int depth) {
    v->kind = JsonValue::Kind::kArray;
    ++at_;  // [
    if (Eat(']')) return true;
    do {
      if (!Value(&v->items.emplace_back(), depth + 1)) return false;
    } while (Eat(','));
    return Eat(']');
  }

  bool Digits() {
    const size_t from = at_;
    while (at_ < s_.size() && s_[at_] >= '0' && s_[at_] <= '9') ++at_;
    return at_ > from;
  }

  bool Number(std::string* out) {
    const size_t from = at_;
    if (at_ < s_.size() && s_[at_] == '-') ++at_;
    if (at_ < s_.size() && s_[at_] == '0') {
      ++at_;
    } else if (!Digits()) {
      return false;
    }
    if (at_ < s_.size() && s_[at_] == '.') {
      ++at_;
      if (!Digits()) return false;
    }
    if (at_ < s_.size() && (s_[at_] == 'e' || s_[at_] == 'E')) {
      ++at_;
      if (at_ < s_.size() && (s_[at_] == '+' || s_[at_] == '-')) ++at_;
      if (!Digits()) return false;
    }
    out->assign(s_.data() + from, at_ - from);
    return true;
  }

  bool Hex4(uint32_t* u) {
    if (at_ + 4 > s_.size()) return false;
    *u = 0;
    for (int k = 0; k < 4; ++k) {
      const char c = s_[at_++];
      *u <<= 4;
      if (c >= '0' && c <= '9') *u |= c - '0';
      else if (c >= 'a' && c <= 'f') *u |= c - 'a' + 10;
      else if (c >= 'A' && c <= 'F') *u |= c - 'A' + 10;
      else return false;
    }
    return true;
  }

  static void Utf8(uint32_t u, std::string* out) {
    if (u < 0x80) {
      *out += static_cast<char>(u);
    } else if (u < 0x800) {
      *out += static_cast<char>(0xC0 | (u >> 6));
      *out += static_cast<char>(0x80 | (u & 0x3F));
    } else if (u < 0x10000) {
      *out += static_cast<char>(0xE0 | (u >> 12));
      *out += static_cast<char>(0x80 | ((u >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (u & 0x3F));
    } else {
      *out += static_cast<char>(0xF0 | (u >> 18));
      *out += static_cast<char>(0x80 | ((u >> 12) & 0x3F));
      *out += static_cast<char>(0x80 | ((u >> 6) & 0x3F));
      *out += static_cast<char>(0x80 | (u & 0x3F));
    }
  }

  // At the opening quote. Bytes at or above 0x80 pass through unchecked:
  // the database's encoding is UTF-8 (initdb -E UTF8), so what it returns
  // is valid UTF-8. (Protobuf's parser refuses invalid UTF-8; this one
  // does not look.)
  bool String(std::string* out) {
    ++at_;  // "
    out->clear();
    while (at_ < s_.size()) {
      // The run up to the next quote or backslash in one append.
      size_t end = at_;
      while (end < s_.size() && s_[end] != '"' && s_[end] != '\\' &&
             static_cast<unsigned char>(s_[end]) >= 0x20) {
        ++end;
      }
      out->append(s_.data() + at_, end - at_);
      at_ = end;
      if (at_ >= s_.size()) return false;
      const char c = s_[at_++];
      if (c == '"') return true;
      if (c != '\\') return false;  // a raw control character
      if (at_ >= s_.size()) return false;
      switch (s_[at_++]) {
        case '"': *out += '"'; break;
        case '\\': *out += '\\'; break;
        case '/': *out += '/'; break;
        case 'b': *out += '\b'; break;
        case 'f': *out += '\f'; break;
        case 'n': *out += '\n'; break;
        case 'r': *out += '\r'; break;
        case 't': *out += '\t'; break;
        case 'u': {
          uint32_t u = 0;
          if (!Hex4(&u)) return false;
          if (u >= 0xDC00 && u <= 0xDFFF) return false;  // a lone low surrogate
          if (u >= 0xD800 && u <= 0xDBFF) {
            uint32_t low = 0;
            if (!Word("\\u") || !Hex4(&low) || low < 0xDC00 || low > 0xDFFF) return false;
            u = 0x10000 + ((u - 0xD800) << 10) + (low - 0xDC00);
          }
          Utf8(u, out);
          break;
        }
        default: return false;
      }
    }
    return false;
  }

  absl::string_view s_;
  size_t at_ = 0;
};

// Reads `v` into `m` by reflection; false where it does not take `v` as it
// stands (protobuf's parser then decides).
bool Fill(const JsonValue& v, google::protobuf::Message* m);

bool IsTimestamp(const google::protobuf::Descriptor* d) {
  return d->full_name() == "google.protobuf.Timestamp";
}

using Reflection = google::protobuf::Reflection;

// An integer field's value: a number or a string of digits ("1.0", "1e3":
// protobuf's).
template <typename Int>
bool FillInt(const JsonValue& v, google::protobuf::Message* m,
             const google::protobuf::FieldDescriptor* f,
             void (Reflection::*set)(google::protobuf::Message*,
                                     const google::protobuf::FieldDescriptor*, Int) const,
             void (Reflection::*add)(google::protobuf::Message*,
                                     const google::protobuf::FieldDescriptor*, Int) const) {
  Int x = 0;
  if (v.kind == JsonValue::Kind::kString) {  // digits only (SimpleAtoi also takes "+1", " 1")
    const absl::string_view t = v.text;
    const absl::string_view digits = absl::StartsWith(t, "-") ? t.substr(1) : t;
    if (digits.empty() || !std::all_of(digits.begin(), digits.end(), absl::ascii_isdigit)) {
      return false;
    }
  } else if (v.kind != JsonValue::Kind::kNumber) {
    return false;
  }
  if (!absl::SimpleAtoi(v.text, &x)) return false;
  (m->GetReflection()->*(f->is_repeated() ? add : set))(m, f, x);
  return true;
}

// One value of field `f` (a single field, or one element of a repeated one).
bool FillField(const JsonValue& v, google::protobuf::Message* m,
               const google::protobuf::FieldDescriptor* f) {
  using FD = google::protobuf::FieldDescriptor;
  const google::protobuf::Reflection* r = m->GetReflection();
  const bool rep = f->is_repeated();
  switch (f->cpp_type()) {
    case FD::CPPTYPE_STRING:
      if (f->type() == FD::TYPE_BYTES || v.kind != JsonValue::Kind::kString) return false;
      rep ? r->AddString(m, f, v.text) : r->SetString(m, f, v.text);
      return true;
    case FD::CPPTYPE_BOOL:
      if (v.kind != JsonValue::Kind::kBool) return false;
      rep ? r->AddBool(m, f, v.boolean) : r->SetBool(m, f, v.boolean);
      return true;
    case FD::CPPTYPE_INT32:
      return FillInt<int32_t>(v, m, f, &Reflection::SetInt32, &Reflection::AddInt32);
    case FD::CPPTYPE_INT64:
      return FillInt<int64_t>(v, m, f, &Reflection::SetInt64, &Reflection::AddInt64);
    case FD::CPPTYPE_UINT32:
      return FillInt<uint32_t>(v, m, f, &Reflection::SetUInt32, &Reflection::AddUInt32);
    case FD::CPPTYPE_UINT64:
      return FillInt<uint64_t>(v, m, f, &Reflection::SetUInt64, &Reflection::AddUInt64);
    case FD::CPPTYPE_ENUM: {
      int number = 0;
      if (v.kind == JsonValue::Kind::kString) {
        const google::protobuf::EnumValueDescriptor* e = f->enum_type()->FindValueByName(v.text);
        if (e == nullptr) return false;
        number = e->number();
      } else if (v.kind != JsonValue::Kind::kNumber || !absl::SimpleAtoi(v.text, &number)) {
        return false;
      }
      rep ? r->AddEnumValue(m, f, number) : r->SetEnumValue(m, f, number);
      return true;
    }
    case FD::CPPTYPE_MESSAGE: {
      google::protobuf::Message* sub = rep ? r->AddMessage(m, f) : r->MutableMessage(m, f);
      if (!IsTimestamp(f->message_type())) return Fill(v, sub);
      google::protobuf::Timestamp t;
      if (v.kind != JsonValue::Kind::kString ||
          !google::protobuf::util::TimeUtil::FromString(v.text, &t)) {
        return false;
      }
      const google::protobuf::Descriptor* d = sub->GetDescriptor();
      const google::protobuf::Reflection* sr = sub->GetReflection();
      sr->SetInt64(sub, d->FindFieldByName("seconds"), t.seconds());
      sr->SetInt32(sub, d->FindFieldByName("nanos"), t.nanos());
      return true;
    }
    default:  // float and double: protobuf's (NaN, Infinity, precision)
      return false;
  }
}

// The field a JSON key names: its JSON name (lowerCamelCase unless the
// .proto says otherwise), or its name in the .proto.
const google::protobuf::FieldDescriptor* FieldNamed(const google::protobuf::Descriptor* d,
                                                   const std::string& key) {
  const google::protobuf::FieldDescriptor* f = d->FindFieldByCamelcaseName(key);
  if (f != nullptr && f->json_name() == key) return f;
  for (int k = 0; k < d->field_count(); ++k) {
    if (d->field(k)->json_name() == key) return d->field(k);
  }
  return d->FindFieldByName(key);
}

// A field of one of protobuf's own types (a well-known message or enum).
bool OfWellKnownType(const google::protobuf::FieldDescriptor* f) {
  const std::string* name = f->message_type() != nullptr ? &f->message_type()->full_name()
                            : f->enum_type() != nullptr  ? &f->enum_type()->full_name()
                                                         : nullptr;
  return name != nullptr && name->rfind("google.protobuf.", 0) == 0;
}

bool Fill(const JsonValue& v, google::protobuf::Message* m) {
  if (v.kind != JsonValue::Kind::kObject) return false;
  const google::protobuf::Descriptor* d = m->GetDescriptor();
  if (d->full_name().rfind("google.protobuf.", 0) == 0) return false;  // well-known types
  for (const auto& [key, value] : v.members) {
    const google::protobuf::FieldDescriptor* f = FieldNamed(d, key);
    if (f == nullptr) continue;  // unknown: ignored
    if (f->is_map()) return false;
    if (value.kind == JsonValue::Kind::kNull) {
      // The default, except where null is a value itself
      // (google.protobuf.Value, NullValue): protobuf's.
      if (OfWellKnownType(f)) return false;
      continue;
    }
    if (!f->is_repeated()) {
      const google::protobuf::OneofDescriptor* o = f->containing_oneof();
      if (o != nullptr && m->GetReflection()->HasOneof(*m, o)) return false;  // two of a oneof
      if (!FillField(value, m, f)) return false;
      continue;
    }
    if (value.kind != JsonValue::Kind::kArray) return false;
    for (const JsonValue& item : value.items) {
      if (item.kind == JsonValue::Kind::kNull || !FillField(item, m, f)) return false;
    }
  }
  return true;
}

}  // namespace

std::optional<JsonValue> ParseJson(absl::string_view json) { return Parser(json).Document(); }

std::optional<std::map<std::string, std::string>> ParseStringMap(absl::string_view json) {
  std::optional<JsonValue> v = ParseJson(json);
  if (!v.has_value() || v->kind != JsonValue::Kind::kObject) return std::nullopt;
  std::map<std::string, std::string> out;
  for (auto& [k, value] : v->members) out[k] = std::string(value.str());
  return out;
}

bool internal::ReadMessage(absl::string_view json, google::protobuf::Message* m) {
  m->Clear();
  std::optional<JsonValue> v = ParseJson(json);
  return v.has_value() && Fill(*v, m);
}

bool JsonToMessage(absl::string_view json, google::protobuf::Message* m) {
  if (internal::ReadMessage(json, m)) return true;
  m->Clear();
  google::protobuf::util::JsonParseOptions options;
  options.ignore_unknown_fields = true;
  return google::protobuf::util::JsonStringToMessage(std::string(json), m, options).ok();
}

}  // namespace xinfang::storage
