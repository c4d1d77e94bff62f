// Validation of what clients send: text fields, resident ID numbers, phone
// numbers, and a whole CaseIntake. Every error is INVALID_ARGUMENT whose
// message starts with the field's path ("intake.petitioners[0].id_number: ...").
#ifndef XINFANG_SERVICES_COMMON_VALIDATE_H_
#define XINFANG_SERVICES_COMMON_VALIDATE_H_

#include <cstdint>
#include <functional>
#include <string>

#include "absl/status/status.h"
#include "absl/strings/string_view.h"
#include "absl/time/time.h"
#include "google/protobuf/timestamp.pb.h"
#include "xinfang/v1/case.pb.h"

namespace xinfang {

// Number of Unicode code points, or -1 if `s` is not valid UTF-8.
int Utf8Length(absl::string_view s);

// Valid UTF-8, no control characters other than \n, \r and \t, at most
// `max_chars` code points; `required` also refuses an empty (all-blank) value.
absl::Status CheckText(absl::string_view field, absl::string_view value, int max_chars,
                       bool required);

// A timestamp a client sent: within protobuf's range (years 1 to 9999 UTC,
// nanos 0 to 999,999,999). INVALID_ARGUMENT "<field>: ..." otherwise.
absl::Status CheckTimestamp(absl::string_view field, const google::protobuf::Timestamp& ts);

// A number a client sent, within [lo, hi]. INVALID_ARGUMENT
// "<field>: <lo> to <hi>..." (with `hint` appended) otherwise.
absl::Status CheckRange(absl::string_view field, int64_t value, int64_t lo, int64_t hi,
                        absl::string_view hint = "");

// An 18-character PRC resident ID: 17 digits, a valid birth date, and the
// ISO 7064 MOD 11-2 check character (digit or X).
bool IsValidResidentId(absl::string_view id);

// Digits with an optional leading '+', and '-' or spaces; 5 to 20 digits.
bool IsValidPhone(absl::string_view phone);

struct IntakeRules {
  absl::Time now;
  absl::Duration max_receipt_age;
  std::function<bool(const std::string&)> unit_exists;
  std::function<bool(const std::string&)> category_exists;
};

// Checks a CaseIntake (fills received_at with `now` if unset and upper-cases
// ID numbers' check character; the caller fills registering_unit before). Limits: summary 500, request 4000, facts
// 20000, location and complained_about 200, names 100 characters; at most 5
// representatives (Art. 20); at most 200 petitioners.
absl::Status ValidateIntake(xinfang::v1::CaseIntake& intake, const IntakeRules& rules);

// Codes of accounts, units and categories: 1 to 64 of a-z 0-9 . _ -,
// starting with a letter or digit (what a person types and a log line shows
// unambiguously; the units table checks the same).
absl::Status CheckCode(const std::string& field, const std::string& code);
inline absl::Status CheckAccountName(const std::string& field, const std::string& name) {
  return CheckCode(field, name);
}

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_VALIDATE_H_
