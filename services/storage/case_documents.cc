// The case store's written documents (migration 0021): a case's list, one
// document by its number, and the numbering and sealing a change does
// inside its transaction (case_writes.cc).
#include "services/storage/case_documents.h"

#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "services/storage/case_rows.h"
#include "services/storage/case_store.h"

namespace xinfang::storage {
namespace {

using namespace internal;  // NOLINT: the store's shared row readers (case_rows.h)

#define XF_DOCUMENT_COLUMNS                                                                      \
  "d.case_id, c.tracking_number, d.event_seq, d.kind, d.title, d.recipient, d.unit, d.year, "  \
  "d.series, d.seq, d.number, xf_us(d.issued_at), d.issued_by, d.template_version, "           \
  "d.template_sha256, d.sha256, d.action"

const Sql kCaseDocuments{"SELECT " XF_DOCUMENT_COLUMNS ", '' FROM documents d "
                         "JOIN cases c ON c.id = d.case_id WHERE d.case_id = :id ORDER BY d.id"};
const Sql kDocumentByNumber{"SELECT " XF_DOCUMENT_COLUMNS ", d.body FROM documents d "
                            "JOIN cases c ON c.id = d.case_id WHERE d.number = :number"};

// The series' next number, its row locked until the change commits.
const Sql kNextInSeries{R"sql(
  INSERT INTO document_series AS s (unit, year, series, last) VALUES (:unit, :year, :series, 1)
  ON CONFLICT (unit, year, series) DO UPDATE SET last = s.last + 1
  RETURNING last)sql"};

const Sql kInsertDocument{R"sql(
  INSERT INTO documents (case_id, event_seq, action, kind, title, recipient, unit, year, series, seq,
                         number, issued_at, issued_by, template_version, template_sha256, body,
                         sha256)
  VALUES (:c, :event_seq, :action, :kind, :title, :recipient, :unit, :year, :series, :seq, :number,
          xf_ts(:at), :by, :tv, :tsha, :body, :sha))sql"};

DocumentRow ReadDocument(Row r) {
  DocumentRow d;
  d.case_id = r.i64(0);
  d.tracking_number = r.str(1);
  d.event_seq = r.i32(2);
  d.kind = r.str(3);
  d.title = r.str(4);
  d.recipient = r.i32(5);
  d.unit = r.str(6);
  d.year = r.i32(7);
  d.series = r.str(8);
  d.seq = r.i32(9);
  d.number = r.str(10);
  d.issued_at = FromMicros(r.i64(11));
  d.issued_by = r.str(12);
  d.template_version = r.i32(13);
  d.template_sha256 = r.str(14);
  d.sha256 = r.str(15);
  d.action = r.str(16);
  d.body = r.str(17);
  return d;
}

}  // namespace

namespace internal {

std::vector<int> QueueNumbering(Conn::Pipeline& p, const std::vector<DocumentDraft>& drafts) {
  std::vector<int> at;
  for (const DocumentDraft& d : drafts) {
    at.push_back(p.Add(kNextInSeries, {{"unit", d.unit}, {"year", d.year}, {"series", d.series}}));
  }
  return at;
}

absl::StatusOr<std::vector<SealedDocument>> Seal(const std::vector<DocumentDraft>& drafts,
                                                 const std::vector<Rows>& results,
                                                 const std::vector<int>& at,
                                                 const std::string& tracking_number,
                                                 int head_seq,
                                                 std::vector<workflow::Event>* events) {
  std::vector<SealedDocument> out;
  for (size_t k = 0; k < drafts.size(); ++k) {
    const DocumentDraft& d = drafts[k];
    if (d.event >= events->size()) {
      return absl::InternalError(absl::StrCat("document ", d.kind, " names event ", d.event,
                                              " of a change with ", events->size()));
    }
    SealedDocument s;
    s.draft = &d;
    s.seq = results[at[k]][0].i32(0);
    s.number = absl::StrCat(d.number_prefix, s.seq, d.number_suffix);
    s.body = absl::StrReplaceAll(
        d.body, {{kDocumentNumberToken, s.number}, {kTrackingNumberToken, tracking_number}});
    s.sha256 = Sha256Hex(s.body);
    s.event_seq = head_seq + static_cast<int>(d.event) + 1;
    workflow::Event& e = (*events)[d.event];
    s.action = e.action;
    e.fields["document_number"] = s.number;
    e.fields["document_sha256"] = s.sha256;
    out.push_back(std::move(s));
  }
  return out;
}

void QueueInsert(Conn::Pipeline& p, int64_t case_id, const SealedDocument& s,
                 const std::string& issued_by, int64_t at_us) {
  const DocumentDraft& d = *s.draft;
  p.Add(kInsertDocument, {{"c", case_id},
                          {"event_seq", s.event_seq},
                          {"action", s.action},
                          {"kind", d.kind},
                          {"title", d.title},
                          {"recipient", d.recipient},
                          {"unit", d.unit},
                          {"year", d.year},
                          {"series", d.series},
                          {"seq", s.seq},
                          {"number", s.number},
                          {"at", at_us},
                          {"by", issued_by},
                          {"tv", d.template_version},
                          {"tsha", d.template_sha256},
                          {"body", s.body},
                          {"sha", s.sha256}});
}

}  // namespace internal

absl::StatusOr<std::vector<DocumentRow>> CaseStore::Documents(int64_t case_id) {
  return WithConn(pool_, "reading a case's documents",
                  [&](Conn& conn) -> absl::StatusOr<std::vector<DocumentRow>> {
                    std::vector<DocumentRow> out;
                    for (Row r : conn.Run(kCaseDocuments, {{"id", case_id}})) {
                      out.push_back(ReadDocument(r));
                    }
                    return out;
                  });
}

absl::StatusOr<DocumentRow> CaseStore::Document(const std::string& number) {
  return WithConn(pool_, "reading a document", [&](Conn& conn) -> absl::StatusOr<DocumentRow> {
    Rows rows = conn.Run(kDocumentByNumber, {{"number", number}});
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("no document ", number));
    return ReadDocument(rows[0]);
  });
}

}  // namespace xinfang::storage
