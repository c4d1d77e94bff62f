// Statistics (docs/statistics.md) on a generated data set,
// checked against figures the test computes itself from the plan it drives
// (never from the same SQL).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace xinfang {
namespace {

namespace v1 = xinfang::v1;
using testing::Caller;
using testing::TestServer;

const Caller kClerk{"clerk1", "intake_clerk", "prov.organs.office"};
const Caller kOfficer{"officer1", "case_officer", "prov.organs.office"};
const Caller kHead{"head1", "unit_head", "prov.organs.office"};
const Caller kSupervisor{"sup1", "supervisor", "prov"};

absl::Time Local(int y, int m, int d, int hh = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, 0, 0), absl::FixedTimeZone(8 * 3600));
}

class StatsTest : public ::testing::Test {
 protected:
  StatsTest() : server_(Local(2026, 3, 2, 9)) {
    server_.TokenFor(kOfficer);  // an account of the unit, to be assigned
  }

  std::string Register(int i, v1::Channel channel, bool repeat_person) {
    v1::RegisterCaseRequest r;
    r.set_request_id(absl::StrCat("stats-case-", i));
    v1::CaseIntake* in = r.mutable_intake();
    in->set_channel(channel);
    if (channel == v1::CHANNEL_ONLINE) in->mutable_online()->set_platform("12351");
    in->set_purpose(v1::PURPOSE_CLAIM);
    in->set_category(i % 2 == 0 ? "wages.arrears" : "insurance");
    in->set_summary(absl::StrCat("第", i, "件"));
    auto* p = in->add_petitioners();
    if (repeat_person) {
      p->set_name("重复信访人");
      p->set_id_number("11010519491231002X");
    } else {
      p->set_name(absl::StrCat("信访人", i));
    }
    v1::RegisterCaseResponse resp;
    auto ctx = server_.Context(kClerk);
    grpc::Status s = server_.intake()->RegisterCase(ctx.get(), r, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    return resp.case_().tracking_number();
  }

  void Act(const std::string& t, const std::string& action, const Caller& who,
           std::map<std::string, std::string> fields = {}) {
    auto r = server_.Act(t, action, who, fields);
    ASSERT_TRUE(r.ok()) << action << ": " << r.status();
  }


  void AdvanceTo(absl::Time to) { ASSERT_TRUE(server_.AdvanceTo(to).ok()); }


  absl::StatusOr<v1::GetStatisticsResponse> Stats(const std::string& unit, bool lapsed_ok,
                                                  absl::Time from = Local(2026, 3, 1),
                                                  absl::Time to = Local(2027, 1, 1)) {
    v1::GetStatisticsRequest req;
    req.set_unit(unit);
    req.mutable_period_start()->set_seconds(absl::ToUnixSeconds(from));
    req.mutable_period_end()->set_seconds(absl::ToUnixSeconds(to));
    req.set_lapsed_counts_as_satisfied(lapsed_ok);
    v1::GetStatisticsResponse resp;
    auto ctx = server_.Context(kSupervisor);
    grpc::Status s = server_.query()->GetStatistics(ctx.get(), req, &resp);
    if (!s.ok()) return testing::FromGrpc(s);
    return resp;
  }

  // What the plan below expects, counted by the test itself.
  struct Plan {
    int cases = 0, online = 0, repeats = 0, notice_on_time = 0, decision_due = 0,
        decision_on_time = 0, accepted = 0, decided = 0, satisfied = 0, basically = 0,
        dissatisfied = 0, lapsed = 0;
    int office_satisfied = 0, office_basically = 0, office_dissatisfied = 0;
    double acceptance_days = 0, decision_days = 0;
    std::map<std::string, int> by_channel;
  };

  // Registers and works 24 cases from 2026-03-02 to 2026-06-30 (the clock
  // ends there, every window closed).
  Plan DrivePlan() {
    Plan p;
    constexpr int kCases = 24;
    p.cases = kCases;
    // The plan: group by i % 3 (0: accepted at once, 1: accepted 17 days late,
    // 2: never accepted); accepted-at-once cases with odd i are decided late.
    // Ratings by i % 4: satisfied, basically satisfied, dissatisfied, none
    // (the window lapses). i % 6 == 0: the same person, the same matter.
    const v1::Channel channels[] = {v1::CHANNEL_VISIT, v1::CHANNEL_CALL, v1::CHANNEL_LETTER,
                                    v1::CHANNEL_ONLINE};
    std::vector<std::string> t(kCases);
    int same_person_seen = 0;
    for (int i = 0; i < kCases; ++i) {
      const v1::Channel ch = channels[(i / 3) % 4];
      const bool same_person = i % 6 == 0;
      t[i] = Register(i, ch, same_person);
      p.by_channel[v1::Channel_Name(ch)]++;
      if (ch == v1::CHANNEL_ONLINE) ++p.online;
      if (same_person && same_person_seen++ > 0) ++p.repeats;  // all in wages.arrears (i even)
    }
    const absl::Time day0 = Local(2026, 3, 2, 9), day17 = Local(2026, 3, 19, 9),
                     day20 = Local(2026, 3, 22, 9), day70 = Local(2026, 5, 11, 9);
    auto decide_and_rate = [&](int i, absl::Time accepted_at, absl::Time now, bool on_time) {
      const std::string served_on = absl::FormatCivilTime(
          absl::ToCivilDay(now, absl::FixedTimeZone(8 * 3600)));
      Act(t[i], "decide", kOfficer, {{"outcome", "support"}, {"decision_text", "支持"}});
      Act(t[i], "serve", kClerk, {{"served_on", served_on}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}});
      static const char* kRatings[] = {"satisfied", "basically_satisfied", "dissatisfied"};
      // The petition office is rated apart from the handling body: by i % 3.
      if (i % 4 < 3) {
        std::map<std::string, std::string> fields = {{"rating", kRatings[i % 4]},
                                                     {"office_rating", kRatings[i % 3]},
                                                     {"channel", "call"}};
        if (i % 4 == 2) fields["rating_reason"] = "未解决";
        if (i % 3 == 2) fields["office_rating_reason"] = "答复不及时";
        Act(t[i], "evaluate", kClerk, fields);
        (i % 3 == 0 ? p.office_satisfied : i % 3 == 1 ? p.office_basically : p.office_dissatisfied)++;
      }
      (i % 4 == 0 ? p.satisfied : i % 4 == 1 ? p.basically : i % 4 == 2 ? p.dissatisfied : p.lapsed)++;
      ++p.decided;
      ++p.decision_due;
      if (on_time) ++p.decision_on_time;
      p.decision_days += absl::ToDoubleHours(now - accepted_at) / 24;
    };
    for (int i = 0; i < kCases; ++i) {  // day 0: accepted at once
      if (i % 3 != 0) continue;
      Act(t[i], "accept", kClerk);
      Act(t[i], "assign_officer", kHead, {{"officer", "officer1"}});
      ++p.notice_on_time;
      ++p.accepted;
    }
    AdvanceTo(day17);
    for (int i = 0; i < kCases; ++i) {
      if (i % 3 == 1) {  // accepted late: the 15-day notice ended 3/17
        Act(t[i], "accept", kClerk);
        Act(t[i], "assign_officer", kHead, {{"officer", "officer1"}});
        ++p.accepted;
        p.acceptance_days += 17;
      }
      if (i % 3 == 0 && i % 2 == 0) decide_and_rate(i, day0, day17, true);
    }
    AdvanceTo(day20);
    for (int i = 0; i < kCases; ++i) {
      if (i % 3 == 1) decide_and_rate(i, day17, day20, true);
    }
    AdvanceTo(day70);  // accepted 3/2: 60 days end 5/1, rolled past the break to 5/6
    for (int i = 0; i < kCases; ++i) {
      if (i % 3 == 0 && i % 2 == 1) decide_and_rate(i, day0, day70, false);
    }
    AdvanceTo(Local(2026, 6, 30, 9));  // every window has closed
    return p;
  }

  TestServer server_;
};

TEST_F(StatsTest, FiguresMatchThePlan) {
  const Plan p = DrivePlan();
  constexpr int kCases = 24;
  auto st = Stats("", /*lapsed_ok=*/false);
  ASSERT_THAT(st, testing::IsOk());
  EXPECT_EQ(st->received(), kCases);
  EXPECT_EQ(st->on_time_acceptance_notice().denominator(), kCases);  // all notices due, one way or another
  EXPECT_EQ(st->on_time_acceptance_notice().numerator(), p.notice_on_time);
  EXPECT_EQ(st->on_time_completion().denominator(), p.decision_due);
  EXPECT_EQ(st->on_time_completion().numerator(), p.decision_on_time);
  EXPECT_DOUBLE_EQ(st->on_time_completion().rate(),
                   static_cast<double>(p.decision_on_time) / p.decision_due);
  EXPECT_EQ(st->repeat_petitions().numerator(), p.repeats);
  EXPECT_EQ(st->repeat_petitions().denominator(), kCases);
  EXPECT_EQ(st->participation().numerator(), p.satisfied + p.basically + p.dissatisfied);
  EXPECT_EQ(st->participation().denominator(), p.decided);
  EXPECT_EQ(st->satisfaction().numerator(), p.satisfied + p.basically);
  auto with_lapsed = Stats("", /*lapsed_ok=*/true);
  ASSERT_THAT(with_lapsed, testing::IsOk());
  EXPECT_EQ(with_lapsed->satisfaction().numerator(), p.satisfied + p.basically + p.lapsed);
  // Each target on its own (provincial practice): the handling body's are
  // the figures above; the petition office's follow its own ratings.
  const v1::EvaluationFigures& unit = st->handling_unit();
  EXPECT_EQ(unit.satisfied(), p.satisfied);
  EXPECT_EQ(unit.dissatisfied(), p.dissatisfied);
  EXPECT_EQ(unit.participation().numerator(), st->participation().numerator());
  const v1::EvaluationFigures& office = st->petition_office();
  EXPECT_EQ(office.satisfied(), p.office_satisfied);
  EXPECT_EQ(office.basically_satisfied(), p.office_basically);
  EXPECT_EQ(office.dissatisfied(), p.office_dissatisfied);
  EXPECT_EQ(office.lapsed(), p.lapsed);
  EXPECT_EQ(office.participation().denominator(), p.decided);
  EXPECT_EQ(office.satisfaction().numerator(), p.office_satisfied + p.office_basically);
  ASSERT_NE(office.satisfaction().numerator(), unit.satisfaction().numerator());
  // 参评满意率 = 参评率 × 满意率, from the plan's own counts.
  const double rated = p.office_satisfied + p.office_basically + p.office_dissatisfied;
  ASSERT_GT(p.decided, 0);
  EXPECT_NEAR(office.participation_satisfaction(),
              (rated / p.decided) * (double(p.office_satisfied + p.office_basically) / p.decided),
              1e-12);
  EXPECT_EQ(with_lapsed->petition_office().satisfaction().numerator(),
            p.office_satisfied + p.office_basically + p.lapsed);
  EXPECT_NEAR(st->average_acceptance_days(), p.acceptance_days / p.accepted, 1e-6);
  EXPECT_NEAR(st->average_decision_days(), p.decision_days / p.decided, 1e-6);
  EXPECT_EQ(st->online_share().numerator(), p.online);
  for (const auto& c : st->by_channel()) {
    const std::string name = "CHANNEL_" + absl::AsciiStrToUpper(c.key());
    EXPECT_EQ(c.count(), p.by_channel.at(name)) << c.key();
  }
  int never = 0;
  for (int i = 0; i < kCases; ++i) never += i % 3 == 2;
  for (const auto& c : st->by_stage()) {
    if (c.key() == "intake") {
      EXPECT_EQ(c.count(), never);
    }
    if (c.key() == "final") {
      EXPECT_EQ(c.count(), p.decided);
    }
  }
  // Another subtree and an earlier period see nothing.
  auto elsewhere = Stats("prov.city-a", false);
  ASSERT_THAT(elsewhere, testing::IsOk());
  EXPECT_EQ(elsewhere->received(), 0);
  EXPECT_EQ(elsewhere->on_time_acceptance_notice().denominator(), 0);
  auto earlier = Stats("", false, Local(2026, 1, 1), Local(2026, 3, 1));
  ASSERT_THAT(earlier, testing::IsOk());
  EXPECT_EQ(earlier->received(), 0);
  // A period must be given the right way round.
  EXPECT_THAT(Stats("", false, Local(2026, 4, 1), Local(2026, 3, 1)),
              testing::StatusIs(absl::StatusCode::kInvalidArgument));
  EXPECT_THAT(Stats("nowhere", false), testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

// The counts kept as cases change (and folded, and rebuilt) give exactly
// what a recount from the cases gives, for periods on and off local day
// and month boundaries and for every subtree.
TEST_F(StatsTest, KeptCountsEqualARecount) {
  const Plan plan = DrivePlan();
  const absl::Time kAt[] = {Local(2025, 1, 1),     Local(2026, 3, 1),     Local(2026, 3, 2, 9),
                            Local(2026, 3, 2, 9) + absl::Seconds(1),
                            Local(2026, 3, 2, 12), Local(2026, 3, 17),
                            Local(2026, 3, 19, 9), Local(2026, 3, 22, 10),
                            Local(2026, 4, 1),     Local(2026, 5, 6),
                            Local(2026, 5, 11, 9) + absl::Seconds(1),
                            Local(2026, 5, 12),    Local(2026, 7, 1),
                            Local(2027, 1, 1),     Local(2028, 1, 1, 12)};
  const std::string kUnits[] = {"", "prov", "prov.organs.office", "prov.city-a"};
  storage::CaseStore& store = server_.core().store();
  // Every period of kAt's instants, every unit: kept == recount. Returns
  // how many periods were compared.
  auto compare_all = [&](const std::string& when) {
    int compared = 0;
    for (const absl::Time& from : kAt) {
      for (const absl::Time& to : kAt) {
        if (from >= to) continue;
        for (const std::string& unit : kUnits) {
          storage::StatsQuery q;
          q.unit = unit;
          q.from = from;
          q.to = to;
          q.now = server_.core().clock().Now();
          auto kept = store.Statistics(q);
          q.recount = true;
          auto recount = store.Statistics(q);
          EXPECT_THAT(kept, testing::IsOk());
          EXPECT_THAT(recount, testing::IsOk());
          if (!kept.ok() || !recount.ok()) return compared;
          EXPECT_TRUE(*kept == *recount)
              << when << ": [" << from << ", " << to << ") unit '" << unit << "': kept "
              << kept->received << " received, " << kept->notice_due << " notices due, "
              << kept->handling_unit.due << " evaluations; recount " << recount->received << ", "
              << recount->notice_due << ", " << recount->handling_unit.due;
          ++compared;
        }
      }
    }
    return compared;
  };
  // The supervisors' board, seen at each instant from every unit: kept ==
  // recount. Returns the boards' totals, so each figure is seen non-zero.
  auto compare_boards = [&](const std::string& when) {
    storage::DashboardCount total;
    for (const absl::Time& now : kAt) {
      for (const std::string& unit : kUnits) {
        auto kept = store.Dashboard(unit, now, absl::Hours(24 * 7));
        auto recount = store.Dashboard(unit, now, absl::Hours(24 * 7), true);
        EXPECT_THAT(kept, testing::IsOk());
        EXPECT_THAT(recount, testing::IsOk());
        if (!kept.ok() || !recount.ok()) return total;
        EXPECT_TRUE(*kept == *recount) << when << ": board at " << now << " of '" << unit
                                       << "': kept " << kept->size() << " rows, recount "
                                       << recount->size();
        for (const storage::DashboardCount& c : *kept) {
          total.open_cases += c.open_cases;
          total.due_soon += c.due_soon;
          total.overdue += c.overdue;
          total.escalated += c.escalated;
        }
      }
    }
    return total;
  };
  auto board_seen = [](const storage::DashboardCount& t) {
    return t.open_cases > 0 && t.due_soon > 0 && t.overdue > 0 && t.escalated > 0;
  };
  EXPECT_EQ(compare_all("as appended"), 105 * 4);  // 15 instants: 105 periods
  EXPECT_TRUE(board_seen(compare_boards("as appended")));
  // The whole period is what the plan counted.
  storage::StatsQuery whole;
  whole.from = Local(2026, 3, 1);
  whole.to = Local(2027, 1, 1);
  whole.now = server_.core().clock().Now();
  auto st = store.Statistics(whole);
  ASSERT_THAT(st, testing::IsOk());
  EXPECT_EQ(st->received, plan.cases);
  EXPECT_EQ(st->decided, plan.decided);
  EXPECT_EQ(st->handling_unit.due, plan.decided);
  EXPECT_EQ(st->petition_office.due, plan.decided);

  // Folded into day and month rows: the same.
  for (int i = 0; i < 100; ++i) {
    auto folded = store.FoldStatistics(7);  // small batches: folds interleave
    ASSERT_THAT(folded, testing::IsOk());
    if (*folded == 0) break;
  }
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM stats_cells WHERE NOT folded"), "0");
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM board_cells WHERE NOT folded"), "0");
  EXPECT_TRUE(board_seen(compare_boards("folded")));
  EXPECT_NE(server_.db().Query("SELECT count(*) FROM stats_cells WHERE grain = 'm'"), "0");
  EXPECT_NE(server_.db().Query("SELECT count(*) FROM stats_cells WHERE grain = 'y'"), "0");
  compare_all("folded");

  // Counted again from scratch: the same; a rebuild in the same zone is
  // skipped unless forced.
  auto skipped = store.RebuildStatistics("Asia/Shanghai", false);
  ASSERT_THAT(skipped, testing::IsOk());
  EXPECT_EQ(*skipped, 0);
  auto rebuilt = store.RebuildStatistics("Asia/Shanghai", true);
  ASSERT_THAT(rebuilt, testing::IsOk());
  EXPECT_EQ(*rebuilt, plan.cases);
  compare_all("rebuilt");
  EXPECT_TRUE(board_seen(compare_boards("rebuilt")));

  // The kept counts are what answers: a lost year row shows in a period of
  // whole years, a lost month row in one of whole months (neither is papered
  // over by a silent recount).
  storage::StatsQuery years = whole;
  years.from = Local(2025, 1, 1);
  server_.db().Exec("DELETE FROM stats_cells WHERE grain = 'y' AND figure = 'category'");
  auto no_year = store.Statistics(years);
  ASSERT_THAT(no_year, testing::IsOk());
  EXPECT_EQ(no_year->received, plan.cases);  // by month: from month rows
  EXPECT_TRUE(no_year->by_category.empty());
  server_.db().Exec(
      "DELETE FROM stats_cells WHERE grain = 'm' AND figure = 'channel' AND day = '2026-03-01'");
  auto damaged = store.Statistics(whole);
  ASSERT_THAT(damaged, testing::IsOk());
  EXPECT_EQ(damaged->received, 0);
  whole.recount = true;
  auto recounted = store.Statistics(whole);
  ASSERT_THAT(recounted, testing::IsOk());
  EXPECT_EQ(recounted->received, plan.cases);
  // Counts kept in another zone are not used: that query recounts.
  whole.recount = false;
  whole.time_zone = "Europe/Berlin";
  auto other_zone = store.Statistics(whole);
  ASSERT_THAT(other_zone, testing::IsOk());
  EXPECT_EQ(other_zone->received, plan.cases);
  whole.time_zone = "Mars/Olympus";
  EXPECT_THAT(store.Statistics(whole), testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace xinfang
