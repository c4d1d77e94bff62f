#include "services/common/validate.h"

#include "services/common/mail.h"

#include <algorithm>
#include <cctype>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/util/time_util.h"
#include "workflow/warning_rules.h"

namespace xinfang {

int Utf8Length(absl::string_view s) {
  int n = 0;
  for (std::size_t i = 0; i < s.size();) {
    const unsigned char c = static_cast<unsigned char>(s[i]);
    int len;
    uint32_t cp;
    if (c < 0x80) { len = 1; cp = c; }
    else if ((c & 0xE0) == 0xC0) { len = 2; cp = c & 0x1F; }
    else if ((c & 0xF0) == 0xE0) { len = 3; cp = c & 0x0F; }
    else if ((c & 0xF8) == 0xF0) { len = 4; cp = c & 0x07; }
    else return -1;
    if (i + len > s.size()) return -1;
    for (int k = 1; k < len; ++k) {
      const unsigned char cc = static_cast<unsigned char>(s[i + k]);
      if ((cc & 0xC0) != 0x80) return -1;
      cp = (cp << 6) | (cc & 0x3F);
    }
    // Overlong forms, surrogates and out-of-range code points are invalid.
    if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
        cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) {
      return -1;
    }
    i += len;
    ++n;
  }
  return n;
}

absl::Status CheckText(absl::string_view field, absl::string_view value, int max_chars,
                       bool required) {
  const int n = Utf8Length(value);
  if (n < 0) return absl::InvalidArgumentError(absl::StrCat(field, ": not valid UTF-8"));
  for (char ch : value) {
    const unsigned char c = static_cast<unsigned char>(ch);
    if ((c < 0x20 && c != '\n' && c != '\r' && c != '\t') || c == 0x7F) {
      return absl::InvalidArgumentError(absl::StrCat(field, ": contains a control character"));
    }
  }
  if (required && absl::StripAsciiWhitespace(value).empty()) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": required"));
  }
  if (n > max_chars) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": ", n, " characters, at most ", max_chars, " allowed"));
  }
  return absl::OkStatus();
}

absl::Status CheckTimestamp(absl::string_view field, const google::protobuf::Timestamp& ts) {
  using google::protobuf::util::TimeUtil;
  if (ts.seconds() < TimeUtil::kTimestampMinSeconds ||
      ts.seconds() > TimeUtil::kTimestampMaxSeconds) {
    return absl::InvalidArgumentError(
        absl::StrCat(field, ": seconds out of range (years 0001 to 9999 UTC)"));
  }
  if (ts.nanos() < 0 || ts.nanos() > 999999999) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": nanos out of range (0 to 999999999)"));
  }
  return absl::OkStatus();
}

absl::Status CheckRange(absl::string_view field, int64_t value, int64_t lo, int64_t hi,
                        absl::string_view hint) {
  if (value >= lo && value <= hi) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": ", lo, " to ", hi, hint, ", got ", value));
}

bool IsValidResidentId(absl::string_view id) {
  if (id.size() != 18) return false;
  static constexpr int kWeights[17] = {7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2};
  static constexpr char kCheck[] = "10X98765432";
  int sum = 0;
  for (int i = 0; i < 17; ++i) {
    if (!std::isdigit(static_cast<unsigned char>(id[i]))) return false;
    sum += (id[i] - '0') * kWeights[i];
  }
  const char want = kCheck[sum % 11];
  const char got = static_cast<char>(std::toupper(static_cast<unsigned char>(id[17])));
  if (got != want) return false;
  const int year = std::stoi(std::string(id.substr(6, 4)));
  const int month = std::stoi(std::string(id.substr(10, 2)));
  const int day = std::stoi(std::string(id.substr(12, 2)));
  if (year < 1900 || month < 1 || month > 12 || day < 1 || day > 31) return false;
  const absl::CivilDay d(year, month, day);
  return d.year() == year && d.month() == month && d.day() == day;
}

bool IsValidPhone(absl::string_view phone) {
  int digits = 0;
  for (std::size_t i = 0; i < phone.size(); ++i) {
    const char c = phone[i];
    if (std::isdigit(static_cast<unsigned char>(c))) {
      ++digits;
    } else if (!(c == '-' || c == ' ' || (c == '+' && i == 0))) {
      return false;
    }
  }
  return digits >= 5 && digits <= 20;
}

absl::Status ValidateIntake(xinfang::v1::CaseIntake& in, const IntakeRules& rules) {
  auto err = [](const std::string& m) { return absl::InvalidArgumentError(m); };
  if (in.channel() == xinfang::v1::CHANNEL_UNSPECIFIED) {
    return err("intake.channel: required (visit, call, letter or online)");
  }
  if (!xinfang::v1::Channel_IsValid(in.channel())) return err("intake.channel: unknown channel");
  const auto details = in.channel_details_case();
  const bool matches =
      details == xinfang::v1::CaseIntake::CHANNEL_DETAILS_NOT_SET ||
      (in.channel() == xinfang::v1::CHANNEL_VISIT && details == xinfang::v1::CaseIntake::kVisit) ||
      (in.channel() == xinfang::v1::CHANNEL_CALL && details == xinfang::v1::CaseIntake::kCall) ||
      (in.channel() == xinfang::v1::CHANNEL_LETTER && details == xinfang::v1::CaseIntake::kLetter) ||
      (in.channel() == xinfang::v1::CHANNEL_ONLINE && details == xinfang::v1::CaseIntake::kOnline);
  if (!matches) return err("intake.channel_details: do not match intake.channel");
  if (in.has_visit()) {
    if (in.visit().representatives_size() > 5) {
      return err(absl::StrCat("intake.visit.representatives: ", in.visit().representatives_size(),
                              " given, at most 5 allowed (Art. 20)"));
    }
    if (in.visit().people_present() < 0 || in.visit().people_present() > 100000) {
      return err("intake.visit.people_present: out of range");
    }
    if (in.visit().people_present() > 5 && in.visit().representatives_size() == 0) {
      return err(absl::StrCat("intake.visit.representatives: a visit of ",
                              in.visit().people_present(),
                              " people with a common matter chooses up to 5 representatives "
                              "(Art. 20): name them"));
    }
    for (int i = 0; i < in.visit().representatives_size(); ++i) {
      if (auto s = CheckText(absl::StrCat("intake.visit.representatives[", i, "]"),
                             in.visit().representatives(i), 100, true);
          !s.ok()) {
        return s;
      }
    }
  }
  if (in.has_call()) {
    if (!in.call().caller_number().empty() && !IsValidPhone(in.call().caller_number())) {
      return err("intake.call.caller_number: not a phone number");
    }
    if (auto s = CheckText("intake.call.call_reference", in.call().call_reference(), 100, false);
        !s.ok()) {
      return s;
    }
  }
  if (in.has_letter()) {
    if (!in.letter().postmark_date().empty()) {
      absl::CivilDay d;
      if (!absl::ParseCivilTime(in.letter().postmark_date(), &d)) {
        return err("intake.letter.postmark_date: not a date (YYYY-MM-DD)");
      }
    }
    if (auto s = CheckText("intake.letter.sender_address", in.letter().sender_address(), 200,
                           false);
        !s.ok()) {
      return s;
    }
  }
  if (in.has_online()) {
    if (auto s = CheckText("intake.online.platform", in.online().platform(), 50, true); !s.ok()) {
      return s;
    }
    if (auto s = CheckText("intake.online.reference", in.online().reference(), 100, false);
        !s.ok()) {
      return s;
    }
  }

  // Receipt time: defaults to now; never in the future; not older than allowed.
  absl::Time received = rules.now;
  if (in.has_received_at()) {
    const auto& ts = in.received_at();
    if (auto s = CheckTimestamp("intake.received_at", ts); !s.ok()) return s;
    received = absl::FromUnixSeconds(ts.seconds()) + absl::Nanoseconds(ts.nanos());
    if (received > rules.now) return err("intake.received_at: is in the future");
    if (rules.now - received > rules.max_receipt_age) {
      return err(absl::StrCat("intake.received_at: more than ",
                              absl::ToInt64Hours(rules.max_receipt_age) / 24,
                              " days before registration"));
    }
  } else {
    in.mutable_received_at()->set_seconds(absl::ToUnixSeconds(received));
  }

  if (!in.anonymous() && in.petitioners_size() == 0) {
    return err("intake.petitioners: at least one petitioner unless the petition is anonymous");
  }
  if (in.petitioners_size() > 200) return err("intake.petitioners: more than 200");
  for (int i = 0; i < in.petitioners_size(); ++i) {
    // One person, one registry entry: the check character is stored upper-case.
    std::string* idn = in.mutable_petitioners(i)->mutable_id_number();
    for (char& ch : *idn) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
    const auto& p = in.petitioners(i);
    const std::string path = absl::StrCat("intake.petitioners[", i, "]");
    if (auto s = CheckText(path + ".name", p.name(), 100, !in.anonymous()); !s.ok()) return s;
    if (!p.id_number().empty() && !IsValidResidentId(p.id_number())) {
      return err(path + ".id_number: not a valid 18-digit resident ID (check digit or birth date)");
    }
    if (!p.phone().empty() && !IsValidPhone(p.phone())) return err(path + ".phone: not a phone number");
    if (auto s = CheckText(path + ".address", p.address(), 200, false); !s.ok()) return s;
    if (auto s = CheckText(path + ".member_id", p.member_id(), 64, false); !s.ok()) return s;
    if (!p.email().empty() && !IsEmailAddress(p.email())) {
      return err(path + ".email: not an e-mail address");
    }
  }
  if (in.purpose() == xinfang::v1::PURPOSE_UNSPECIFIED || !xinfang::v1::Purpose_IsValid(in.purpose())) {
    return err("intake.purpose: required (claim, suggestion, appeal, accusation or other)");
  }
  if (in.category().empty()) return err("intake.category: required");
  if (auto s = CheckText("intake.category", in.category(), 64, true); !s.ok()) return s;
  if (!rules.category_exists(in.category())) {
    return err(absl::StrCat("intake.category: unknown category '", in.category(), "'"));
  }
  if (auto s = CheckText("intake.summary", in.summary(), 500, true); !s.ok()) return s;
  if (auto s = CheckText("intake.request", in.request(), 4000, false); !s.ok()) return s;
  if (auto s = CheckText("intake.facts_and_reasons", in.facts_and_reasons(), 20000, false); !s.ok()) return s;
  if (auto s = CheckText("intake.issue_location", in.issue_location(), 200, false); !s.ok()) return s;
  if (auto s = CheckText("intake.complained_about", in.complained_about(), 200, false); !s.ok()) return s;
  if (auto s = CheckText("intake.complained_about_unit", in.complained_about_unit(), 64, false);
      !s.ok()) {
    return s;
  }
  if (auto s = CheckText("intake.registering_unit", in.registering_unit(), 64, true); !s.ok()) {
    return s;
  }
  if (!in.complained_about_unit().empty() && !rules.unit_exists(in.complained_about_unit())) {
    return err(absl::StrCat("intake.complained_about_unit: unknown unit '",
                            in.complained_about_unit(), "'"));
  }
  if (in.attachments_size() > 100) return err("intake.attachments: more than 100");
  for (int i = 0; i < in.attachments_size(); ++i) {
    if (auto s = CheckText(absl::StrCat("intake.attachments[", i, "]"), in.attachments(i), 500, true);
        !s.ok()) {
      return s;
    }
  }
  if (!rules.unit_exists(in.registering_unit())) {
    return err(absl::StrCat("intake.registering_unit: unknown unit '", in.registering_unit(), "'"));
  }
  return absl::OkStatus();
}

absl::Status CheckCode(const std::string& field, const std::string& name) {
  if (workflow::IsReferenceCode(name)) return absl::OkStatus();
  return absl::InvalidArgumentError(
      absl::StrCat(field, ": 1 to 64 of a-z 0-9 . _ -, starting with a letter or digit"));
}

}  // namespace xinfang
