// Administration of units and categories (AdminService.PutUnit/PutCategory),
// an officer's own queue (ListDeadlines.case_officer) and petitions by month
// (GetStatistics.by_month), over real gRPC against a real PostgreSQL.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <set>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace xinfang {
namespace {

namespace v1 = xinfang::v1;
using testing::Caller;
using testing::TestServer;
using ::testing::HasSubstr;

const Caller kAdmin{"admin1", "administrator", "prov"};
const Caller kCityAdmin{"admin2", "administrator", "prov.city-a"};
const Caller kClerk{"clerk1", "intake_clerk", "prov.organs.office"};
const Caller kHead{"head1", "unit_head", "prov.organs.office"};
const Caller kOfficer1{"officer1", "case_officer", "prov.organs.office"};
const Caller kOfficer2{"officer2", "case_officer", "prov.organs.office"};
const Caller kSupervisor{"sup1", "supervisor", "prov"};

absl::Time Local(int y, int m, int d, int hh = 0, int mm = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, 0), absl::FixedTimeZone(8 * 3600));
}

class ReferenceTest : public ::testing::Test {
 protected:
  ReferenceTest() : server_(Local(2026, 3, 2, 9)) {
    server_.TokenFor(kOfficer1);
    server_.TokenFor(kOfficer2);
  }

  absl::StatusOr<v1::PutUnitResponse> PutUnit(const std::string& code, const std::string& name,
                                              const std::string& parent,
                                              const Caller& who = kAdmin) {
    v1::PutUnitRequest req;
    req.set_code(code);
    req.set_name(name);
    req.set_parent(parent);
    v1::PutUnitResponse resp;
    auto ctx = server_.Context(who);
    grpc::Status s = server_.admin()->PutUnit(ctx.get(), req, &resp);
    if (!s.ok()) return testing::FromGrpc(s);
    return resp;
  }

  absl::StatusOr<v1::PutCategoryResponse> PutCategory(const std::string& code,
                                                      const std::string& name,
                                                      const std::string& parent, bool active,
                                                      const Caller& who = kAdmin) {
    v1::PutCategoryRequest req;
    req.set_code(code);
    req.set_name(name);
    req.set_parent(parent);
    req.set_active(active);
    v1::PutCategoryResponse resp;
    auto ctx = server_.Context(who);
    grpc::Status s = server_.admin()->PutCategory(ctx.get(), req, &resp);
    if (!s.ok()) return testing::FromGrpc(s);
    return resp;
  }

  v1::ListReferenceDataResponse Reference(bool all, const Caller& who = kClerk) {
    v1::ListReferenceDataRequest req;
    req.set_include_inactive(all);
    v1::ListReferenceDataResponse resp;
    auto ctx = server_.Context(who);
    grpc::Status s = server_.admin()->ListReferenceData(ctx.get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp;
  }

  absl::StatusOr<v1::RegisterCaseResponse> Register(const std::string& id,
                                                    const std::string& category,
                                                    std::optional<absl::Time> received = {}) {
    v1::RegisterCaseRequest r;
    r.set_request_id(absl::StrCat("reference-", id));
    v1::CaseIntake* in = r.mutable_intake();
    in->set_channel(v1::CHANNEL_CALL);
    in->mutable_call()->set_caller_number("12351");
    in->set_purpose(v1::PURPOSE_CLAIM);
    in->set_category(category);
    in->set_summary(absl::StrCat("来电 ", id));
    in->add_petitioners()->set_name(absl::StrCat("来电人", id));
    if (received) in->mutable_received_at()->set_seconds(absl::ToUnixSeconds(*received));
    return server_.Register(r, kClerk);
  }

  absl::StatusOr<v1::ListDeadlinesResponse> Deadlines(const std::string& officer,
                                                      const Caller& who = kHead) {
    v1::ListDeadlinesRequest req;
    req.mutable_before()->set_seconds(absl::ToUnixSeconds(Local(2030, 1, 1)));
    req.set_case_officer(officer);
    v1::ListDeadlinesResponse resp;
    auto ctx = server_.Context(who);
    grpc::Status s = server_.supervision()->ListDeadlines(ctx.get(), req, &resp);
    if (!s.ok()) return testing::FromGrpc(s);
    return resp;
  }

  TestServer server_;
};

TEST_F(ReferenceTest, ANewUnitIsListedAndUsableAtOnce) {
  auto put = PutUnit("prov.city-b", "B市总工会", "prov");
  ASSERT_THAT(put, testing::IsOk());
  EXPECT_TRUE(put->created());
  EXPECT_EQ(put->unit().parent(), "prov");
  bool listed = false;
  const v1::ListReferenceDataResponse lists = Reference(false);
  for (const auto& u : lists.units()) {
    listed = listed || (u.code() == "prov.city-b" && u.name() == "B市总工会" && u.active());
  }
  EXPECT_TRUE(listed);
  // Usable in the same breath: an account of the new unit (the cached tree is re-read).
  v1::CreateAccountRequest acc;
  acc.mutable_account()->set_name("clerk-b");
  acc.mutable_account()->set_role(v1::ROLE_INTAKE_CLERK);
  acc.mutable_account()->set_unit("prov.city-b");
  v1::CreateAccountResponse created;
  auto ctx = server_.Context(kAdmin);
  grpc::Status s = server_.admin()->CreateAccount(ctx.get(), acc, &created);
  EXPECT_TRUE(s.ok()) << s.error_message();
  // A rename keeps the parent; an empty parent means "unchanged".
  auto renamed = PutUnit("prov.city-b", "B市总工会（新）", "");
  ASSERT_THAT(renamed, testing::IsOk());
  EXPECT_FALSE(renamed->created());
  EXPECT_EQ(renamed->unit().parent(), "prov");
  EXPECT_EQ(server_.db().Query("SELECT name FROM units WHERE code = 'prov.city-b'"),
            "B市总工会（新）");
}

TEST_F(ReferenceTest, UnitRefusalsNameTheFieldAndWriteNothing) {
  const std::string before = server_.db().Query("SELECT count(*) || ':' || string_agg(name, ',' ORDER BY code) FROM units");
  EXPECT_THAT(PutUnit("prov.organs.edu", "搬家", "prov.city-a"),
              testing::StatusIs(absl::StatusCode::kFailedPrecondition, HasSubstr("parent")));
  EXPECT_THAT(PutUnit("prov.nowhere", "无处", "prov.missing"),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("parent: unknown unit")));
  EXPECT_THAT(PutUnit("Prov X", "坏代码", "prov"),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("code:")));
  EXPECT_THAT(PutUnit("prov.empty", "", "prov"),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("name:")));
  EXPECT_THAT(PutUnit("prov.second-top", "第二个顶级", ""),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("parent: required")));
  // An administrator of a city keeps only the city's subtree.
  EXPECT_THAT(PutUnit("prov.organs.new", "新单位", "prov.organs", kCityAdmin),
              testing::StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("parent")));
  EXPECT_THAT(PutUnit("prov.organs.edu", "改名", "", kCityAdmin),
              testing::StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("code")));
  // Not for a clerk at all.
  EXPECT_THAT(PutUnit("prov.x", "某单位", "prov", kClerk),
              testing::StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_EQ(server_.db().Query("SELECT count(*) || ':' || string_agg(name, ',' ORDER BY code) FROM units"), before);
  // Within the city it works.
  EXPECT_THAT(PutUnit("prov.city-a.dist-2", "A市二区总工会", "prov.city-a", kCityAdmin),
              testing::IsOk());
}

TEST_F(ReferenceTest, ARetiredCategoryIsNoLongerOfferedOrAccepted) {
  auto added = PutCategory("wages.bonus", "奖金", "wages", true);
  ASSERT_THAT(added, testing::IsOk());
  EXPECT_TRUE(added->created());
  ASSERT_THAT(Register("r1", "wages.bonus"), testing::IsOk());

  auto retired = PutCategory("wages.bonus", "奖金", "wages", false);
  ASSERT_THAT(retired, testing::IsOk());
  EXPECT_FALSE(retired->created());
  EXPECT_FALSE(retired->category().active());
  std::set<std::string> offered, all;
  const v1::ListReferenceDataResponse active = Reference(false);
  const v1::ListReferenceDataResponse every = Reference(true, kAdmin);
  for (const auto& c : active.categories()) offered.insert(c.code());
  for (const auto& c : every.categories()) {
    all.insert(c.code());
    if (c.code() == "wages.bonus") {
      EXPECT_FALSE(c.active());
    }
  }
  EXPECT_FALSE(offered.contains("wages.bonus"));
  EXPECT_TRUE(all.contains("wages.bonus"));
  EXPECT_THAT(Register("r2", "wages.bonus"),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("category")));
  // The case that carries it keeps it.
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM cases WHERE category = 'wages.bonus'"), "1");

  // Refusals: a cycle, an unknown parent, a city's administrator.
  EXPECT_THAT(PutCategory("wages", "劳动报酬", "wages.arrears", true),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("cycle")));
  EXPECT_THAT(PutCategory("x.y", "某类", "nope", true),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("parent: unknown")));
  EXPECT_THAT(PutCategory("wages.tips", "小费", "wages", true, kCityAdmin),
              testing::StatusIs(absl::StatusCode::kPermissionDenied, HasSubstr("top unit")));
  EXPECT_EQ(server_.db().Query("SELECT coalesce(parent, '-') FROM categories WHERE code = 'wages'"), "-");
}

TEST_F(ReferenceTest, AnOfficersQueueHoldsOnlyHisCases) {
  std::vector<std::string> tracking;
  for (int i = 0; i < 3; ++i) {
    auto r = Register(absl::StrCat("q", i), "wages.arrears");
    ASSERT_THAT(r, testing::IsOk());
    tracking.push_back(r->case_().tracking_number());
    ASSERT_THAT(server_.Act(tracking.back(), "accept", kClerk), testing::IsOk());
    ASSERT_THAT(server_.Act(tracking.back(), "assign_officer", kHead,
                            {{"officer", i == 1 ? "officer2" : "officer1"}}),
                testing::IsOk());
  }
  auto mine = Deadlines("officer1", kOfficer1);
  ASSERT_THAT(mine, testing::IsOk());
  std::set<std::string> seen;
  for (const auto& it : mine->items()) {
    EXPECT_EQ(it.case_officer(), "officer1");
    EXPECT_EQ(it.state(), "in_handling");
    EXPECT_EQ(it.state_title(), "办理中 in handling");  // the definition's title
    seen.insert(it.tracking_number());
  }
  EXPECT_EQ(seen, (std::set<std::string>{tracking[0], tracking[2]}));
  auto theirs = Deadlines("officer2");
  ASSERT_THAT(theirs, testing::IsOk());
  ASSERT_GT(theirs->items_size(), 0);
  for (const auto& it : theirs->items()) EXPECT_EQ(it.tracking_number(), tracking[1]);
  // The unit's queue names each case's officer.
  auto all = Deadlines("");
  ASSERT_THAT(all, testing::IsOk());
  std::set<std::string> officers;
  for (const auto& it : all->items()) officers.insert(it.case_officer());
  EXPECT_TRUE(officers.contains("officer1") && officers.contains("officer2"));
  EXPECT_THAT(Deadlines("Officer 1"),
              testing::StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("case_officer")));
}

TEST_F(ReferenceTest, PetitionsCountByTheOfficesMonth) {
  // 23:30 on 28 Feb and 00:30 on 1 Mar in Shanghai: the same UTC day, two months.
  ASSERT_THAT(Register("m1", "wages.arrears", Local(2026, 2, 28, 23, 30)), testing::IsOk());
  ASSERT_THAT(Register("m2", "wages.arrears", Local(2026, 3, 1, 0, 30)), testing::IsOk());
  ASSERT_THAT(Register("m3", "insurance"), testing::IsOk());
  v1::GetStatisticsRequest req;
  req.mutable_period_start()->set_seconds(absl::ToUnixSeconds(Local(2026, 2, 1)));
  req.mutable_period_end()->set_seconds(absl::ToUnixSeconds(Local(2026, 4, 1)));
  v1::GetStatisticsResponse resp;
  auto ctx = server_.Context(kSupervisor);
  grpc::Status s = server_.query()->GetStatistics(ctx.get(), req, &resp);
  ASSERT_TRUE(s.ok()) << s.error_message();
  ASSERT_EQ(resp.by_month_size(), 2);
  EXPECT_EQ(resp.by_month(0).key(), "2026-02");
  EXPECT_EQ(resp.by_month(0).count(), 1);
  EXPECT_EQ(resp.by_month(1).key(), "2026-03");
  EXPECT_EQ(resp.by_month(1).count(), 2);
  EXPECT_EQ(resp.received(), 3);
}

}  // namespace
}  // namespace xinfang
