// The written documents (文书) the procedure issues: their templates, and
// the drafts a change hands to storage.
//
// A template is one HTML file per document kind, <data dir>/documents/
// <kind>.html; an office may replace the text. Its first line names it:
//   <!-- xinfang document <kind> version <N> -->
// and a new text of a kind takes the next version: each document records the
// version and the SHA-256 of the template it was made from. In the text:
//   {{name}}                  the value, HTML-escaped
//   {{#name}}…{{/name}}       shown when the value is not empty
//   {{^name}}…{{/name}}       shown when it is empty
//   {{#name=v}}…{{/name=v}}   shown when the value is v (a choice)
//   {{>part}}                 the part _part.html of the same directory (its
//                             first line "<!-- xinfang document part part … -->"),
//                             put in place at load: the letterhead, the styles
// The names are listed in docs/documents.md: the document's own (number,
// title, issuer, issued_date), the case's (tracking_number, petitioner,
// received_date, summary …), the deadlines and relief path (review_body,
// review_days …) and field.<name> for a value an action recorded.
//
// Loading checks every template a loaded definition needs, and lists every
// problem with its file and line: a missing file, a wrong first line, an
// unknown name, an unclosed section.
//
// Thread-safety: immutable after Load.
#ifndef XINFANG_SERVICES_COMMON_DOCUMENTS_H_
#define XINFANG_SERVICES_COMMON_DOCUMENTS_H_

#include <map>
#include <memory>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/storage/case_store.h"
#include "workflow/engine.h"
#include "xinfang/v1/case.pb.h"

namespace xinfang {

class DocumentTemplates {
 public:
  struct Template {
    std::string kind;
    int version = 0;
    std::string sha256;  // of its first line and its text with the parts in place
    std::string text;    // without its first line, the parts in place
  };

  // Loads <dir>/<kind>.html for each document kind of `definitions`; a name
  // field.<x> must be a field of an action of a definition that has the kind.
  static absl::StatusOr<DocumentTemplates> Load(
      const std::string& dir, const std::vector<const workflow::Definition*>& definitions);

  const Template* Find(const std::string& kind) const;

  // The template of `kind` filled with `values` (a name not given renders
  // empty). The tokens {{number}} and {{tracking_number}} stay as they are:
  // storage fills them when it numbers the document.
  absl::StatusOr<std::string> Render(const std::string& kind,
                                     const std::map<std::string, std::string>& values) const;

 private:
  std::map<std::string, Template> templates_;
};

// What a document is filled with, beside the decision itself.
struct DocumentFacts {
  const xinfang::v1::CaseIntake* intake = nullptr;
  const workflow::Engine* engine = nullptr;
  const workflow::OrgTree* org = nullptr;
  const std::map<std::string, std::string>* names = nullptr;  // Core::Names
  workflow::Actor actor;
  absl::Time now;
  absl::TimeZone zone;
};

// The values of the names a template may use, for the document `due` of
// `decision` (docs/documents.md lists them).
std::map<std::string, std::string> DocumentValues(const workflow::Decision& decision,
                                                  const workflow::DocumentDue& due,
                                                  const DocumentFacts& facts);

// A draft per document the decision issues, rendered and ready for the
// store (storage::DocumentDraft). FAILED_PRECONDITION when a kind has no
// template loaded.
absl::StatusOr<std::vector<storage::DocumentDraft>> DraftDocuments(
    const DocumentTemplates& templates, const workflow::Decision& decision,
    const DocumentFacts& facts);

// "2026年11月30日".
std::string ChineseDate(absl::CivilDay day);

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_DOCUMENTS_H_
