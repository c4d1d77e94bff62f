#include "services/storage/case_rows.h"

#include <openssl/sha.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "services/storage/json.h"

namespace xinfang::storage {
namespace internal {

using workflow::CaseSnapshot;
using workflow::TimerState;

const Sql kSelectCaseById{XF_SELECT_CASE " WHERE id = :id"};
const Sql kSelectCaseByTracking{XF_SELECT_CASE " WHERE tracking_number = :t"};
const Sql kFindRequest{"SELECT id, request_hash FROM cases WHERE request_id = :r"};

std::string JoinSet(const std::set<std::string>& s) { return absl::StrJoin(s, ","); }

std::set<std::string> SplitSet(const std::string& s) {
  std::set<std::string> out;
  for (absl::string_view part : absl::StrSplit(s, ',', absl::SkipEmpty())) {
    out.emplace(part);
  }
  return out;
}

absl::CivilDay ParseDay(absl::string_view s) {
  absl::CivilDay d;
  absl::ParseCivilTime(s, &d);
  return d;
}

// Optional instant <-> (micros, indicator) for SOCI.

std::optional<absl::Time> GetOptTime(const Row& r, int i) {
  if (r.null(i)) return std::nullopt;
  return FromMicros(r.i64(i));
}

// "张**": the first character of a name, then one * per further character
// (UTF-8 aware), for messages that must not disclose a person.
std::string MaskName(const std::string& name) {
  std::string out;
  int chars = 0;
  for (std::size_t i = 0; i < name.size(); ++i) {
    const bool lead = (static_cast<unsigned char>(name[i]) & 0xC0) != 0x80;
    if (lead) ++chars;
    if (chars <= 1) {
      out += name[i];
    } else if (lead) {
      out += '*';
    }
  }
  return out;
}

// A timer from its fields in XF_TIMER_COLUMNS' order, as text: from a row's
// columns or from one entry of XF_TIMER_FIELDS' string_agg.
template <typename Field>
TimerState TimerFromFields(const Field& f) {
  auto num = [&](int k) {
    int64_t v = 0;
    (void)absl::SimpleAtoi(f(k), &v);
    return v;
  };
  TimerState ts;
  ts.name = std::string(f(0));
  ts.started_at = FromMicros(num(1));
  ts.deadline.due_day = ParseDay(f(2));
  ts.deadline.due_at = FromMicros(num(3));
  ts.warn_at = FromMicros(num(4));
  ts.deadline.provisional = num(5) != 0;
  if (!f(6).empty()) ts.suspended_at = FromMicros(num(6));
  ts.extended = num(7) != 0;
  ts.warned = num(8) != 0;
  ts.overdue = num(9) != 0;
  ts.rung = static_cast<int>(num(10));
  ts.deadline.counted_from = ParseDay(f(11));
  ts.deadline.base_days = static_cast<int>(num(12));
  ts.deadline.extension_days = static_cast<int>(num(13));
  ts.deadline.stopped_days = static_cast<int>(num(14));
  ts.deadline.rolled = num(15) != 0;
  ts.purpose = static_cast<xinfang::v1::TimerPurpose>(num(16));
  return ts;
}

// Reads the XF_TIMER_COLUMNS starting at column `j`.
TimerState ReadTimer(const Row& r, int j) {
  return TimerFromFields([&](int k) { return r.view(j + k); });
}

// The timers of XF_TIMER_FIELDS' string_agg.
std::vector<TimerState> ParseTimers(absl::string_view agg) {
  std::vector<TimerState> out;
  for (absl::string_view one : absl::StrSplit(agg, ';', absl::SkipEmpty())) {
    const std::vector<absl::string_view> f = absl::StrSplit(one, ',');
    if (f.size() != kTimerColumnCount) continue;
    out.push_back(TimerFromFields([&](int k) { return f[k]; }));
  }
  return out;
}

// Reads the XF_EVENT_COLUMNS starting at column `i`.
StoredEvent ReadEvent(const Row& r, int i) {
  StoredEvent e;
  e.id = r.i64(i++);
  e.case_id = r.i64(i++);
  e.seq = r.i32(i++);
  e.event.kind = r.str(i++);
  e.event.action = r.str(i++);
  e.event.from_state = r.str(i++);
  e.event.to_state = r.str(i++);
  e.actor.account = r.str(i++);
  e.actor.role = static_cast<xinfang::v1::Role>(r.i32(i++));
  e.actor.unit = r.str(i++);
  e.at = FromMicros(r.i64(i++));
  e.event.note = r.str(i++);
  if (auto fields = ParseStringMap(r.view(i++)); fields.has_value()) {
    e.event.fields = std::move(*fields);
  }
  e.prev_hash = r.str(i++);
  e.hash = r.str(i++);
  return e;
}

// Reads the XF_SNAPSHOT_COLUMNS starting at column `i`; the column after them.
int ReadSnapshot(const Row& r, int i, CaseSnapshot* snap) {
  snap->workflow = r.str(i++);
  snap->workflow_version = r.i32(i++);
  snap->state = r.str(i++);
  snap->received_at = FromMicros(r.i64(i++));
  snap->responsible_unit = r.str(i++);
  snap->forwarder_unit = r.str(i++);
  snap->review_unit = r.str(i++);
  snap->recheck_unit = r.str(i++);
  snap->case_officer = r.str(i++);
  snap->anonymous = r.boolean(i++);
  snap->accepted_at = GetOptTime(r, i++);
  snap->decided_at = GetOptTime(r, i++);
  snap->served_at = GetOptTime(r, i++);
  snap->closed_at = GetOptTime(r, i++);
  snap->outcome = r.str(i++);
  snap->evaluation = r.str(i++);
  snap->office_evaluation = r.str(i++);
  snap->flags = SplitSet(r.str(i++));
  snap->conflicted_accounts = SplitSet(r.str(i++));
  snap->state_entered_at = GetOptTime(r, i++).value_or(absl::Time());
  snap->unit_received_at = GetOptTime(r, i++).value_or(absl::Time());
  snap->complained_about_unit = r.str(i++);
  return i;
}

// A case from a row of XF_SELECT_CASE.
absl::StatusOr<CaseRecord> ParseCase(const Row& r) {
  CaseRecord c;
  int i = 0;
  c.id = r.i64(i++);
  c.tracking_number = r.str(i++);
  c.version = r.i64(i++);
  c.head_seq = r.i32(i++);
  c.head_hash = r.str(i++);
  c.registered_at = FromMicros(r.i64(i++));
  c.registered_by = r.str(i++);
  const absl::string_view intake_json = r.view(i++);
  CaseSnapshot& snap = c.snapshot;
  i = ReadSnapshot(r, i, &snap);
  const absl::string_view petitioners = r.view(i++);
  const absl::string_view related = r.view(i++);
  const absl::string_view attributes = r.view(i++);
  const absl::string_view actions = r.view(i++);
  snap.timers = ParseTimers(r.view(i++));
  if (!JsonToMessage(intake_json, &c.intake)) {
    return absl::InternalError(absl::StrCat("case ", c.id, ": stored intake does not parse"));
  }
  auto attribute_values = ParseStringMap(attributes);
  if (!attribute_values.has_value()) {
    return absl::InternalError(absl::StrCat("case ", c.id, ": stored attributes do not parse"));
  }
  snap.attributes = std::move(*attribute_values);
  std::optional<JsonValue> taken = ParseJson(actions);
  if (!taken.has_value() || taken->kind != JsonValue::Kind::kArray) {
    return absl::InternalError(absl::StrCat("case ", c.id, ": stored actions do not parse"));
  }
  for (const JsonValue& v : taken->items) {
    const std::vector<JsonValue>& a = v.items;
    if (a.size() != 7) continue;
    TakenAction t{std::string(a[0].str()), std::string(a[1].str()), std::string(a[2].str()),
                  std::string(a[3].str()), std::string(a[4].str()), absl::InfinitePast(), {}};
    long long us = 0;
    if (absl::SimpleAtoi(a[5].str(), &us)) t.at = FromMicros(us);
    for (const auto& [key, value] : a[6].members) t.fields[key] = std::string(value.str());
    c.actions.push_back(std::move(t));
  }
  for (absl::string_view entry : absl::StrSplit(petitioners, ',', absl::SkipEmpty())) {
    int position = 0;
    long long person = 0;
    const auto colon = entry.find(':');
    if (colon == absl::string_view::npos || !absl::SimpleAtoi(entry.substr(0, colon), &position) ||
        !absl::SimpleAtoi(entry.substr(colon + 1), &person)) {
      continue;
    }
    if (position >= 0 && position < c.intake.petitioners_size()) {
      c.intake.mutable_petitioners(position)->set_person_id(person);
    }
  }
  for (absl::string_view tn : absl::StrSplit(related, ',', absl::SkipEmpty())) {
    c.related_tracking_numbers.emplace_back(tn);
  }
  return c;
}

// A case by id (`tracking` empty) or by tracking number: one statement.
absl::StatusOr<CaseRecord> ReadCase(Conn& conn, int64_t id, const std::string& tracking) {
  Rows rows = tracking.empty() ? conn.Run(kSelectCaseById, {{"id", id}})
                               : conn.Run(kSelectCaseByTracking, {{"t", tracking}});
  if (rows.empty()) {
    return absl::NotFoundError(tracking.empty() ? absl::StrCat("case ", id, " not found")
                                                : absl::StrCat("case ", tracking, " not found"));
  }
  return ParseCase(rows[0]);
}

absl::Status RequestReused(const CaseRecord& rec) {
  return absl::AlreadyExistsError(absl::StrCat(
      "request_id: already used for a different petition (case ", rec.tracking_number,
      "): use a new request_id for a new petition"));
}

}  // namespace internal

namespace {

std::string Hex(const unsigned char* p, std::size_t n) {
  static constexpr char kDigits[] = "0123456789abcdef";
  std::string out(n * 2, '0');
  for (std::size_t i = 0; i < n; ++i) {
    out[2 * i] = kDigits[p[i] >> 4];
    out[2 * i + 1] = kDigits[p[i] & 15];
  }
  return out;
}

void AppendField(std::string* out, absl::string_view v) {
  absl::StrAppend(out, v.size(), ":", v, ";");
}

}  // namespace

std::string EventHash(const std::string& prev_hash, int64_t case_id, int seq,
                      const workflow::Event& event, const workflow::Actor& actor, absl::Time at) {
  std::string buf;
  AppendField(&buf, prev_hash);
  AppendField(&buf, absl::StrCat(case_id));
  AppendField(&buf, absl::StrCat(seq));
  AppendField(&buf, event.kind);
  AppendField(&buf, event.action);
  AppendField(&buf, event.from_state);
  AppendField(&buf, event.to_state);
  AppendField(&buf, actor.account);
  AppendField(&buf, absl::StrCat(static_cast<int>(actor.role)));
  AppendField(&buf, actor.unit);
  AppendField(&buf, absl::StrCat(ToMicros(at)));
  AppendField(&buf, event.note);
  AppendField(&buf, absl::StrCat(event.fields.size()));
  for (const auto& [k, v] : event.fields) {
    AppendField(&buf, k);
    AppendField(&buf, v);
  }
  return Sha256Hex(buf);
}

std::string Sha256Hex(const std::string& data) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(data.data()), data.size(), digest);
  return Hex(digest, sizeof digest);
}

}  // namespace xinfang::storage
