#include "services/common/documents.h"

#include "services/common/core.h"

#include <fstream>
#include <sstream>

#include "absl/strings/ascii.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_replace.h"
#include "absl/strings/str_split.h"
#include "absl/strings/strip.h"

namespace xinfang {
namespace {

constexpr char kHeaderStart[] = "<!-- xinfang document ";
constexpr size_t kMaxTemplateBytes = 256 * 1024;

// The names every template may use (docs/documents.md); field.<x> beside them.
const std::set<std::string>& KnownNames() {
  static const auto* names = new std::set<std::string>{
      "number",          "tracking_number", "title",          "issuer",
      "issued_date",     "recipient_unit",  "petitioner",     "petitioner_address",
      "received_date",   "channel",         "category",       "purpose",
      "summary",         "request",         "complained_about", "target_unit",
      "handling_due_date", "reply_due_date", "review_body",   "recheck_body",
      "review_days",     "recheck_days",    "evaluation_days", "note", "action"};
  return *names;
}

// The storage's tokens, left in place by Render.
bool IsStorageToken(const std::string& name) {
  return name == "number" || name == "tracking_number";
}

bool IsNameChar(char c) { return absl::ascii_isalnum(c) || c == '_' || c == '.'; }

struct Token {
  enum Kind { kText, kValue, kOpen, kClose, kInclude } kind = kText;
  char sigil = 0;     // kOpen: '#' or '^'
  std::string text;   // kText: the text; otherwise the name
  std::string value;  // kOpen with '#': the value after '=', if any
  std::string spec;   // kOpen/kClose: what follows the sigil, e.g. "field.outcome=support"
  int line = 0;
};

// Splits a template into tokens; problems as "line: message".
std::vector<Token> Tokenize(const std::string& text, int first_line,
                            std::vector<std::pair<int, std::string>>* problems) {
  std::vector<Token> out;
  int line = first_line;
  size_t pos = 0;
  while (pos < text.size()) {
    const size_t open = text.find("{{", pos);
    const size_t end_text = open == std::string::npos ? text.size() : open;
    if (end_text > pos) {
      Token t;
      t.text = text.substr(pos, end_text - pos);
      t.line = line;
      line += static_cast<int>(std::count(t.text.begin(), t.text.end(), '\n'));
      out.push_back(std::move(t));
    }
    if (open == std::string::npos) break;
    const size_t close = text.find("}}", open + 2);
    if (close == std::string::npos) {
      problems->push_back({line, "\"{{\" is never closed by \"}}\""});
      break;
    }
    std::string inner = text.substr(open + 2, close - open - 2);
    Token t;
    t.line = line;
    if (!inner.empty() && inner[0] == '>') {
      t.kind = Token::kInclude;
      t.text = inner.substr(1);
    } else if (!inner.empty() && (inner[0] == '#' || inner[0] == '^' || inner[0] == '/')) {
      const char sigil = inner[0];
      t.spec = inner.substr(1);
      t.kind = sigil == '/' ? Token::kClose : Token::kOpen;
      t.sigil = sigil;
      const size_t eq = t.spec.find('=');
      t.text = t.spec.substr(0, eq);
      if (eq != std::string::npos) {
        t.value = t.spec.substr(eq + 1);
        if (sigil == '^') problems->push_back({line, "{{^" + t.spec + "}}: a value is only for {{#"});
      }
    } else {
      t.kind = Token::kValue;
      t.text = inner;
    }
    if (t.text.empty() || !std::all_of(t.text.begin(), t.text.end(), IsNameChar)) {
      problems->push_back({line, absl::StrCat("\"{{", inner, "}}\" is not a name")});
    }
    out.push_back(std::move(t));
    pos = close + 2;
  }
  return out;
}

std::string Escape(const std::string& v) {
  std::string out;
  out.reserve(v.size());
  for (char c : v) {
    switch (c) {
      case '&': out += "&amp;"; break;
      case '<': out += "&lt;"; break;
      case '>': out += "&gt;"; break;
      case '"': out += "&quot;"; break;
      case '\'': out += "&#39;"; break;
      case '{': out += "&#123;"; break;  // never a token after rendering
      case '}': out += "&#125;"; break;
      default: out += c;
    }
  }
  return out;
}

const char* ChannelName(xinfang::v1::Channel c) {
  switch (c) {
    case xinfang::v1::CHANNEL_VISIT: return "来访";
    case xinfang::v1::CHANNEL_CALL: return "来电";
    case xinfang::v1::CHANNEL_LETTER: return "来信";
    case xinfang::v1::CHANNEL_ONLINE: return "网上信访";
    default: return "";
  }
}

const char* PurposeName(xinfang::v1::Purpose p) {
  switch (p) {
    case xinfang::v1::PURPOSE_CLAIM: return "求决";
    case xinfang::v1::PURPOSE_SUGGESTION: return "意见建议";
    case xinfang::v1::PURPOSE_APPEAL: return "申诉";
    case xinfang::v1::PURPOSE_ACCUSATION: return "揭发控告";
    case xinfang::v1::PURPOSE_OTHER: return "其他";
    default: return "";
  }
}

// Checks the names and sections of a template's (or a part's) tokens:
// problems as (line, message).
void Check(const std::vector<Token>& tokens, const std::set<std::string>& fields,
           std::vector<std::pair<int, std::string>>* found) {
  std::vector<const Token*> open;
  for (const Token& tok : tokens) {
    if (tok.kind == Token::kText || tok.kind == Token::kInclude) continue;
    if (tok.kind != Token::kClose) {
      const std::string& n = tok.text;
      const bool field = absl::StartsWith(n, "field.");
      if (field ? fields.count(n.substr(6)) == 0 : KnownNames().count(n) == 0) {
        found->push_back({tok.line, absl::StrCat("unknown name \"", n, "\"")});
      }
    }
    if (tok.kind == Token::kOpen) open.push_back(&tok);
    if (tok.kind == Token::kClose) {
      if (open.empty() || open.back()->spec != tok.spec) {
        found->push_back(
            {tok.line, absl::StrCat("{{/", tok.spec, "}} closes no open {{#", tok.spec, "}}")});
      } else {
        open.pop_back();
      }
    }
  }
  for (const Token* o : open) {
    found->push_back(
        {o->line, absl::StrCat("{{", std::string(1, o->sigil), o->spec, "}} is never closed")});
  }
}

// Moves `found`, sorted by line, into `problems` as "path:line: message".
void Report(const std::string& path, std::vector<std::pair<int, std::string>>* found,
            std::vector<std::string>* problems) {
  std::sort(found->begin(), found->end());
  for (const auto& [line, message] : *found) {
    problems->push_back(line > 0 ? absl::StrCat(path, ":", line, ": ", message)
                                 : absl::StrCat(path, ": ", message));
  }
  found->clear();
}

// A part (_<name>.html): its text after its first line,
// "<!-- xinfang document part <name> … -->".
bool ReadPart(const std::string& path, const std::string& name, std::string* text,
              std::vector<std::pair<int, std::string>>* found) {
  std::ifstream in(path, std::ios::binary);
  if (!in) {
    found->push_back({0, "missing (a part a template includes)"});
    return false;
  }
  std::stringstream buf;
  buf << in.rdbuf();
  const std::string file = buf.str();
  if (file.size() > kMaxTemplateBytes) {
    found->push_back({0, absl::StrCat("larger than ", kMaxTemplateBytes, " bytes")});
    return false;
  }
  const size_t nl = file.find('\n');
  const std::string first = file.substr(0, nl);
  const std::string header = absl::StrCat(kHeaderStart, "part ", name);
  if (!absl::StartsWith(first, header) || !absl::EndsWith(first, "-->") ||
      (first.size() > header.size() && first[header.size()] != ' ')) {
    found->push_back({1, absl::StrCat("the first line must begin \"", header, "\" and end \"-->\"")});
    return false;
  }
  *text = nl == std::string::npos ? "" : file.substr(nl + 1);
  return true;
}

}  // namespace

std::string ChineseDate(absl::CivilDay day) {
  return absl::StrCat(day.year(), "年", day.month(), "月", day.day(), "日");
}

absl::StatusOr<DocumentTemplates> DocumentTemplates::Load(
    const std::string& dir, const std::vector<const workflow::Definition*>& definitions) {
  // Each kind, and the fields its documents may name.
  std::map<std::string, std::set<std::string>> kinds;
  for (const workflow::Definition* def : definitions) {
    for (const auto& k : def->proto().documents()) {
      std::set<std::string>& fields = kinds[k.kind()];
      for (const auto& a : def->proto().actions()) {
        for (const auto& f : a.fields()) fields.insert(f.name());
      }
    }
  }
  DocumentTemplates out;
  std::vector<std::string> problems;
  for (const auto& [kind, fields] : kinds) {
    const std::string path = absl::StrCat(dir, "/", kind, ".html");
    std::ifstream in(path, std::ios::binary);
    if (!in) {
      problems.push_back(absl::StrCat(path, ": missing (the template of document kind ", kind, ")"));
      continue;
    }
    std::stringstream buf;
    buf << in.rdbuf();
    const std::string file = buf.str();
    if (file.size() > kMaxTemplateBytes) {
      problems.push_back(absl::StrCat(path, ": larger than ", kMaxTemplateBytes, " bytes"));
      continue;
    }
    Template t;
    t.kind = kind;
    const size_t nl = file.find('\n');
    const std::string first = file.substr(0, nl);
    t.text = nl == std::string::npos ? "" : file.substr(nl + 1);
    // <!-- xinfang document <kind> version <N> -->
    std::vector<std::string> words = absl::StrSplit(
        absl::StripSuffix(absl::StripPrefix(first, kHeaderStart), " -->"), ' ');
    if (!absl::StartsWith(first, kHeaderStart) || !absl::EndsWith(first, " -->") ||
        words.size() != 3 || words[1] != "version" || !absl::SimpleAtoi(words[2], &t.version) ||
        t.version < 1) {
      problems.push_back(absl::StrCat(path, ":1: the first line must be \"", kHeaderStart, kind,
                                      " version <N> -->\" (N from 1)"));
    } else if (words[0] != kind) {
      problems.push_back(absl::StrCat(path, ":1: names kind \"", words[0], "\", not \"", kind, "\""));
    }
    std::vector<std::pair<int, std::string>> found;
    const std::vector<Token> tokens = Tokenize(t.text, 2, &found);
    Check(tokens, fields, &found);
    Report(path, &found, &problems);
    // The parts it includes, each checked as itself, put in place.
    std::string expanded = t.text;
    for (const Token& tok : tokens) {
      if (tok.kind != Token::kInclude) continue;
      const std::string part_path = absl::StrCat(dir, "/_", tok.text, ".html");
      std::string part;
      if (!ReadPart(part_path, tok.text, &part, &found)) {
        if (found.empty()) found.push_back({0, "cannot be read"});
        Report(part_path, &found, &problems);
        continue;
      }
      std::vector<Token> part_tokens = Tokenize(part, 2, &found);
      for (const Token& inner : part_tokens) {
        if (inner.kind == Token::kInclude) {
          found.push_back({inner.line, absl::StrCat("{{>", inner.text, "}}: a part includes no part")});
        }
      }
      Check(part_tokens, fields, &found);
      Report(part_path, &found, &problems);
      expanded = absl::StrReplaceAll(expanded, {{absl::StrCat("{{>", tok.text, "}}"), part}});
    }
    t.text = std::move(expanded);
    t.sha256 = storage::Sha256Hex(absl::StrCat(first, "\n", t.text));
    out.templates_.emplace(kind, std::move(t));
  }
  if (!problems.empty()) {
    // A part's problem is found once per template that includes it: list it once.
    std::vector<std::string> once;
    std::set<std::string> seen;
    for (std::string& p : problems) {
      if (seen.insert(p).second) once.push_back(std::move(p));
    }
    return absl::InvalidArgumentError(absl::StrJoin(once, "\n"));
  }
  return out;
}

const DocumentTemplates::Template* DocumentTemplates::Find(const std::string& kind) const {
  auto it = templates_.find(kind);
  return it == templates_.end() ? nullptr : &it->second;
}

absl::StatusOr<std::string> DocumentTemplates::Render(
    const std::string& kind, const std::map<std::string, std::string>& values) const {
  const Template* t = Find(kind);
  if (t == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("no template is loaded for document kind ", kind));
  }
  std::vector<std::pair<int, std::string>> problems;
  const std::vector<Token> tokens = Tokenize(t->text, 2, &problems);
  auto value = [&](const std::string& name) -> std::string {
    auto it = values.find(name);
    return it == values.end() ? "" : it->second;
  };
  std::string out;
  // Sections nest; `hidden` counts the enclosing sections that are off.
  std::vector<bool> shown;
  int hidden = 0;
  for (const Token& tok : tokens) {
    switch (tok.kind) {
      case Token::kText:
        if (hidden == 0) out += tok.text;
        break;
      case Token::kValue:
        if (hidden > 0) break;
        if (IsStorageToken(tok.text)) {
          absl::StrAppend(&out, "{{", tok.text, "}}");
        } else {
          out += Escape(value(tok.text));
        }
        break;
      case Token::kOpen: {
        const std::string v = value(tok.text);
        bool on = tok.sigil == '^' ? v.empty()
                                   : (tok.spec.find('=') == std::string::npos ? !v.empty()
                                                                             : v == tok.value);
        shown.push_back(on);
        if (!on) ++hidden;
        break;
      }
      case Token::kInclude:  // put in place at load
        break;
      case Token::kClose:
        if (!shown.empty()) {
          if (!shown.back()) --hidden;
          shown.pop_back();
        }
        break;
    }
  }
  return out;
}

std::map<std::string, std::string> DocumentValues(const workflow::Decision& decision,
                                                  const workflow::DocumentDue& due,
                                                  const DocumentFacts& facts) {
  const workflow::CaseSnapshot& n = decision.next;
  const workflow::Definition& def = facts.engine->definition();
  const std::map<std::string, std::string>& names = *facts.names;
  std::map<std::string, std::string> v;
  // Values recorded by earlier actions, then this action's own.
  for (const auto& [k, x] : n.attributes) v["field." + k] = x;
  const workflow::Event& event = decision.events.at(due.event);
  for (const auto& [k, x] : event.fields) v["field." + k] = x;
  v["note"] = event.note;
  v["action"] = event.action;
  if (const auto* kind = def.FindDocument(due.kind)) v["title"] = kind->title();
  const std::string issuer = facts.actor.unit.empty() ? n.responsible_unit : facts.actor.unit;
  v["issuer"] = NameOf(names, "unit", issuer);
  v["issued_date"] = ChineseDate(absl::ToCivilDay(facts.now, facts.zone));
  v["recipient_unit"] = NameOf(names, "unit", n.responsible_unit);
  auto target = event.fields.find("target_unit");
  if (target != event.fields.end()) v["target_unit"] = NameOf(names, "unit", target->second);
  if (facts.intake != nullptr) {
    const xinfang::v1::CaseIntake& in = *facts.intake;
    std::vector<std::string> people;
    for (const auto& p : in.petitioners()) people.push_back(p.name());
    v["petitioner"] = absl::StrJoin(people, "、");
    if (in.petitioners_size() > 0) v["petitioner_address"] = in.petitioners(0).address();
    v["channel"] = ChannelName(in.channel());
    v["purpose"] = PurposeName(in.purpose());
    v["category"] = NameOf(names, "category", in.category());
    v["summary"] = in.summary();
    v["request"] = in.request();
    v["complained_about"] = in.complained_about();
  }
  v["received_date"] = ChineseDate(absl::ToCivilDay(n.received_at, facts.zone));
  for (const workflow::TimerState& t : n.timers) {
    if (t.purpose == xinfang::v1::TIMER_PURPOSE_HANDLING) {
      v["handling_due_date"] = ChineseDate(t.deadline.due_day);
    } else if (t.purpose == xinfang::v1::TIMER_PURPOSE_NOTICE_REPLY) {
      v["reply_due_date"] = ChineseDate(t.deadline.due_day);
    }
  }
  // The relief path: where review and re-check go (the engine decides) and
  // the windows' lengths (the definition's).
  if (auto body = workflow::ReviewBody(n, *facts.org); body.ok()) {
    v["review_body"] = NameOf(names, "unit", *body);
  }
  if (!n.review_unit.empty()) {
    if (auto body = workflow::RecheckBody(n, *facts.org); body.ok()) {
      v["recheck_body"] = NameOf(names, "unit", *body);
    }
  }
  const std::pair<xinfang::v1::TimerPurpose, const char*> windows[] = {
      {xinfang::v1::TIMER_PURPOSE_REVIEW_REQUEST, "review_days"},
      {xinfang::v1::TIMER_PURPOSE_RECHECK_REQUEST, "recheck_days"},
      {xinfang::v1::TIMER_PURPOSE_EVALUATION, "evaluation_days"}};
  for (const auto& [purpose, name] : windows) {
    if (const xinfang::v1::Timer* t = def.TimerFor(purpose)) v[name] = absl::StrCat(t->length());
  }
  return v;
}

absl::StatusOr<std::vector<storage::DocumentDraft>> DraftDocuments(
    const DocumentTemplates& templates, const workflow::Decision& decision,
    const DocumentFacts& facts) {
  std::vector<storage::DocumentDraft> out;
  for (const workflow::DocumentDue& due : decision.documents) {
    const auto* kind = facts.engine->definition().FindDocument(due.kind);
    const DocumentTemplates::Template* t = templates.Find(due.kind);
    if (kind == nullptr || t == nullptr) {
      return absl::FailedPreconditionError(
          absl::StrCat("no template is loaded for document kind ", due.kind));
    }
    std::map<std::string, std::string> values = DocumentValues(decision, due, facts);
    auto body = templates.Render(due.kind, values);
    if (!body.ok()) return body.status();
    storage::DocumentDraft d;
    d.kind = kind->kind();
    d.title = kind->title();
    d.recipient = static_cast<int>(kind->recipient());
    d.unit = facts.actor.unit.empty() ? decision.next.responsible_unit : facts.actor.unit;
    d.year = static_cast<int>(absl::ToCivilYear(facts.now, facts.zone).year());
    d.series = kind->series();
    d.number_prefix = absl::StrCat(values["issuer"], kind->series(), "〔", d.year, "〕");
    d.number_suffix = "号";
    d.template_version = t->version;
    d.template_sha256 = t->sha256;
    d.body = std::move(*body);
    d.event = due.event;
    out.push_back(std::move(d));
  }
  return out;
}

}  // namespace xinfang
