// Input checks shared by the services: text, resident IDs, phone numbers,
// configuration. No database.
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "services/common/config.h"
#include "services/common/validate.h"
#include "services/storage/db.h"
#include "tests/testing/status_matchers.h"

namespace xinfang {
namespace {

using testing::IsOk;
using testing::StatusIs;
using ::testing::AllOf;
using ::testing::HasSubstr;

TEST(ValidateTest, ResidentIdChecksumAndBirthDate) {
  EXPECT_TRUE(IsValidResidentId("11010519491231002X"));
  EXPECT_TRUE(IsValidResidentId("11010519491231002x"));
  EXPECT_TRUE(IsValidResidentId("440524198001010013"));
  EXPECT_FALSE(IsValidResidentId("440524198001010014"));  // one digit off
  EXPECT_FALSE(IsValidResidentId("110105194912310021"));  // wrong check digit
  EXPECT_FALSE(IsValidResidentId("11010519491331002X"));  // month 13
  EXPECT_FALSE(IsValidResidentId("11010519490230002X"));  // 30 February (check digit aside)
  EXPECT_FALSE(IsValidResidentId("1101051949123100"));    // too short
  EXPECT_FALSE(IsValidResidentId("1101051949123100AX"));  // letters
}

TEST(ValidateTest, Phones) {
  EXPECT_TRUE(IsValidPhone("13800000000"));
  EXPECT_TRUE(IsValidPhone("+86 138-0000-0000"));
  EXPECT_TRUE(IsValidPhone("12351"));
  EXPECT_FALSE(IsValidPhone("1234"));
  EXPECT_FALSE(IsValidPhone("138x0000000"));
  EXPECT_FALSE(IsValidPhone("138+0000000"));
}

TEST(ValidateTest, TextCountsCharactersNotBytes) {
  EXPECT_EQ(Utf8Length("信访"), 2);
  EXPECT_EQ(Utf8Length("a\xff"), -1);
  EXPECT_EQ(Utf8Length("\xc0\xaf"), -1);  // overlong '/'
  EXPECT_EQ(Utf8Length("\xed\xa0\x80"), -1);  // a surrogate
  EXPECT_THAT(CheckText("f", "信访信访", 4, true), IsOk());
  EXPECT_THAT(CheckText("f", "信访信访信", 4, true),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("f: 5 characters")));
  EXPECT_THAT(CheckText("f", " \t", 4, true),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("f: required")));
  EXPECT_THAT(CheckText("f", "", 4, false), IsOk());
  EXPECT_THAT(CheckText("f", "a\xff", 4, false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("UTF-8")));
  EXPECT_THAT(CheckText("f", std::string("a\0b", 3), 4, false),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("control")));
}

const char* NoEnv(const char*) { return nullptr; }

TEST(ConfigTest, FlagsOverEnvironmentAndClearErrors) {
  static std::map<std::string, std::string> env;
  env = {{"XINFANG_DB_URL", "postgresql://a@127.0.0.1/x"}, {"XINFANG_LISTEN", "127.0.0.1:1"}};
  auto lookup = [](const char* n) -> const char* {
    auto it = env.find(n);
    return it == env.end() ? nullptr : it->second.c_str();
  };
  auto c = ParseServerConfig({"--listen", "127.0.0.1:2", "--log-level=debug"}, lookup);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->db_url, "postgresql://a@127.0.0.1/x");
  EXPECT_EQ(c->listen, "127.0.0.1:2");
  EXPECT_EQ(c->log_level, LogLevel::kDebug);
  EXPECT_THAT(ParseServerConfig({}, NoEnv),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("no database")));
  EXPECT_THAT(ParseServerConfig({"--db=x", "--pool-size=0"}, NoEnv),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--pool-size")));
  EXPECT_THAT(ParseServerConfig({"--db=x", "--time-zone=Europe/Paris"}, NoEnv),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("Asia/Shanghai")));
  EXPECT_THAT(ParseServerConfig({"--db"}, NoEnv),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("needs a value")));
  auto sim = ParseServerConfig({"--db=x", "--simulated-clock=2026-03-02T09:00:00+08:00"}, NoEnv);
  ASSERT_THAT(sim, IsOk());
  EXPECT_EQ(absl::ToUnixSeconds(*sim->simulated_clock), 1772413200);
}

TEST(ConninfoTest, UrlsBecomeKeyValue) {
  auto c = storage::ToConninfo("postgresql://xinfang:p%40ss@127.0.0.1:5432/xinfang?sslmode=disable");
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(*c, "user=xinfang password=p@ss port=5432 host=127.0.0.1 dbname=xinfang sslmode=disable");
  EXPECT_EQ(*storage::ToConninfo("host=/tmp dbname=x"), "host=/tmp dbname=x");
  EXPECT_THAT(storage::ToConninfo("postgresql://h:99999/x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("port")));
}

TEST(ConfigTest, ReplicaSettings) {
  auto c = ParseServerConfig(
      {"--db=x", "--db-replica=postgresql://r@127.0.0.1:5433/x", "--db-replica-max-lag-ms=750"},
      NoEnv);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->db_replica_url, "postgresql://r@127.0.0.1:5433/x");
  EXPECT_EQ(c->db_replica_max_lag, absl::Milliseconds(750));
  auto defaults = ParseServerConfig({"--db=x"}, NoEnv);
  ASSERT_THAT(defaults, IsOk());
  EXPECT_EQ(defaults->db_replica_url, "");
  EXPECT_EQ(defaults->db_replica_max_lag, absl::Seconds(2));
  EXPECT_THAT(ParseServerConfig({"--db=x", "--db-replica-max-lag-ms=50"}, NoEnv),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--db-replica-max-lag-ms")));
  EXPECT_THAT(ParseServerConfig({"--db=x", "--db-replica=postgresql://r@h:0/x"}, NoEnv),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--db-replica: database URL")));
}

TEST(ConninfoTest, MultiHostUrlsKeepEveryHostAndPort) {
  EXPECT_EQ(*storage::ToConninfo("postgresql://xinfang@127.0.0.1:5433,127.0.0.1:5434/xinfang"
                                 "?target_session_attrs=read-write"),
            "user=xinfang port=5433,5434 host=127.0.0.1,127.0.0.1 dbname=xinfang "
            "target_session_attrs=read-write");
  // A host without a port keeps its place (libpq's default port there).
  EXPECT_EQ(*storage::ToConninfo("postgresql://a:5433,b/x"), "port=5433, host=a,b dbname=x");
  EXPECT_THAT(storage::ToConninfo("postgresql://a:5433,b:0/x"),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("bad port '0'")));
}

TEST(ConfigTest, NotificationSettings) {
  auto c = ParseServerConfig({"--db=x", "--smtp-server=127.0.0.1:2525",
                              "--smtp-from=xinfang@union.example", "--notify-off",
                              "escalation, petitioner_window"},
                             NoEnv);
  ASSERT_THAT(c, IsOk());
  EXPECT_EQ(c->smtp_server, "127.0.0.1:2525");
  EXPECT_EQ(c->smtp_from, "xinfang@union.example");
  EXPECT_EQ(c->notify_off, (std::vector<std::string>{"escalation", "petitioner_window"}));
  auto defaults = ParseServerConfig({"--db=x"}, NoEnv);
  ASSERT_THAT(defaults, IsOk());
  EXPECT_EQ(defaults->smtp_server, "");  // no mail: the outbox is not fed
  EXPECT_TRUE(defaults->notify_off.empty());
  EXPECT_THAT(ParseServerConfig({"--db=x", "--smtp-server=mail.example"}, NoEnv),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--smtp-server"), HasSubstr("host:port"))));
  EXPECT_THAT(ParseServerConfig({"--db=x", "--smtp-from=not-an-address"}, NoEnv),
              StatusIs(absl::StatusCode::kInvalidArgument, HasSubstr("--smtp-from")));
  EXPECT_THAT(ParseServerConfig({"--db=x", "--notify-off=escalation,sms"}, NoEnv),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       AllOf(HasSubstr("--notify-off"), HasSubstr("'sms'"))));
}

}  // namespace
}  // namespace xinfang
