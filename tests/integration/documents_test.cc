// The written documents (文书, issue 15): issued by the procedure's actions,
// numbered per unit, year and series without gaps, stored unchangeable with
// their hash in the history, read by staff (CaseQueryService) and by the
// petitioner (PublicService), over real gRPC against a real PostgreSQL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <set>
#include <thread>

#include "absl/strings/str_cat.h"
#include "soci/soci.h"
#include "services/common/documents.h"
#include "tests/testing/petitions.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"
#include "xinfang/v1/public.grpc.pb.h"

namespace xinfang {
namespace {

namespace v1 = xinfang::v1;
using testing::Monday;
using testing::Caller;
using testing::FromGrpc;
using ::testing::AllOf;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::IsOk;
using ::testing::IsEmpty;
using ::testing::Not;
using testing::StatusIs;
using testing::TestServer;

const Caller kClerk{"clerk1", "intake_clerk", "prov.organs.office"};
const Caller kOfficer{"officer1", "case_officer", "prov.organs.office"};
const Caller kHead{"head1", "unit_head", "prov.organs.office"};
const Caller kSupervisor{"sup1", "supervisor", "prov"};
const Caller kEduClerk{"educlerk", "intake_clerk", "prov.organs.edu"};
const Caller kOrgansClerk{"organsclerk", "intake_clerk", "prov.organs"};
const Caller kNobody{"", "", ""};
const char kOffice[] = "省直机关工会信访办公室";

// The usual petition, its summary with markup the documents must escape;
// 张三 gives an address instead of numbers, or no name at all.
v1::RegisterCaseRequest Visit(const std::string& request_id, bool anonymous = false) {
  v1::RegisterCaseRequest r = testing::WagesVisit(request_id);
  v1::CaseIntake* in = r.mutable_intake();
  in->set_summary("某公司拖欠三个月工资<b>");
  in->set_anonymous(anonymous);
  in->clear_petitioners();
  if (!anonymous) {
    v1::Petitioner* p = in->add_petitioners();
    p->set_name("张三");
    p->set_address("某市某区某路1号");
  }
  return r;
}

class DocumentsTest : public ::testing::Test {
 protected:
  DocumentsTest() : server_(Monday(), true, [](ServerConfig& c) {
                      c.public_lookups_per_number = 60;
                      c.public_lookups_per_address = 60;
                    }) {
    server_.TokenFor(kOfficer);
  }

  std::pair<std::string, std::string> Register(const std::string& request_id,
                                               bool anonymous = false,
                                               const Caller& who = kClerk) {
    auto r = server_.Register(Visit(request_id, anonymous), who);
    EXPECT_THAT(r, IsOk());
    if (!r.ok()) return {};
    return {r->case_().tracking_number(), r->query_code().code()};
  }

  absl::StatusOr<std::vector<v1::Document>> List(const std::string& tracking,
                                                 const Caller& who = kClerk) {
    auto stub = server_.query();
    auto ctx = server_.Context(who);
    v1::ListDocumentsRequest req;
    req.mutable_case_()->set_tracking_number(tracking);
    v1::ListDocumentsResponse resp;
    grpc::Status s = stub->ListDocuments(ctx.get(), req, &resp);
    if (!s.ok()) return FromGrpc(s);
    return std::vector<v1::Document>(resp.documents().begin(), resp.documents().end());
  }

  absl::StatusOr<v1::Document> Get(const std::string& number, const Caller& who = kClerk) {
    auto stub = server_.query();
    auto ctx = server_.Context(who);
    v1::GetDocumentRequest req;
    req.set_number(number);
    v1::Document resp;
    grpc::Status s = stub->GetDocument(ctx.get(), req, &resp);
    if (!s.ok()) return FromGrpc(s);
    return resp;
  }

  absl::StatusOr<v1::GetPublicStatusResponse> PublicStatus(const std::string& tracking,
                                                           const std::string& code) {
    return server_.PublicStatus(tracking, code);
  }

  absl::StatusOr<v1::PublicDocument> PublicDocument(const std::string& tracking,
                                                    const std::string& code,
                                                    const std::string& number) {
    v1::PublicService::Stub stub(server_.channel());
    auto ctx = server_.Context(kNobody);
    v1::GetPublicDocumentRequest req;
    req.set_tracking_number(tracking);
    req.set_query_code(code);
    req.set_number(number);
    v1::PublicDocument resp;
    grpc::Status s = stub.GetPublicDocument(ctx.get(), req, &resp);
    if (!s.ok()) return FromGrpc(s);
    return resp;
  }

  std::map<std::string, std::string> EventFields(const std::string& tracking, int seq) {
    auto stub = server_.query();
    auto ctx = server_.Context(kClerk);
    v1::GetHistoryRequest req;
    req.mutable_case_()->set_tracking_number(tracking);
    v1::GetHistoryResponse resp;
    EXPECT_TRUE(stub->GetHistory(ctx.get(), req, &resp).ok());
    for (const auto& e : resp.events()) {
      if (e.seq() == seq) return {e.fields().begin(), e.fields().end()};
    }
    return {};
  }

  TestServer server_;
};

TEST_F(DocumentsTest, AcceptanceIssuesANumberedSealedNotice) {
  const auto [tracking, code] = Register("doc-0001");
  auto accepted = server_.Act(tracking, "accept", kClerk, {{"notice", "请保持电话畅通"}});
  ASSERT_THAT(accepted, IsOk());
  auto docs = List(tracking);
  ASSERT_THAT(docs, IsOk());
  ASSERT_EQ(docs->size(), 1u);
  const v1::Document& d = (*docs)[0];
  EXPECT_EQ(d.kind(), "acceptance_notice");
  EXPECT_EQ(d.title(), "受理告知书");
  EXPECT_EQ(d.number(), absl::StrCat(kOffice, "信受〔2026〕1号"));
  EXPECT_EQ(d.recipient(), v1::DOCUMENT_RECIPIENT_PETITIONER);
  EXPECT_EQ(d.unit(), "prov.organs.office");
  EXPECT_EQ(d.unit_name(), kOffice);
  EXPECT_EQ(d.issued_by(), "clerk1");
  EXPECT_EQ(d.event_seq(), 2);
  EXPECT_EQ(d.template_version(), 1);
  EXPECT_TRUE(d.html().empty());  // the list carries no text

  auto full = Get(d.number());
  ASSERT_THAT(full, IsOk());
  const std::string& html = full->html();
  EXPECT_THAT(html, HasSubstr(d.number()));
  EXPECT_THAT(html, HasSubstr(tracking));
  EXPECT_THAT(html, HasSubstr("张三："));
  EXPECT_THAT(html, HasSubstr("2026年3月2日以来访方式"));
  // 60 days from 2026-03-02 end on 5/1, a holiday (5/1–5/5): rolled to 5/6.
  EXPECT_THAT(html, HasSubstr("办理期限至2026年5月6日"));
  EXPECT_THAT(html, HasSubstr("请保持电话畅通"));
  EXPECT_THAT(html, HasSubstr("拖欠三个月工资&lt;b&gt;"));  // the petitioner's words escaped
  EXPECT_THAT(html, Not(HasSubstr("{{")));
  EXPECT_THAT(html, HasSubstr("@page { size: A4"));
  EXPECT_EQ(full->sha256(), storage::Sha256Hex(html));
  EXPECT_EQ(full->sha256(), d.sha256());
  // The issuing event records number and hash, and the history verifies.
  const auto fields = EventFields(tracking, 2);
  EXPECT_EQ(fields.at("document_number"), d.number());
  EXPECT_EQ(fields.at("document_sha256"), d.sha256());
  auto verified = server_.core().store().Verify(accepted->id());
  ASSERT_THAT(verified, IsOk());
  EXPECT_TRUE(verified->intact) << verified->detail;
}

TEST_F(DocumentsTest, NumbersRunPerUnitYearAndSeriesWithoutGaps) {
  std::vector<std::string> cases;
  for (int i = 0; i < 3; ++i) {
    // The second at the organs' union, which forwards it to a unit below.
    cases.push_back(Register(absl::StrCat("doc-gap-", i), false, i == 1 ? kOrgansClerk : kClerk)
                        .first);
  }
  ASSERT_THAT(server_.Act(cases[0], "accept", kClerk), IsOk());
  ASSERT_THAT(
      server_.Act(cases[1], "forward", kOrgansClerk, {{"target_unit", "prov.organs.edu"}}),
      IsOk());  // 转送告知书: its own unit and series, from 1
  {
    // A change that loses the store's version check (a race after the
    // read) has drawn its number inside the transaction: it gives it back.
    Core& core = server_.core();
    auto rec = core.store().GetByTracking(cases[2]);
    ASSERT_THAT(rec, IsOk());
    const workflow::Engine* engine =
        core.EngineFor(rec->snapshot.workflow, rec->snapshot.workflow_version);
    ASSERT_NE(engine, nullptr);
    auto org = core.Org();
    ASSERT_THAT(org, IsOk());
    const workflow::Actor clerk{"clerk1", v1::ROLE_INTAKE_CLERK, "prov.organs.office"};
    const absl::Time now = core.clock().Now();
    auto decision = engine->Apply(rec->snapshot, {"accept", {}, "", {}}, clerk, now, **org);
    ASSERT_THAT(decision, IsOk());
    auto drafts = core.DraftDocuments(*engine, *decision, rec->intake, clerk, now);
    ASSERT_THAT(drafts, IsOk());
    ASSERT_EQ(drafts->size(), 1u);
    EXPECT_THAT(core.store().Apply(rec->id, rec->version + 1, *decision, clerk, now, *drafts),
                StatusIs(absl::StatusCode::kAborted));
  }
  ASSERT_THAT(server_.Act(cases[2], "accept", kClerk), IsOk());
  // The forwarded case is accepted by the unit that received it: its own numbers.
  ASSERT_THAT(server_.Act(cases[1], "accept", kEduClerk), IsOk());

  auto number = [&](const std::string& tracking, const std::string& kind) {
    auto docs = List(tracking, Caller{"sup1", "supervisor", "prov"});
    EXPECT_THAT(docs, IsOk());
    for (const auto& d : *docs) {
      if (d.kind() == kind) return d.number();
    }
    return std::string("none");
  };
  EXPECT_EQ(number(cases[0], "acceptance_notice"), absl::StrCat(kOffice, "信受〔2026〕1号"));
  EXPECT_EQ(number(cases[2], "acceptance_notice"), absl::StrCat(kOffice, "信受〔2026〕2号"));
  EXPECT_EQ(number(cases[1], "transfer_notice"), "省直机关工会信转〔2026〕1号");
  EXPECT_EQ(number(cases[1], "acceptance_notice"), "省教育厅机关工会信受〔2026〕1号");
}

TEST_F(DocumentsTest, ConcurrentIssuesTakeEachNumberOnce) {
  constexpr int kCases = 12;
  std::vector<std::string> cases;
  for (int i = 0; i < kCases; ++i) cases.push_back(Register(absl::StrCat("doc-race-", i)).first);
  std::vector<std::thread> threads;
  std::atomic<int> ok{0};
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&, t] {
      for (int i = t; i < kCases; i += 4) {
        if (server_.Act(cases[i], "accept", kClerk).ok()) ++ok;
      }
    });
  }
  for (auto& t : threads) t.join();
  ASSERT_EQ(ok.load(), kCases);
  const std::string seqs = server_.db().Query(
      "SELECT string_agg(seq::text, ',' ORDER BY seq) FROM documents WHERE series = '信受'");
  std::string expected;
  for (int i = 1; i <= kCases; ++i) absl::StrAppend(&expected, i == 1 ? "" : ",", i);
  EXPECT_EQ(seqs, expected);
}

TEST_F(DocumentsTest, StoredDocumentsNeverChangeAndTamperingIsCaught) {
  const auto [tracking, code] = Register("doc-seal-0001");
  auto accepted = server_.Act(tracking, "accept", kClerk);
  ASSERT_THAT(accepted, IsOk());
  {
    auto lease = server_.core().pool().Acquire();
    ASSERT_THAT(lease, IsOk());
    for (const char* sql : {"UPDATE documents SET body = 'x'", "DELETE FROM documents",
                            "TRUNCATE documents"}) {
      bool refused = false;
      try {
        lease->session() << std::string(sql);
      } catch (const std::exception& e) {
        refused = std::string(e.what()).find("never changed or removed") != std::string::npos;
      }
      EXPECT_TRUE(refused) << sql;
    }
  }
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM documents"), "1");
  // Someone with the table owner's rights goes past the trigger: the
  // history check names the document.
  server_.db().Exec("ALTER TABLE documents DISABLE TRIGGER documents_unchangeable");
  server_.db().Exec("UPDATE documents SET body = replace(body, '张三', '李四')");
  auto verified = server_.core().store().Verify(accepted->id());
  ASSERT_THAT(verified, IsOk());
  EXPECT_FALSE(verified->intact);
  EXPECT_EQ(verified->first_broken_seq, 2);
  EXPECT_THAT(verified->detail, HasSubstr("does not match its recorded hash"));
}

TEST_F(DocumentsTest, AnAnonymousPetitionerIsOwedNoNoticeAUnitStillGetsItsOwn) {
  const auto [tracking, code] = Register("doc-anon-0001", /*anonymous=*/true);
  ASSERT_THAT(server_.Act(tracking, "accept", kClerk), IsOk());
  auto docs = List(tracking);
  ASSERT_THAT(docs, IsOk());
  EXPECT_THAT(*docs, IsEmpty());
  ASSERT_THAT(server_.Act(tracking, "issue_notice", kSupervisor,
                          {{"notice_kind", "urge"}, {"notice_text", "请于月底前办结"},
                           {"reply_days", "10"}}),
              IsOk());
  docs = List(tracking);
  ASSERT_THAT(docs, IsOk());
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ((*docs)[0].kind(), "supervision_notice");
  EXPECT_EQ((*docs)[0].number(), "省总工会信督〔2026〕1号");  // issued by the supervisor's unit
  auto full = Get((*docs)[0].number());
  ASSERT_THAT(full, IsOk());
  EXPECT_THAT(full->html(), HasSubstr(absl::StrCat(kOffice, "：")));  // to the unit
  EXPECT_THAT(full->html(), HasSubstr("请于月底前办结"));
  EXPECT_THAT(full->html(), HasSubstr("于2026年3月12日前"));  // reply within 10 days
}

TEST_F(DocumentsTest, BadOrForeignNumbersAreRefused) {
  EXPECT_THAT(Get(""), StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("number")));
  EXPECT_THAT(Get("无此文号〔2026〕1号"), StatusIs(absl::StatusCode::kNotFound));
  const auto [tracking, code] = Register("doc-scope-0001");
  ASSERT_THAT(server_.Act(tracking, "accept", kClerk), IsOk());
  auto docs = List(tracking);
  ASSERT_THAT(docs, IsOk());
  // A unit outside the case's scope reads neither the list nor the text.
  EXPECT_THAT(List(tracking, kEduClerk), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(Get((*docs)[0].number(), kEduClerk),
              StatusIs(absl::StatusCode::kPermissionDenied));
}

TEST_F(DocumentsTest, ThePetitionerReadsTheNoticesAndTheDecisionOnceServed) {
  const auto [tracking, code] = Register("doc-public-0001");
  ASSERT_THAT(server_.Act(tracking, "accept", kClerk), IsOk());
  ASSERT_THAT(server_.Act(tracking, "assign_officer", kHead, {{"officer", "officer1"}}), IsOk());
  ASSERT_THAT(server_.Act(tracking, "issue_notice", kSupervisor,
                          {{"notice_kind", "urge"}, {"notice_text", "请加快"}}),
              IsOk());
  ASSERT_THAT(server_.Act(tracking, "decide", kOfficer,
                          {{"outcome", "support"}, {"decision_text", "责成公司补发工资"}}),
              IsOk());
  auto status = PublicStatus(tracking, code);
  ASSERT_THAT(status, IsOk());
  // The acceptance notice only: the decision is not served yet, and the
  // supervision notice is the unit's.
  ASSERT_EQ(status->documents_size(), 1);
  EXPECT_EQ(status->documents(0).title(), "受理告知书");
  EXPECT_EQ(status->documents(0).issued_on(), "2026-03-02");
  EXPECT_TRUE(status->documents(0).html().empty());

  ASSERT_THAT(server_.Act(tracking, "serve", kClerk,
                          {{"served_on", "2026-03-02"}, {"method", "in_person"},
                           {"receipt", "signed"}, {"signed_by", "张三"}}),
              IsOk());
  status = PublicStatus(tracking, code);
  ASSERT_THAT(status, IsOk());
  ASSERT_EQ(status->documents_size(), 2);
  EXPECT_EQ(status->documents(1).title(), "信访事项处理意见书");
  auto decision = PublicDocument(tracking, code, status->documents(1).number());
  ASSERT_THAT(decision, IsOk());
  EXPECT_THAT(decision->html(), HasSubstr("责成公司补发工资"));
  EXPECT_THAT(decision->html(), HasSubstr("予以支持"));
  // The relief path: the next-higher body and its 30 days.
  EXPECT_THAT(decision->html(), HasSubstr("30日内，向省直机关工会请求复查"));
  EXPECT_EQ(decision->sha256(), storage::Sha256Hex(decision->html()));

  // The supervision notice is not the petitioner's; a wrong code finds nothing.
  auto docs = List(tracking);
  ASSERT_THAT(docs, IsOk());
  std::string supervision;
  for (const auto& d : *docs) {
    if (d.kind() == "supervision_notice") supervision = d.number();
  }
  ASSERT_FALSE(supervision.empty());
  EXPECT_THAT(PublicDocument(tracking, code, supervision),
              StatusIs(absl::StatusCode::kNotFound, HasSubstr("number")));
  EXPECT_THAT(PublicDocument(tracking, "AAAAA-AAAAA", status->documents(0).number()),
              StatusIs(absl::StatusCode::kNotFound));
}

// ---- Open cases of an older procedure version move to the newer one ----

TEST_F(DocumentsTest, OpenVersion2CasesMoveToVersion3AndThenIssueDocuments) {
  Core& core = server_.core();
  const workflow::Engine* v2 = core.EngineFor("petition", 2);
  ASSERT_NE(v2, nullptr);
  const workflow::Actor clerk{"clerk1", v1::ROLE_INTAKE_CLERK, "prov.organs.office"};
  // Three cases registered before the upgrade, under version 2.
  auto old_case = [&](const std::string& rid) {
    const absl::Time now = core.clock().Now();
    workflow::CaseStart start;
    start.received_at = now;
    start.registering_unit = "prov.organs.office";
    auto d = v2->Start(start, clerk, now);
    EXPECT_THAT(d, IsOk());
    storage::NewCase nc;
    nc.request_id = rid;
    nc.request_hash = rid;
    nc.intake = Visit(rid).intake();
    nc.intake.set_registering_unit("prov.organs.office");
    nc.start = *d;
    nc.actor = clerk;
    nc.now = now;
    nc.tracking_prefix = "XF20260302-";
    auto created = core.store().Create(nc);
    EXPECT_THAT(created, IsOk());
    return created.ok() ? created->record.tracking_number : std::string();
  };
  const std::string registered = old_case("doc-v2-1");
  const std::string accepted = old_case("doc-v2-2");
  const std::string closed = old_case("doc-v2-3");
  ASSERT_THAT(server_.Act(accepted, "accept", kClerk), IsOk());
  ASSERT_THAT(server_.Act(closed, "direct_elsewhere", kClerk, {{"competent_body", "某区人社局"}}),
              IsOk());
  EXPECT_THAT(*List(accepted), IsEmpty());  // version 2 issues no documents

  const Caller admin{"admin1", "administrator", "prov"};
  auto migrate = [&](bool dry_run, std::map<std::string, std::string> states = {},
                     const Caller& who = Caller{"admin1", "administrator", "prov"})
      -> absl::StatusOr<v1::MigrateCasesResponse> {
    auto stub = server_.admin();
    auto ctx = server_.Context(who);
    v1::MigrateCasesRequest req;
    req.set_from_version(2);
    req.set_dry_run(dry_run);
    req.set_limit(1);  // one case per call: the paging is exercised
    req.mutable_states()->insert(states.begin(), states.end());
    v1::MigrateCasesResponse total;
    for (;;) {
      v1::MigrateCasesResponse resp;
      grpc::Status s = stub->MigrateCases(ctx.get(), req, &resp);
      if (!s.ok()) return FromGrpc(s);
      total.set_migrated(total.migrated() + resp.migrated());
      total.set_to(resp.to());
      for (const auto& r : resp.refused()) *total.add_refused() = r;
      if (!resp.more()) return total;
      req.set_after_id(resp.last_id());
      ctx = server_.Context(who);
    }
  };
  EXPECT_THAT(migrate(false, {}, kClerk), StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(migrate(false, {{"accepted", "limbo"}}),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("states: \"limbo\"")));
  auto dry = migrate(true);
  ASSERT_THAT(dry, IsOk());
  EXPECT_EQ(dry->migrated(), 2);  // the final one never moves
  EXPECT_EQ(server_.GetCase(accepted, kClerk)->workflow_version(), 2);  // nothing changed

  auto moved = migrate(false);
  ASSERT_THAT(moved, IsOk());
  EXPECT_EQ(moved->migrated(), 2);
  EXPECT_THAT(moved->refused(), IsEmpty());
  EXPECT_EQ(moved->to(), "petition@3");
  auto again = migrate(false);
  ASSERT_THAT(again, IsOk());
  EXPECT_EQ(again->migrated(), 0);
  EXPECT_EQ(server_.GetCase(accepted, kClerk)->workflow_version(), 3);
  EXPECT_EQ(server_.GetCase(closed, kClerk)->workflow_version(), 2);
  // The move is in the history, which still verifies; the deadlines are kept.
  auto rec = core.store().GetByTracking(accepted);
  ASSERT_THAT(rec, IsOk());
  auto history = core.store().History(rec->id);
  ASSERT_THAT(history, IsOk());
  EXPECT_EQ(history->back().event.kind, "migrated");
  EXPECT_EQ(history->back().event.fields.at("from_workflow"), "petition@2");
  EXPECT_EQ(history->back().actor.account, "admin1");
  EXPECT_NE(rec->snapshot.FindTimer("handling"), nullptr);
  auto verified = core.store().Verify(rec->id);
  ASSERT_THAT(verified, IsOk());
  EXPECT_TRUE(verified->intact) << verified->detail;

  // Under version 3 their next steps issue documents.
  ASSERT_THAT(server_.Act(registered, "accept", kClerk), IsOk());
  ASSERT_THAT(server_.Act(accepted, "assign_officer", kHead, {{"officer", "officer1"}}), IsOk());
  ASSERT_THAT(server_.Act(accepted, "decide", kOfficer,
                          {{"outcome", "explain"}, {"decision_text", "依法作出解释说明"}}),
              IsOk());
  auto docs = List(registered);
  ASSERT_THAT(docs, IsOk());
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ((*docs)[0].kind(), "acceptance_notice");
  docs = List(accepted);
  ASSERT_THAT(docs, IsOk());
  ASSERT_EQ(docs->size(), 1u);
  EXPECT_EQ((*docs)[0].kind(), "decision_opinion");
}

// ---- Templates: the loader lists every problem; values are escaped ----

class TemplatesTest : public ::testing::Test {
 protected:
  TemplatesTest() {
    dir_ = std::filesystem::temp_directory_path() /
           absl::StrCat("xf-templates-", ::getpid(), "-", ++counter_);
    std::filesystem::create_directories(dir_);
    auto def = workflow::Definition::LoadFile(XINFANG_SOURCE_DIR
                                              "/deploy/workflows/petition-v3.textproto");
    EXPECT_THAT(def, IsOk());
    def_ = *def;
  }
  ~TemplatesTest() override { std::filesystem::remove_all(dir_); }

  void CopyAll() {
    for (const auto& e :
         std::filesystem::directory_iterator(XINFANG_SOURCE_DIR "/deploy/documents")) {
      std::filesystem::copy_file(e.path(), dir_ / e.path().filename());
    }
  }
  void Write(const std::string& name, const std::string& text) {
    std::ofstream(dir_ / name) << text;
  }

  static inline int counter_ = 0;
  std::filesystem::path dir_;
  std::shared_ptr<const workflow::Definition> def_;
};

TEST_F(TemplatesTest, TheShippedTemplatesLoad) {
  auto t = DocumentTemplates::Load(XINFANG_SOURCE_DIR "/deploy/documents", {def_.get()});
  ASSERT_THAT(t, IsOk());
  for (const auto& k : def_->proto().documents()) {
    ASSERT_NE(t->Find(k.kind()), nullptr) << k.kind();
    EXPECT_EQ(t->Find(k.kind())->version, 1);
  }
}

TEST_F(TemplatesTest, EveryProblemIsListedWithFileAndLine) {
  CopyAll();
  std::filesystem::remove(dir_ / "extension_notice.html");
  Write("acceptance_notice.html",
        "<!-- xinfang document acceptance_notice version 2 -->\n<p>{{petitioner}}</p>\n"
        "<p>{{petitoner}}</p>\n{{#field.notice}}<p>{{field.nonesuch}}</p>\n");
  Write("transfer_notice.html", "<!-- xinfang document transfer version 1 -->\n{{/summary}}\n");
  Write("review_opinion.html", "<html>\n");
  auto t = DocumentTemplates::Load(dir_.string(), {def_.get()});
  ASSERT_THAT(t, StatusIs(absl::StatusCode::kInvalidArgument));
  const std::string m(t.status().message());
  const std::string d = dir_.string();
  EXPECT_THAT(m, HasSubstr(d + "/acceptance_notice.html:3: unknown name \"petitoner\""));
  EXPECT_THAT(m, HasSubstr(d + "/acceptance_notice.html:4: unknown name \"field.nonesuch\""));
  EXPECT_THAT(m, HasSubstr(d + "/acceptance_notice.html:4: {{#field.notice}} is never closed"));
  EXPECT_THAT(m, HasSubstr(d + "/extension_notice.html: missing"));
  EXPECT_THAT(m, HasSubstr(d + "/transfer_notice.html:1: names kind \"transfer\""));
  EXPECT_THAT(m, HasSubstr(d + "/transfer_notice.html:2: {{/summary}} closes no open"));
  EXPECT_THAT(m, HasSubstr(d + "/review_opinion.html:1: the first line must be"));
}

TEST_F(TemplatesTest, PartsArePutInPlaceCheckedAndHashed) {
  CopyAll();
  auto before = DocumentTemplates::Load(dir_.string(), {def_.get()});
  ASSERT_THAT(before, IsOk());
  const std::string text = before->Find("acceptance_notice")->text;
  EXPECT_THAT(text, HasSubstr("@page { size: A4"));  // _head.html
  EXPECT_THAT(text, HasSubstr("<p class=\"sign\">"));  // _foot.html
  EXPECT_THAT(text, Not(HasSubstr("{{>")));
  // A changed part changes the hash every document records of its template.
  Write("_foot.html", "<!-- xinfang document part foot -->\n<p>{{issuer}}（印章）</p>\n");
  auto after = DocumentTemplates::Load(dir_.string(), {def_.get()});
  ASSERT_THAT(after, IsOk());
  EXPECT_NE(after->Find("acceptance_notice")->sha256, before->Find("acceptance_notice")->sha256);
  EXPECT_THAT(after->Find("acceptance_notice")->text, HasSubstr("（印章）"));
  // A part with a problem is reported once, with its own file and line.
  Write("_foot.html", "<!-- xinfang document part foot -->\n\n<p>{{isuer}}</p>\n{{>head}}\n");
  std::filesystem::remove(dir_ / "_head.html");
  auto broken = DocumentTemplates::Load(dir_.string(), {def_.get()});
  ASSERT_THAT(broken, StatusIs(absl::StatusCode::kInvalidArgument));
  const std::string m(broken.status().message());
  const std::string foot = dir_.string() + "/_foot.html:3: unknown name \"isuer\"";
  EXPECT_THAT(m, HasSubstr(foot));
  EXPECT_EQ(m.find(foot), m.rfind(foot));  // once, though nine templates include it
  EXPECT_THAT(m, HasSubstr(dir_.string() + "/_foot.html:4: {{>head}}: a part includes no part"));
  EXPECT_THAT(m, HasSubstr(dir_.string() + "/_head.html: missing"));
}

TEST_F(TemplatesTest, ValuesAreEscapedAndSectionsFollowThem) {
  CopyAll();
  Write("acceptance_notice.html",
        "<!-- xinfang document acceptance_notice version 3 -->\n"
        "[{{petitioner}}]{{#field.notice}}<{{field.notice}}>{{/field.notice}}"
        "{{^field.notice}}none{{/field.notice}}{{#action=accept}}A{{/action=accept}}"
        "{{#action=forward}}F{{/action=forward}}|{{number}}|{{tracking_number}}");
  auto t = DocumentTemplates::Load(dir_.string(), {def_.get()});
  ASSERT_THAT(t, IsOk());
  EXPECT_EQ(t->Find("acceptance_notice")->version, 3);
  auto out = t->Render("acceptance_notice", {{"petitioner", "<script>\"x\" & {{number}}"},
                                             {"field.notice", ""},
                                             {"action", "accept"}});
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(*out,
            "[&lt;script&gt;&quot;x&quot; &amp; &#123;&#123;number&#125;&#125;]noneA"
            "|{{number}}|{{tracking_number}}");
  out = t->Render("acceptance_notice", {{"field.notice", "a"}, {"action", "forward"}});
  ASSERT_THAT(out, IsOk());
  EXPECT_EQ(*out, "[]<a>F|{{number}}|{{tracking_number}}");
  EXPECT_THAT(t->Render("nothing", {}), StatusIs(absl::StatusCode::kFailedPrecondition));
}

}  // namespace
}  // namespace xinfang
