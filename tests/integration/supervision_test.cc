// The timer sweeper against a real PostgreSQL, on driven clocks: warnings,
// overdue marking and the escalation ladder fire exactly once, at the exact
// instants, across processes and crashes.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <signal.h>
#include <spawn.h>
#include <sys/wait.h>

#include <thread>

#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "services/supervision/sweeper.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"
#include "tools/xfbench-timers/seed.h"

extern char** environ;

namespace xinfang {
namespace {

namespace v1 = xinfang::v1;
using testing::Caller;
using testing::IsOk;
using testing::TestServer;

const Caller kClerk{"clerk1", "intake_clerk", "prov.organs.office"};
const Caller kOfficer{"officer1", "case_officer", "prov.organs.office"};
const Caller kHead{"head1", "unit_head", "prov.organs.office"};
const Caller kSupervisor{"sup1", "supervisor", "prov"};

absl::TimeZone Shanghai() { return absl::FixedTimeZone(8 * 3600); }
absl::Time Local(int y, int m, int d, int hh = 0, int mm = 0, int ss = 0) {
  return absl::FromCivil(absl::CivilSecond(y, m, d, hh, mm, ss), Shanghai());
}

class SweeperTest : public ::testing::Test {
 protected:
  explicit SweeperTest(absl::Time start = Local(2026, 3, 2, 9)) : server_(start) {
    server_.TokenFor(kOfficer);  // an account of the unit, to be assigned
  }

  std::string Register(const std::string& request_id) {
    v1::RegisterCaseRequest r;
    r.set_request_id(request_id);
    v1::CaseIntake* in = r.mutable_intake();
    in->set_channel(v1::CHANNEL_CALL);
    in->set_purpose(v1::PURPOSE_CLAIM);
    in->set_category("wages.arrears");
    in->set_summary("拖欠工资");
    in->add_petitioners()->set_name(absl::StrCat("来电人", request_id));
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


  // Moves the server's clock to `to` through AdminService (which sweeps).
  void AdvanceTo(absl::Time to) { ASSERT_TRUE(server_.AdvanceTo(to).ok()); }


  // "kind" or "kind:rung" of the timer events of case `t` for `timer`.
  std::vector<std::string> TimerEvents(const std::string& t, const std::string& timer) {
    v1::GetHistoryRequest req;
    req.mutable_case_()->set_tracking_number(t);
    v1::GetHistoryResponse resp;
    auto ctx = server_.Context(kSupervisor);
    EXPECT_TRUE(server_.query()->GetHistory(ctx.get(), req, &resp).ok());
    std::vector<std::string> out;
    for (const auto& e : resp.events()) {
      auto it = e.fields().find("timer");
      if (it == e.fields().end() || it->second != timer || e.action() != "") continue;
      auto rung = e.fields().find("rung");
      out.push_back(rung == e.fields().end() ? e.kind() : absl::StrCat(e.kind(), ":", rung->second));
    }
    return out;
  }

  TestServer server_;
};

using ::testing::ElementsAre;
using ::testing::IsEmpty;

// An untouched case climbs the whole ladder as the clock moves, each rung
// once, each at its instant (15-day intake notice from Monday 2026-03-02:
// last day 2026-03-17, overdue from 2026-03-18 00:00 local).
TEST_F(SweeperTest, AnUntouchedCaseClimbsTheLadderRungByRung) {
  const std::string t = Register("sweep-ladder-01");
  AdvanceTo(Local(2026, 3, 15) - absl::Seconds(1));
  EXPECT_THAT(TimerEvents(t, "intake_notice"), IsEmpty());
  AdvanceTo(Local(2026, 3, 15));  // 3 days before the deadline instant (end of 3/17)
  EXPECT_THAT(TimerEvents(t, "intake_notice"), ElementsAre("deadline_warning"));
  AdvanceTo(Local(2026, 3, 17, 23, 59, 59));
  EXPECT_THAT(TimerEvents(t, "intake_notice"), ElementsAre("deadline_warning"));
  AdvanceTo(Local(2026, 3, 18));
  EXPECT_THAT(TimerEvents(t, "intake_notice"),
              ElementsAre("deadline_warning", "deadline_overdue", "escalated:1"));
  AdvanceTo(Local(2026, 3, 21) - absl::Seconds(1));
  EXPECT_EQ(TimerEvents(t, "intake_notice").size(), 3u);
  AdvanceTo(Local(2026, 3, 21));
  AdvanceTo(Local(2026, 3, 25));
  AdvanceTo(Local(2026, 4, 2));
  AdvanceTo(Local(2026, 6, 1));
  EXPECT_THAT(TimerEvents(t, "intake_notice"),
              ElementsAre("deadline_warning", "deadline_overdue", "escalated:1", "escalated:2",
                          "escalated:3", "escalated:4"));
  // Nothing is left to fire for it.
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM case_timers WHERE next_fire_at IS NOT NULL"),
            "0");
  // The supervisors' overdue list shows it, with the rungs climbed.
  v1::ListDeadlinesRequest lreq;
  lreq.set_overdue_only(true);
  v1::ListDeadlinesResponse lresp;
  auto ctx = server_.Context(kSupervisor);
  ASSERT_TRUE(server_.supervision()->ListDeadlines(ctx.get(), lreq, &lresp).ok());
  ASSERT_EQ(lresp.items_size(), 1);
  EXPECT_EQ(lresp.items(0).deadline().rung(), 4);
  EXPECT_TRUE(lresp.items(0).deadline().overdue());
}

// Acting in time cancels the timer: nothing fires afterwards.
TEST_F(SweeperTest, ActingInTimeCancelsTheDeadline) {
  const std::string t = Register("sweep-intime-01");
  AdvanceTo(Local(2026, 3, 16));
  Act(t, "accept", kClerk);
  AdvanceTo(Local(2026, 4, 30));
  EXPECT_THAT(TimerEvents(t, "intake_notice"), ElementsAre("deadline_warning"));
}

// An approved extension reschedules the warning and the deadline: nothing
// fires for the old instants. Accepted 2026-03-02: 60 days end 2026-05-01,
// inside the Labour Day break (5/1–5/5), rolled to Wednesday 2026-05-06.
// The extension lengthens the period to 90 days: Sunday 2026-05-31, rolled
// once to Monday 2026-06-01 (not 30 days after the rolled 5/6).
TEST_F(SweeperTest, ExtensionReschedulesWarningAndDeadline) {
  const std::string t = Register("sweep-extend-01");
  Act(t, "accept", kClerk);
  Act(t, "assign_officer", kHead, {{"officer", "officer1"}});
  Act(t, "request_extension", kOfficer, {{"reason", "案情复杂"}, {"days", "30"}});
  Act(t, "approve_extension", kHead, {{"days", "30"}, {"petitioner_told_on", "2026-03-02"}});
  AdvanceTo(Local(2026, 5, 7));  // past the old deadline and its warning
  EXPECT_THAT(TimerEvents(t, "handling"), IsEmpty());
  AdvanceTo(Local(2026, 5, 26) - absl::Seconds(1));  // just before 7 days before the new end
  EXPECT_THAT(TimerEvents(t, "handling"), IsEmpty());
  AdvanceTo(Local(2026, 5, 26));
  EXPECT_THAT(TimerEvents(t, "handling"), ElementsAre("deadline_warning"));
  AdvanceTo(Local(2026, 6, 1, 23, 59, 59));
  EXPECT_THAT(TimerEvents(t, "handling"), ElementsAre("deadline_warning"));
  AdvanceTo(Local(2026, 6, 2));
  EXPECT_THAT(TimerEvents(t, "handling"),
              ElementsAre("deadline_warning", "deadline_overdue", "escalated:1"));
}

// A re-check hearing stops the clock: nothing fires for the old deadline, and
// the answer is due later by the hearing's length. Re-check asked 2026-03-02:
// 30 days end Wednesday 4/1. Hearing 3/2–3/12 (10 days): 4/11, a Saturday,
// rolls to Monday 4/13; overdue from 4/14 00:00.
TEST_F(SweeperTest, AHearingSuspensionReschedulesTheAnswer) {
  const Caller kReviewHead{"rhead", "unit_head", "prov.organs"};
  const Caller kRecheckHead{"chead", "unit_head", "prov"};
  const std::string t = Register("sweep-hearing-01");
  Act(t, "accept", kClerk);
  Act(t, "assign_officer", kHead, {{"officer", "officer1"}});
  Act(t, "decide", kOfficer, {{"outcome", "not_supported"}, {"decision_text", "不予支持"}});
  Act(t, "serve", kClerk, {{"served_on", "2026-03-02"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}});
  Act(t, "request_review", kClerk, {{"reasons", "不服"}});
  Act(t, "review_opinion", kReviewHead, {{"review_outcome", "upheld"}, {"opinion_text", "维持"}});
  Act(t, "serve_review", kReviewHead, {{"served_on", "2026-03-02"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}});
  Act(t, "request_recheck", kClerk, {{"reasons", "仍不服"}});
  Act(t, "start_hearing", kRecheckHead);
  AdvanceTo(Local(2026, 3, 12, 9));
  Act(t, "end_hearing", kRecheckHead);
  AdvanceTo(Local(2026, 4, 5));  // past the old deadline (4/2 00:00) and its warning
  EXPECT_THAT(TimerEvents(t, "recheck_answer"), IsEmpty());
  AdvanceTo(Local(2026, 4, 9) - absl::Seconds(1));  // the new warning: 5 days before 4/14
  EXPECT_THAT(TimerEvents(t, "recheck_answer"), IsEmpty());
  AdvanceTo(Local(2026, 4, 13, 23, 59, 59));
  EXPECT_THAT(TimerEvents(t, "recheck_answer"), ElementsAre("deadline_warning"));
  AdvanceTo(Local(2026, 4, 14));
  EXPECT_THAT(TimerEvents(t, "recheck_answer"),
              ElementsAre("deadline_warning", "deadline_overdue", "escalated:1"));
}

// Expiry actions: an unused evaluation window lapses (逾期未评价) and an
// unused review window makes the decision final, each exactly once.
TEST_F(SweeperTest, LapsedWindowsAreTakenByTheSystem) {
  const std::string t = Register("sweep-lapse-01");
  Act(t, "accept", kClerk);
  Act(t, "assign_officer", kHead, {{"officer", "officer1"}});
  Act(t, "decide", kOfficer, {{"outcome", "explain"}, {"decision_text", "解释说明"}});
  Act(t, "serve", kClerk, {{"served_on", "2026-03-02"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}});
  AdvanceTo(Local(2026, 4, 30));
  v1::GetCaseRequest g;
  g.mutable_case_()->set_tracking_number(t);
  v1::GetCaseResponse gr;
  auto ctx = server_.Context(kClerk);
  ASSERT_TRUE(server_.query()->GetCase(ctx.get(), g, &gr).ok());
  EXPECT_EQ(gr.case_().evaluation(), "lapsed");
  EXPECT_EQ(gr.case_().state(), "closed");
  EXPECT_EQ(server_.db().Query(
                "SELECT count(*) FROM case_events WHERE action = 'evaluation_lapse'"), "1");
  EXPECT_EQ(server_.db().Query(
                "SELECT count(*) FROM case_events WHERE action = 'review_window_lapse'"), "1");
}

// The worked example of procedure.md §5 at its boundary instants: received
// 2025-09-20, 15 days end 2025-10-05 inside the National Day break and roll
// to 2025-10-09; overdue exactly at 2025-10-10 00:00 local.
class HolidaySweeperTest : public SweeperTest {
 protected:
  HolidaySweeperTest() : SweeperTest(Local(2025, 9, 20, 10)) {}
};

TEST_F(HolidaySweeperTest, OverdueExactlyAfterTheRolledLastDay) {
  const std::string t = Register("sweep-holiday-01");
  AdvanceTo(Local(2025, 10, 7) - absl::Seconds(1));
  EXPECT_THAT(TimerEvents(t, "intake_notice"), IsEmpty());
  AdvanceTo(Local(2025, 10, 7));  // warning: 3 days before the end of 10/9
  EXPECT_THAT(TimerEvents(t, "intake_notice"), ElementsAre("deadline_warning"));
  AdvanceTo(Local(2025, 10, 9, 23, 59, 59));
  EXPECT_THAT(TimerEvents(t, "intake_notice"), ElementsAre("deadline_warning"));
  AdvanceTo(Local(2025, 10, 10));
  EXPECT_THAT(TimerEvents(t, "intake_notice"),
              ElementsAre("deadline_warning", "deadline_overdue", "escalated:1"));
}

// A case the sweeper cannot decide (its workflow version is not loaded here)
// is put back for later; it neither spins the sweeper nor starves the others.
TEST_F(SweeperTest, AnUndecidableCaseDoesNotBlockTheOthers) {
  const std::string stuck = Register("sweep-stuck-01");
  const std::string fine = Register("sweep-fine-001");
  server_.db().Exec(absl::StrCat("UPDATE cases SET workflow_version = 99 WHERE tracking_number = '",
                                 stuck, "'"));
  AdvanceTo(Local(2026, 3, 16));
  EXPECT_THAT(TimerEvents(fine, "intake_notice"), ElementsAre("deadline_warning"));
  EXPECT_EQ(server_.db().Query(absl::StrCat(
                "SELECT count(*) FROM case_events e JOIN cases c ON c.id = e.case_id "
                "WHERE c.tracking_number = '", stuck, "'")),
            "1");  // only its registration
  EXPECT_EQ(server_.db().Query(absl::StrCat(
                "SELECT count(*) FROM case_timers t JOIN cases c ON c.id = t.case_id "
                "WHERE c.tracking_number = '", stuck, "' AND t.next_fire_at > xf_ts(",
                absl::ToUnixMicros(Local(2026, 3, 16)), ")")),
            "1");  // put back for later
}

// The sweeper writes a batch of cases with array-valued statements: text
// with quotes, backslashes, braces, commas and "NULL" comes back intact, and
// the history it extends still verifies.
TEST_F(SweeperTest, AwkwardTextSurvivesTheBatchedWrites) {
  const std::string t = Register("sweep-text-001");
  const std::string text = "他说\"不\" \\ {a,b} NULL 'x'";
  Act(t, "accept", kClerk);
  Act(t, "assign_officer", kHead, {{"officer", "officer1"}});
  Act(t, "decide", kOfficer, {{"outcome", "explain"}, {"decision_text", text}});
  Act(t, "serve", kClerk, {{"served_on", "2026-03-02"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}});
  AdvanceTo(Local(2026, 4, 30));  // the windows lapse: the sweeper rewrites the case
  const std::string where = absl::StrCat(" FROM cases WHERE tracking_number = '", t, "'");
  EXPECT_EQ(server_.db().Query("SELECT state" + where), "closed");
  EXPECT_EQ(server_.db().Query("SELECT attributes->>'decision_text'" + where), text);
  auto verified = server_.core().store().Verify(std::stoll(server_.db().Query("SELECT id" + where)));
  ASSERT_THAT(verified, IsOk());
  EXPECT_TRUE(verified->intact) << verified->detail;
}

// ---- Supervision notices (督办) ----

// A notice's life: issued with its own reply deadline, listed as awaiting a
// reply, answered in writing; all in the case history. An unanswered notice
// escalates like any deadline.
TEST_F(SweeperTest, ANoticeIsIssuedListedAndAnswered) {
  const std::string t = Register("notice-life-01");
  Act(t, "accept", kClerk);
  const Caller kProvSupervisor{"sup1", "supervisor", "prov"};
  Act(t, "issue_notice", kProvSupervisor,
      {{"notice_kind", "interview"}, {"notice_text", "请于十日内书面说明办理进展"}, {"reply_days", "10"}});
  // A second notice waits for the first to be answered.
  v1::TakeActionRequest again;
  again.mutable_case_()->set_tracking_number(t);
  again.set_action("issue_notice");
  again.set_expected_version(3);
  (*again.mutable_fields())["notice_kind"] = "urge";
  (*again.mutable_fields())["notice_text"] = "催办";
  v1::TakeActionResponse again_resp;
  auto actx = server_.Context(kProvSupervisor);
  EXPECT_EQ(server_.casework()->TakeAction(actx.get(), again, &again_resp).error_code(),
            grpc::StatusCode::FAILED_PRECONDITION);

  v1::ListDeadlinesRequest list;
  list.set_timer("notice_reply");
  list.mutable_before()->set_seconds(absl::ToUnixSeconds(Local(2026, 12, 31)));
  v1::ListDeadlinesResponse listed;
  auto lctx = server_.Context(kSupervisor);
  ASSERT_TRUE(server_.supervision()->ListDeadlines(lctx.get(), list, &listed).ok());
  ASSERT_EQ(listed.items_size(), 1);
  EXPECT_EQ(listed.items(0).tracking_number(), t);
  EXPECT_EQ(listed.items(0).deadline().due_date(), "2026-03-12");  // 10 days from 3/2

  Act(t, "reply_notice", kHead, {{"reply_text", "已约谈企业，正在核实"}});
  auto lctx2 = server_.Context(kSupervisor);
  ASSERT_TRUE(server_.supervision()->ListDeadlines(lctx2.get(), list, &listed).ok());
  EXPECT_EQ(listed.items_size(), 0);
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM case_events WHERE action IN "
                               "('issue_notice', 'reply_notice')"), "2");

  // A second notice, left unanswered, escalates.
  Act(t, "issue_notice", kProvSupervisor, {{"notice_kind", "urge"}, {"notice_text", "催办"}});
  AdvanceTo(Local(2026, 4, 30));
  EXPECT_THAT(TimerEvents(t, "notice_reply"),
              ElementsAre("deadline_warning", "deadline_overdue", "escalated:1", "escalated:2",
                          "escalated:3", "escalated:4"));
}

// A second notice without reply_days gets the default 30 days, not the
// first notice's; during review, the notice is owed by the responsible unit
// and the review answer by the review unit.
TEST_F(SweeperTest, NoticeDefaultsAndOwingUnits) {
  const Caller kProvSupervisor{"sup1", "supervisor", "prov"};
  const std::string t = Register("notice-owing-01");
  Act(t, "accept", kClerk);
  Act(t, "issue_notice", kProvSupervisor,
      {{"notice_kind", "urge"}, {"notice_text", "催办"}, {"reply_days", "5"}});
  Act(t, "reply_notice", kHead, {{"reply_text", "已办"}});
  Act(t, "assign_officer", kHead, {{"officer", "officer1"}});
  Act(t, "decide", kOfficer, {{"outcome", "explain"}, {"decision_text", "解释"}});
  Act(t, "serve", kClerk, {{"served_on", "2026-03-02"}, {"method", "in_person"}, {"receipt", "signed"}, {"signed_by", "张三"}});
  Act(t, "request_review", kClerk, {{"reasons", "不服"}});
  Act(t, "issue_notice", kProvSupervisor, {{"notice_kind", "interview"}, {"notice_text", "约谈"}});
  EXPECT_EQ(server_.db().Query("SELECT due_day::text FROM case_timers WHERE name = 'notice_reply'"),
            "2026-04-01");  // 30 days from 3/2
  EXPECT_EQ(server_.db().Query("SELECT owing_unit FROM case_timers WHERE name = 'notice_reply'"),
            "prov.organs.office");
  EXPECT_EQ(server_.db().Query("SELECT owing_unit FROM case_timers WHERE name = 'review_answer'"),
            "prov.organs");
}

// The lists: filters by owing unit subtree, timer, stage, days overdue and
// escalation; urgency order; pages that neither skip nor repeat.
TEST_F(SweeperTest, ListsFilterSortAndPage) {
  std::vector<std::string> ts;
  for (int i = 0; i < 5; ++i) {
    ts.push_back(Register(absl::StrCat("list-case-", i)));
    AdvanceTo(server_.core().clock().Now() + absl::Hours(24));  // one a day: distinct deadlines
  }
  Act(ts[4], "accept", kClerk);  // its intake notice is answered; handling runs 60 days
  AdvanceTo(Local(2026, 3, 25));  // intake notices of ts[0..3] are 4–7 days overdue

  auto list = [&](std::function<void(v1::ListDeadlinesRequest&)> set) {
    v1::ListDeadlinesRequest req;
    set(req);
    v1::ListDeadlinesResponse resp;
    auto ctx = server_.Context(kSupervisor);
    grpc::Status s = server_.supervision()->ListDeadlines(ctx.get(), req, &resp);
    EXPECT_TRUE(s.ok()) << s.error_message();
    std::vector<std::string> out;
    for (const auto& it : resp.items()) out.push_back(it.tracking_number());
    return std::make_pair(out, resp.next_page_token());
  };
  EXPECT_EQ(list([](auto& r) { r.set_overdue_only(true); }).first,
            (std::vector<std::string>{ts[0], ts[1], ts[2], ts[3]}));  // most overdue first
  EXPECT_EQ(list([](auto& r) { r.set_min_days_overdue(6); }).first,
            (std::vector<std::string>{ts[0], ts[1]}));
  EXPECT_EQ(list([](auto& r) { r.set_stage(v1::STAGE_HANDLING); r.mutable_before()->set_seconds(
                                   absl::ToUnixSeconds(Local(2026, 12, 1))); }).first,
            (std::vector<std::string>{ts[4]}));
  EXPECT_EQ(list([](auto& r) { r.set_overdue_only(true); r.set_unit("prov.city-a"); }).first,
            (std::vector<std::string>{}));
  EXPECT_EQ(list([](auto& r) { r.set_overdue_only(true); r.set_unit("prov.organs"); }).first.size(),
            4u);
  EXPECT_EQ(list([](auto& r) { r.set_escalated_only(true); r.set_timer("handling"); }).first,
            (std::vector<std::string>{}));
  // Pages of 3: all four, in order, once.
  auto [page1, token] = list([](auto& r) { r.set_overdue_only(true); r.set_page_size(3); });
  ASSERT_EQ(page1.size(), 3u);
  ASSERT_FALSE(token.empty());
  const std::string tok = token;
  auto [page2, token2] = list([&](auto& r) {
    r.set_overdue_only(true);
    r.set_page_size(3);
    r.set_page_token(tok);
  });
  EXPECT_EQ(page2, (std::vector<std::string>{ts[3]}));
  EXPECT_TRUE(token2.empty());

  v1::ListDeadlinesRequest bad;
  bad.set_page_token("garbage");
  v1::ListDeadlinesResponse resp;
  auto ctx = server_.Context(kSupervisor);
  EXPECT_EQ(server_.supervision()->ListDeadlines(ctx.get(), bad, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);
  bad.set_page_token("");
  bad.set_unit("nowhere");
  auto ctx2 = server_.Context(kSupervisor);
  EXPECT_EQ(server_.supervision()->ListDeadlines(ctx2.get(), bad, &resp).error_code(),
            grpc::StatusCode::INVALID_ARGUMENT);

  // The dashboard counts the same cases.
  v1::DashboardRequest dreq;
  v1::DashboardResponse dash;
  auto dctx = server_.Context(kSupervisor);
  ASSERT_TRUE(server_.supervision()->Dashboard(dctx.get(), dreq, &dash).ok());
  int open = 0, overdue = 0, escalated = 0;
  for (const auto& row : dash.rows()) {
    EXPECT_EQ(row.unit(), "prov.organs.office");
    open += row.open_cases();
    overdue += row.overdue();
    escalated += row.escalated();
  }
  EXPECT_EQ(open, 5);
  EXPECT_EQ(overdue, 4);
  EXPECT_EQ(escalated, 4);  // rung 1 at the deadline, rung 2 three days later
}

// ---- Many timers, several processes, crashes ----

pid_t SpawnSweeper(const std::string& db_url, absl::Time at, int batch) {
  const std::string bin = testing::BinaryDir() + "/services/xinfang-supervision";
  const std::string db = "--db=" + db_url;
  const std::string data = "--data-dir=" + testing::SourceDir() + "/deploy";
  const std::string clock =
      "--simulated-clock=" + absl::FormatTime(absl::RFC3339_full, at, absl::UTCTimeZone());
  const std::string b = absl::StrCat("--sweep-batch=", batch);
  const char* argv[] = {bin.c_str(), db.c_str(), data.c_str(), clock.c_str(), b.c_str(),
                        "--sweep-interval-ms=20", "--listen=127.0.0.1:0", "--log-level=warn",
                        nullptr};
  pid_t pid = 0;
  EXPECT_EQ(posix_spawn(&pid, bin.c_str(), nullptr, nullptr, const_cast<char**>(argv), environ), 0);
  return pid;
}

int Due(const testing::TestDatabase& db, absl::Time at) {
  return std::stoi(db.Query(absl::StrCat(
      "SELECT count(*) FROM case_timers WHERE next_fire_at <= xf_ts(", absl::ToUnixMicros(at), ")")));
}

// Each (case, timer, event kind, rung) appears at most once.
std::string Duplicates(const testing::TestDatabase& db) {
  return db.Query(R"sql(
    SELECT count(*) FROM (
      SELECT case_id, fields->>'timer', kind, coalesce(fields->>'rung', '')
        FROM case_events WHERE kind IN ('deadline_warning', 'deadline_overdue', 'escalated')
       GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) d)sql");
}

void WaitUntilNoneDue(const testing::TestDatabase& db, absl::Time at, absl::Duration limit) {
  const absl::Time give_up = absl::Now() + limit;
  while (Due(db, at) > 0 && absl::Now() < give_up) absl::SleepFor(absl::Milliseconds(100));
  ASSERT_EQ(Due(db, at), 0) << "sweepers did not finish in " << limit;
}

void Terminate(pid_t pid, int sig = SIGTERM) {
  kill(pid, sig);
  int status = 0;
  waitpid(pid, &status, 0);
  if (sig == SIGTERM) {
    EXPECT_TRUE(WIFEXITED(status) && WEXITSTATUS(status) == 0);
  }
}

// A sweeper in another process, on the real clock with a 10-minute interval,
// wakes within moments when a deadline that is already due is written.
class WakeTest : public ::testing::Test {
 protected:
  WakeTest() : server_(std::nullopt, /*sweeper=*/false) {}
  TestServer server_;
};

TEST_F(WakeTest, ASweeperElsewhereWakesWhenADueDeadlineIsWritten) {
  const std::string bin = testing::BinaryDir() + "/services/xinfang-supervision";
  const std::string db = "--db=" + server_.db().url();
  const std::string data = "--data-dir=" + testing::SourceDir() + "/deploy";
  const char* argv[] = {bin.c_str(), db.c_str(), data.c_str(), "--sweep-interval-ms=600000",
                        "--listen=127.0.0.1:0", "--log-level=warn", nullptr};
  pid_t pid = 0;
  ASSERT_EQ(posix_spawn(&pid, bin.c_str(), nullptr, nullptr, const_cast<char**>(argv), environ), 0);
  // Wait (bounded) until it listens.
  const absl::Time give_up = absl::Now() + absl::Seconds(20);
  while (server_.db().Query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'") ==
             "0" &&
         absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  ASSERT_EQ(server_.db().Query("SELECT count(*) FROM pg_stat_activity WHERE datname = current_database() AND query LIKE 'LISTEN%'"),
            "1");
  // Received 20 days ago: its 15-day intake notice is already overdue.
  v1::RegisterCaseRequest r;
  r.set_request_id("wake-case-0001");
  v1::CaseIntake* in = r.mutable_intake();
  in->set_channel(v1::CHANNEL_LETTER);
  in->mutable_received_at()->set_seconds(absl::ToUnixSeconds(absl::Now() - absl::Hours(24 * 20)));
  in->set_purpose(v1::PURPOSE_CLAIM);
  in->set_category("wages.arrears");
  in->set_summary("来信反映欠薪");
  in->add_petitioners()->set_name("周九");
  v1::RegisterCaseResponse resp;
  auto ctx = server_.Context(kClerk);
  ASSERT_TRUE(server_.intake()->RegisterCase(ctx.get(), r, &resp).ok());
  const absl::Time written = absl::Now();
  auto overdue = [&] {
    return server_.db().Query("SELECT count(*) FROM case_events WHERE kind = 'deadline_overdue'");
  };
  while (overdue() == "0" && absl::Now() - written < absl::Seconds(30)) {
    absl::SleepFor(absl::Milliseconds(20));
  }
  const absl::Duration took = absl::Now() - written;
  Terminate(pid);
  EXPECT_EQ(overdue(), "1");
  EXPECT_LT(took, absl::Seconds(10)) << "woke only after " << took;
  std::cout << "a sweeper in another process fired " << absl::FormatDuration(took)
            << " after the write\n";
}

class ManyTimersTest : public SweeperTest {
 protected:
  // Registers one case at 2026-03-02 09:00 and clones it to `n` in all.
  void Seed(int n) {
    const std::string t = Register("sweep-template");
    const std::string id = server_.db().Query(
        absl::StrCat("SELECT id FROM cases WHERE tracking_number = '", t, "'"));
    auto ids = bench::CloneCase(server_.db().url(), std::stoll(id), n - 1);
    ASSERT_THAT(ids, IsOk());
    ids_ = std::move(*ids);
    ASSERT_EQ(server_.db().Query("SELECT count(*) FROM case_timers"), absl::StrCat(n));
  }
  // Every `step`-th copy's history verifies (hash chain and head).
  void ExpectHistoriesIntact(int step) {
    for (std::size_t i = 0; i < ids_.size(); i += step) {
      auto v = server_.core().store().Verify(ids_[i]);
      ASSERT_THAT(v, IsOk());
      EXPECT_TRUE(v->intact) << "case " << ids_[i] << ": " << v->detail;
    }
  }
  std::vector<int64_t> ids_;
  // 2026-04-01 09:00: warning, overdue, rungs 1–3 are due (rung 4 is not).
  const absl::Time kLater = Local(2026, 4, 1, 9);
  static constexpr int kEventsPerCase = 5;
};

TEST_F(ManyTimersTest, TwoSweeperProcessesFireEachTimerExactlyOnce) {
  constexpr int kCases = 30000;
  Seed(kCases);
  const absl::Time start = absl::Now();
  pid_t a = SpawnSweeper(server_.db().url(), kLater, 200);
  pid_t b = SpawnSweeper(server_.db().url(), kLater, 200);
  WaitUntilNoneDue(server_.db(), kLater, absl::Minutes(4));
  std::cout << "two sweepers fired " << kCases * kEventsPerCase << " events in "
            << absl::FormatDuration(absl::Now() - start) << "\n";
  Terminate(a);
  Terminate(b);
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM case_events WHERE actor = 'system' "
                               "AND kind <> 'warning_raised'"),
            absl::StrCat(kCases * kEventsPerCase));
  EXPECT_EQ(Duplicates(server_.db()), "0");
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM case_timers WHERE rung <> 3 OR NOT overdue"),
            "0");
  ExpectHistoriesIntact(kCases / 100);
}

TEST_F(ManyTimersTest, ASweeperKilledMidBatchLosesAndDoublesNothing) {
  constexpr int kCases = 10000;
  Seed(kCases);
  pid_t a = SpawnSweeper(server_.db().url(), kLater, 500);
  // Kill it once it has committed some batches but not all.
  const absl::Time give_up = absl::Now() + absl::Minutes(2);
  int due = kCases;
  while ((due = Due(server_.db(), kLater)) == kCases && absl::Now() < give_up) {
    absl::SleepFor(absl::Milliseconds(2));
  }
  Terminate(a, SIGKILL);
  const int left = Due(server_.db(), kLater);
  EXPECT_GT(left, 0) << "the sweeper finished before it could be killed";
  EXPECT_LT(left, kCases);
  pid_t b = SpawnSweeper(server_.db().url(), kLater, 500);
  WaitUntilNoneDue(server_.db(), kLater, absl::Minutes(3));
  Terminate(b);
  EXPECT_EQ(server_.db().Query("SELECT count(*) FROM case_events WHERE actor = 'system' "
                               "AND kind <> 'warning_raised'"),
            absl::StrCat(kCases * kEventsPerCase));
  EXPECT_EQ(Duplicates(server_.db()), "0");
  ExpectHistoriesIntact(kCases / 100);
}

}  // namespace
}  // namespace xinfang
