// The case store's reads of single cases: a case (one statement), its
// history, its hash chain checked, a petitioner's earlier cases.
#include "services/storage/case_store.h"

#include <algorithm>
#include <map>
#include <set>
#include <utility>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "services/storage/case_rows.h"
#include "services/storage/sql_array.h"

namespace xinfang::storage {
namespace {

using namespace internal;  // NOLINT: the store's shared row readers (case_rows.h)
using workflow::CaseSnapshot;
using workflow::TimerState;

const Sql kSelectEvents{
    "SELECT " XF_EVENT_COLUMNS " FROM case_events e WHERE e.case_id = :id ORDER BY e.seq"};
const Sql kDocumentSeals{
    "SELECT event_seq, number, body, sha256 FROM documents WHERE case_id = :id ORDER BY id"};
const Sql kCaseExists{"SELECT id FROM cases WHERE id = :id"};
const Sql kEarlierCases{R"sql(
  SELECT cp.case_id FROM persons ps
    JOIN case_petitioners cp ON cp.person_id = ps.id AND cp.category = :category
    JOIN cases c ON c.id = cp.case_id
   WHERE ((:idn <> '' AND ps.id_number = :idn) OR (:idn = '' AND ps.name = :name AND ps.phone = :phone))
     AND ((NOT c.final
           AND (c.responsible_unit = ANY (CAST(:below AS text[]))
                OR c.review_unit = ANY (CAST(:below AS text[]))
                OR c.recheck_unit = ANY (CAST(:below AS text[]))))
          OR position(',final_after_recheck,' IN ',' || c.flags || ',') > 0)
   ORDER BY cp.case_id DESC LIMIT :lim)sql"};

}  // namespace

absl::StatusOr<CaseRecord> CaseStore::Get(int64_t id) {
  return WithConn(pool_, "reading a case", [&](Conn& c) { return ReadCase(c, id, ""); });
}

absl::StatusOr<CaseRecord> CaseStore::GetByTracking(const std::string& tracking_number) {
  return WithConn(pool_, "reading a case", [&](Conn& c) {
    return ReadCase(c, 0, tracking_number);
  });
}

absl::StatusOr<std::optional<CaseRecord>> CaseStore::FindReplay(const std::string& request_id,
                                                                const std::string& request_hash) {
  return WithConn(pool_, "looking up a request id",
                  [&](Conn& c) -> absl::StatusOr<std::optional<CaseRecord>> {
                    Rows found = c.Run(kFindRequest, {{"r", request_id}});
                    if (found.empty()) return std::optional<CaseRecord>();
                    auto rec = ReadCase(c, found[0].i64(0), "");
                    if (!rec.ok()) return rec.status();
                    if (found[0].str(1) != request_hash) return RequestReused(*rec);
                    return std::optional<CaseRecord>(std::move(*rec));
                  });
}

absl::StatusOr<std::vector<StoredEvent>> CaseStore::History(int64_t id) {
  return WithConn(pool_, "reading a case's history",
                  [&](Conn& c) -> absl::StatusOr<std::vector<StoredEvent>> {
                    if (c.Run(kCaseExists, {{"id", id}}).empty()) {
                      return absl::NotFoundError(absl::StrCat("case ", id, " not found"));
                    }
                    std::vector<StoredEvent> out;
                    for (Row r : c.Run(kSelectEvents, {{"id", id}})) out.push_back(ReadEvent(r, 0));
                    return out;
                  });
}
absl::StatusOr<VerifyResult> CaseStore::Verify(int64_t id) {
  auto rec = Get(id);
  if (!rec.ok()) return rec.status();
  auto history = History(id);
  if (!history.ok()) return history.status();
  VerifyResult result;
  result.events = static_cast<int64_t>(history->size());
  std::string prev;
  int expected_seq = 1;
  for (const StoredEvent& e : *history) {
    std::string problem;
    if (e.seq != expected_seq) {
      problem = absl::StrCat("sequence gap: expected event ", expected_seq, ", found ", e.seq);
    } else if (e.prev_hash != prev) {
      problem = "its recorded previous hash does not match the event before it";
    } else if (EventHash(prev, e.case_id, e.seq, e.event, e.actor, e.at) != e.hash) {
      problem = "its content does not match its hash";
    }
    if (!problem.empty()) {
      result.intact = false;
      result.first_broken_seq = e.seq;
      result.detail = absl::StrCat("event ", e.seq, " (", e.event.kind, "): ", problem);
      return result;
    }
    prev = e.hash;
    ++expected_seq;
  }
  // The case row records the head of its history: a missing tail is caught.
  const int last = expected_seq - 1;
  if (last != rec->head_seq || prev != rec->head_hash) {
    result.intact = false;
    result.first_broken_seq = std::min(last, rec->head_seq) + 1;
    result.detail = absl::StrCat("the history ends at event ", last,
                                 " but the case records event ", rec->head_seq,
                                 " as its last: events are missing or were replaced");
    return result;
  }
  // Each written document matches the hash its issuing event recorded.
  auto seals = WithConn(pool_, "reading a case's documents",
                        [&](Conn& c) -> absl::StatusOr<Rows> {
                          return c.Run(kDocumentSeals, {{"id", id}});
                        });
  if (!seals.ok()) return seals.status();
  for (Row r : *seals) {
    const int seq = r.i32(0);
    const std::string number = r.str(1);
    std::string problem;
    if (Sha256Hex(r.str(2)) != r.str(3)) {
      problem = "its text does not match its recorded hash";
    } else if (seq < 1 || seq > static_cast<int>(history->size())) {
      problem = absl::StrCat("it names event ", seq, ", which the history does not have");
    } else {
      const auto& fields = (*history)[seq - 1].event.fields;
      auto n = fields.find("document_number");
      auto h = fields.find("document_sha256");
      if (n == fields.end() || n->second != number || h == fields.end() || h->second != r.str(3)) {
        problem = absl::StrCat("event ", seq, " does not record it");
      }
    }
    if (!problem.empty()) {
      result.intact = false;
      result.first_broken_seq = seq;
      result.detail = absl::StrCat("document ", number, ": ", problem);
      return result;
    }
  }
  return result;
}

absl::StatusOr<std::vector<CaseRecord>> CaseStore::CasesOfPetitioners(
    const std::vector<xinfang::v1::Petitioner>& petitioners, const std::string& category,
    const std::vector<std::string>& units_below, int limit) {
  return WithConn(
      pool_, "finding the petitioner's earlier cases",
      [&](Conn& conn) -> absl::StatusOr<std::vector<CaseRecord>> {
        std::set<int64_t> ids;
        SqlArray below_units;
        for (const std::string& u : units_below) below_units.AddText(u);
        const std::string below = below_units.Literal();
        for (const xinfang::v1::Petitioner& p : petitioners) {
          if (p.id_number().empty() && p.phone().empty()) continue;
          for (Row r : conn.Run(kEarlierCases, {{"category", category},
                                                {"idn", p.id_number()},
                                                {"name", p.name()},
                                                {"phone", p.phone()},
                                                {"below", below},
                                                {"lim", limit}})) {
            ids.insert(r.i64(0));
          }
        }
        std::vector<CaseRecord> out;
        for (auto it = ids.rbegin(); it != ids.rend() && static_cast<int>(out.size()) < limit;
             ++it) {
          auto rec = ReadCase(conn, *it, "");
          if (!rec.ok()) return rec.status();
          out.push_back(std::move(*rec));
        }
        return out;
      });
}

}  // namespace xinfang::storage
