// Tests of xfctl's command line without a server: the settings (config
// file, environment, flags before and after the command), a command's flags
// and positional arguments (tools/xfctl/args.h), finding the command in a
// table, the help it prints and the exit codes (tools/xfctl/command.h). The
// messages are those xfctl prints after "xfctl: " (docs/cli.md, the e2e
// tests grep them).
#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <map>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "tests/testing/status_matchers.h"
#include "tools/xfctl/args.h"
#include "tools/xfctl/command.h"

namespace xinfang::xfctl {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::xinfang::testing::IsOk;
using ::xinfang::testing::StatusIs;

constexpr auto kUsage = absl::StatusCode::kInvalidArgument;

// A stand-in environment.
Getenv Env(std::map<std::string, std::string> vars) {
  return [vars = std::move(vars)](const char* name) -> const char* {
    auto it = vars.find(name);
    return it == vars.end() ? nullptr : it->second.c_str();
  };
}

// A file in the test's temp directory with `text` in it.
std::string WriteFile(const std::string& name, const std::string& text) {
  const std::string path = (std::filesystem::path(::testing::TempDir()) / name).string();
  std::ofstream(path) << text;
  return path;
}

absl::StatusOr<Args> Parse(const std::vector<std::string>& in,
                           const std::set<std::string>& allowed = {"unit", "kind", "text",
                                                                   "overdue"}) {
  return ParseArgs(in, 0, "sup due", allowed);
}

TEST(ParseArgs, ValueAfterTheFlagOrAfterEquals) {
  absl::StatusOr<Args> a = Parse({"--unit", "prov", "--text=a=b"});
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->Get("unit"), "prov");
  EXPECT_EQ(a->Get("text"), "a=b");  // split at the first '='
  EXPECT_EQ(a->Get("kind", "urge"), "urge");
  EXPECT_FALSE(a->Has("kind"));
  EXPECT_THAT(a->positional, IsEmpty());
}

TEST(ParseArgs, TheNextWordIsTheValueEvenWhenItLooksLikeAFlag) {
  absl::StatusOr<Args> a = Parse({"--text", "--unit", "x"});
  ASSERT_THAT(a, IsOk());
  EXPECT_EQ(a->Get("text"), "--unit");
  EXPECT_FALSE(a->Has("unit"));
  EXPECT_THAT(a->positional, ElementsAre("x"));
}

TEST(ParseArgs, RepeatedFlagsKeepEveryValueInOrder) {
  absl::StatusOr<Args> a = Parse({"--kind", "b", "--kind=a", "--kind", "c"});
  ASSERT_THAT(a, IsOk());
  EXPECT_THAT(a->All("kind"), ElementsAre("b", "a", "c"));
  EXPECT_EQ(a->Get("kind"), "b");  // the first
}

TEST(ParseArgs, OnOffFlagsTakeNoValue) {
  absl::StatusOr<Args> a = Parse({"--overdue", "X1", "--json=false"});
  ASSERT_THAT(a, IsOk());
  EXPECT_TRUE(a->Has("overdue"));
  EXPECT_THAT(a->positional, ElementsAre("X1"));
  // A value given with = is kept, and the flag is still on (docs/cli.md quirks).
  EXPECT_TRUE(a->Has("json"));
  EXPECT_EQ(a->Get("json"), "false");
}

TEST(ParseArgs, PositionalArgumentsInOrderAroundFlags) {
  absl::StatusOr<Args> a = Parse({"A", "--unit", "u", "B", "--", "-x", "C"});
  ASSERT_THAT(a, IsOk());
  // "--" and "-x" are no flags.
  EXPECT_THAT(a->positional, ElementsAre("A", "B", "--", "-x", "C"));
}

TEST(ParseArgs, ReadsFromTheGivenIndex) {
  absl::StatusOr<Args> a = ParseArgs({"case", "show", "X"}, 2, "case show", {});
  ASSERT_THAT(a, IsOk());
  EXPECT_THAT(a->positional, ElementsAre("X"));
}

TEST(ParseArgs, GlobalFlagsAreAcceptedAfterTheCommand) {
  absl::StatusOr<Args> a =
      Parse({"--json", "--server", "h:1", "--timeout=3", "--token", "t", "--token-file", "f",
             "--tls-ca", "ca", "--tls-cert", "c", "--tls-key", "k"},
            {});
  ASSERT_THAT(a, IsOk());
  EXPECT_TRUE(a->Has("json"));
  EXPECT_EQ(a->Get("server"), "h:1");
  EXPECT_EQ(a->Get("timeout"), "3");
  EXPECT_EQ(a->Get("tls-key"), "k");
}

TEST(ParseArgs, UnknownFlagNamesTheCommand) {
  EXPECT_THAT(ParseArgs({"X", "--colour"}, 0, "case show", {}),
              StatusIs(kUsage, "case show: unknown flag --colour (see xfctl help)"));
  EXPECT_THAT(ParseArgs({"--colour=red"}, 0, "case show", {}),
              StatusIs(kUsage, "case show: unknown flag --colour (see xfctl help)"));
  // --help only before the command.
  EXPECT_THAT(ParseArgs({"--help"}, 0, "case show", {}),
              StatusIs(kUsage, "case show: unknown flag --help (see xfctl help)"));
}

TEST(ParseArgs, MissingValue) {
  EXPECT_THAT(Parse({"--unit"}), StatusIs(kUsage, "flag --unit needs a value"));
  EXPECT_THAT(Parse({"X", "--server"}), StatusIs(kUsage, "flag --server needs a value"));
  EXPECT_THAT(Parse({"--unit="}), IsOk());  // an empty value is a value
}

TEST(ParseArgs, TheFirstErrorWins) {
  EXPECT_THAT(Parse({"--colour", "--unit"}),
              StatusIs(kUsage, "sup due: unknown flag --colour (see xfctl help)"));
}

TEST(ArgsNumber, DefaultWithoutTheFlag) {
  Args a;
  EXPECT_EQ(*a.Number<int>("page-size", 500), 500);
  a.flags.emplace("page-size", "25");
  EXPECT_EQ(*a.Number<int>("page-size", 500), 25);
}

TEST(ArgsNumber, NotANumber) {
  Args a;
  a.flags.emplace("page-size", "x");
  EXPECT_THAT(a.Number<int>("page-size", 0), StatusIs(kUsage, "--page-size: not a number"));
  // Too large for the field's type.
  a.flags.clear();
  a.flags.emplace("page-size", "3000000000");
  EXPECT_THAT(a.Number<int>("page-size", 0), StatusIs(kUsage, "--page-size: not a number"));
  EXPECT_EQ(*a.Number<int64_t>("page-size", 0), 3000000000);
}

TEST(LeadingFlags, SetsTheGlobalsAndFindsTheCommand) {
  Global g;
  bool help = true;
  absl::StatusOr<std::size_t> at = ParseLeadingFlags(
      {"--server", "h:1", "--json", "--timeout=5", "--token", "a", "--token", "b", "case", "show",
       "--server", "ignored"},
      g, help);
  ASSERT_THAT(at, IsOk());
  EXPECT_EQ(*at, 8u);
  EXPECT_FALSE(help);
  EXPECT_EQ(g.server, "h:1");
  EXPECT_TRUE(g.json);
  EXPECT_EQ(g.timeout, 5);
  EXPECT_EQ(g.token, "b");  // before the command, the later one wins
}

TEST(LeadingFlags, NoCommand) {
  Global g;
  bool help = false;
  EXPECT_EQ(*ParseLeadingFlags({}, g, help), 0u);
  EXPECT_EQ(*ParseLeadingFlags({"--json"}, g, help), 1u);
}

TEST(LeadingFlags, HelpStopsTheReading) {
  Global g;
  bool help = false;
  absl::StatusOr<std::size_t> at = ParseLeadingFlags({"--json", "--help", "--bogus"}, g, help);
  ASSERT_THAT(at, IsOk());
  EXPECT_TRUE(help);
  EXPECT_EQ(*at, 1u);
}

TEST(LeadingFlags, Errors) {
  Global g;
  bool help = false;
  EXPECT_THAT(ParseLeadingFlags({"--colour", "red", "info"}, g, help),
              StatusIs(kUsage, "unknown global flag --colour (see xfctl help)"));
  // An unknown flag takes the next word as its value, --help included.
  EXPECT_THAT(ParseLeadingFlags({"--bogus", "--help"}, g, help),
              StatusIs(kUsage, "unknown global flag --bogus (see xfctl help)"));
  EXPECT_FALSE(help);
  EXPECT_THAT(ParseLeadingFlags({"--server"}, g, help),
              StatusIs(kUsage, "flag --server needs a value"));
  EXPECT_THAT(ParseLeadingFlags({"--timeout", "soon", "info"}, g, help),
              StatusIs(kUsage, "--timeout: not a number"));
  EXPECT_THAT(ParseLeadingFlags({"--token-file=/nonexistent/xfctl", "info"}, g, help),
              StatusIs(kUsage, "--token-file: cannot read '/nonexistent/xfctl'"));
}

TEST(TrailingFlags, TokenFileWinsOverTokenWhateverTheOrder) {
  const std::string file = WriteFile("trailing.token", "  xf_from_file\n");
  Args a;
  a.flags.emplace("token-file", file);
  a.flags.emplace("token", "xf_flag");
  a.flags.emplace("json", "");
  a.flags.emplace("timeout", "7");
  Global g;
  ASSERT_THAT(ApplyTrailingFlags(a, g), IsOk());
  EXPECT_EQ(g.token, "xf_from_file");  // read, whitespace stripped
  EXPECT_TRUE(g.json);
  EXPECT_EQ(g.timeout, 7);
}

TEST(TrailingFlags, Errors) {
  Global g;
  Args a;
  a.flags.emplace("timeout", "x");
  EXPECT_THAT(ApplyTrailingFlags(a, g), StatusIs(kUsage, "--timeout: not a number"));
  Args b;
  b.flags.emplace("token-file", "/nonexistent/xfctl");
  EXPECT_THAT(ApplyTrailingFlags(b, g),
              StatusIs(kUsage, "--token-file: cannot read '/nonexistent/xfctl'"));
}

TEST(SetGlobal, KnownAndUnknownSettings) {
  Global g;
  EXPECT_THAT(SetGlobal(g, "tls-ca", "ca.pem"), ::xinfang::testing::IsOkAndHolds(true));
  EXPECT_EQ(g.tls_ca, "ca.pem");
  // Neither the on/off --json nor the number --timeout is a string setting.
  EXPECT_THAT(SetGlobal(g, "json", "1"), ::xinfang::testing::IsOkAndHolds(false));
  EXPECT_THAT(SetGlobal(g, "timeout", "1"), ::xinfang::testing::IsOkAndHolds(false));
  EXPECT_THAT(SetGlobal(g, "colour", "red"), ::xinfang::testing::IsOkAndHolds(false));
}

TEST(Settings, DefaultsWithoutConfigOrEnvironment) {
  absl::StatusOr<Global> g = LoadSettings(Env({{"XFCTL_CONFIG", "/nonexistent/xfctl"}}));
  ASSERT_THAT(g, IsOk());
  EXPECT_EQ(g->server, "127.0.0.1:50051");
  EXPECT_EQ(g->timeout, 10);
  EXPECT_EQ(g->token, "");
  EXPECT_FALSE(g->json);
}

TEST(Settings, ConfigFileThenEnvironment) {
  const std::string token = WriteFile("config.token", "xf_config_file\n");
  const std::string config =
      WriteFile("config", "# a comment\nserver=h:1\ntimeout=4\ntoken-file=" + token +
                              "\njson=1\nno equals sign\ncolour=red\ntls-ca=ca.pem\n");
  absl::StatusOr<Global> g = LoadSettings(Env({{"XFCTL_CONFIG", config}}));
  ASSERT_THAT(g, IsOk());
  EXPECT_EQ(g->server, "h:1");
  EXPECT_EQ(g->timeout, 4);
  EXPECT_EQ(g->token, "xf_config_file");
  EXPECT_EQ(g->tls_ca, "ca.pem");
  EXPECT_FALSE(g->json);  // not a setting of the file

  g = LoadSettings(Env({{"XFCTL_CONFIG", config},
                        {"XFCTL_SERVER", "h:2"},
                        {"XFCTL_TOKEN", "xf_env"},
                        {"XFCTL_TIMEOUT", "9"},
                        {"XFCTL_TLS_CERT", "c.pem"},
                        {"XFCTL_TLS_KEY", "k.pem"}}));
  ASSERT_THAT(g, IsOk());
  EXPECT_EQ(g->server, "h:2");
  EXPECT_EQ(g->token, "xf_env");
  EXPECT_EQ(g->timeout, 9);
  EXPECT_EQ(g->tls_cert, "c.pem");
  EXPECT_EQ(g->tls_key, "k.pem");
}

TEST(Settings, ConfigUnderHome) {
  const std::string home = (std::filesystem::path(::testing::TempDir()) / "home").string();
  std::filesystem::create_directories(home + "/.config/xfctl");
  std::ofstream(home + "/.config/xfctl/config") << "server=h:3\n";
  absl::StatusOr<Global> g = LoadSettings(Env({{"HOME", home}}));
  ASSERT_THAT(g, IsOk());
  EXPECT_EQ(g->server, "h:3");
}

TEST(Settings, ABadTimeoutIsNotRefusedThere) {
  // As before: SimpleAtoi leaves 0, and the calls time out at once.
  absl::StatusOr<Global> g =
      LoadSettings(Env({{"XFCTL_CONFIG", "/nonexistent/xfctl"}, {"XFCTL_TIMEOUT", "soon"}}));
  ASSERT_THAT(g, IsOk());
  EXPECT_EQ(g->timeout, 0);
}

TEST(Settings, AnUnreadableTokenFileIsAnError) {
  const std::string config = WriteFile("config.bad", "token-file=/nonexistent/xfctl\n");
  EXPECT_THAT(LoadSettings(Env({{"XFCTL_CONFIG", config}})),
              StatusIs(kUsage, "--token-file: cannot read '/nonexistent/xfctl'"));
  EXPECT_THAT(LoadSettings(Env({{"XFCTL_CONFIG", "/nonexistent/xfctl"},
                                {"XFCTL_TOKEN_FILE", "/nonexistent/env"}})),
              StatusIs(kUsage, "--token-file: cannot read '/nonexistent/env'"));
}

// A table shaped like xfctl's: one-word and two-word commands, verbs read
// after the flags, a group's own entry for the verbs it does not know.
CommandResult Ok(Context&, const Args&) { return 0; }

const std::vector<Command>& FakeTable() {
  static const auto* const kTable = new std::vector<Command>{
      {{"info"}, "info", "what the server runs", {}, Ok},
      {{"case", "show"}, "case show TRACKING", "a case", {}, Ok},
      {{"case", "list"}, "case list [filters]", "cases\n--unit U", {"unit"}, Ok},
      {{"sup", "notice", "issue"}, "sup notice issue TRACKING --text TEXT [--kind K]", "督办",
       {"text", "kind"}, Ok},
      {{"sup", "notice", "list"}, "sup notice list", "notices", {"unit"}, Ok},
      {{"sup", "notice"}, "", "", {}, Ok},
      {{"admin", "account", "create"}, "admin account create NAME", "", {"role"}, Ok},
  };
  return *kTable;
}

absl::StatusOr<Invocation> Find(const std::vector<std::string>& in) {
  return Resolve(FakeTable(), in, 0);
}

const Command& Entry(const std::vector<std::string>& path) {
  for (const Command& c : FakeTable()) {
    if (c.path == path) return c;
  }
  static const Command kNone{};
  return kNone;
}

TEST(Resolve, OneAndTwoWordCommands) {
  absl::StatusOr<Invocation> inv = Find({"info", "extra"});
  ASSERT_THAT(inv, IsOk());
  EXPECT_EQ(inv->command, &Entry({"info"}));
  EXPECT_THAT(inv->args.positional, ElementsAre("extra"));  // ignored by the command

  inv = Find({"case", "show", "X", "--json"});
  ASSERT_THAT(inv, IsOk());
  EXPECT_EQ(inv->command, &Entry({"case", "show"}));
  EXPECT_THAT(inv->args.positional, ElementsAre("X"));
  EXPECT_TRUE(inv->args.Has("json"));
}

TEST(Resolve, VerbsAreReadAfterTheFlagsAndTakenOff) {
  absl::StatusOr<Invocation> inv = Find({"sup", "notice", "--text", "t", "issue", "X"});
  ASSERT_THAT(inv, IsOk());
  EXPECT_EQ(inv->command, &Entry({"sup", "notice", "issue"}));
  EXPECT_THAT(inv->args.positional, ElementsAre("X"));
  EXPECT_EQ(inv->args.Get("text"), "t");
}

TEST(Resolve, TheGroupAnswersAnUnknownOrMissingVerb) {
  for (const std::vector<std::string>& in :
       {std::vector<std::string>{"sup", "notice"}, {"sup", "notice", "frob", "X"}}) {
    absl::StatusOr<Invocation> inv = Find(in);
    ASSERT_THAT(inv, IsOk());
    EXPECT_EQ(inv->command, &Entry({"sup", "notice"}));
  }
}

TEST(Resolve, AGroupWithoutItsOwnEntry) {
  EXPECT_THAT(Find({"admin", "account", "frob"}),
              StatusIs(kUsage, "unknown command 'admin account frob' (see xfctl help)"));
}

TEST(Resolve, TheVerbsOfAGroupShareTheirFlags) {
  // --kind is issue's, --unit list's: each is accepted by the other.
  EXPECT_THAT(Find({"sup", "notice", "list", "--kind", "urge"}), IsOk());
  EXPECT_THAT(Find({"sup", "notice", "issue", "X", "--unit", "u"}), IsOk());
  EXPECT_THAT(Find({"sup", "notice", "list", "--role", "r"}),
              StatusIs(kUsage, "sup notice: unknown flag --role (see xfctl help)"));
  // Across groups they are not shared.
  EXPECT_THAT(Find({"case", "show", "X", "--unit", "u"}),
              StatusIs(kUsage, "case show: unknown flag --unit (see xfctl help)"));
}

TEST(Resolve, UnknownCommands) {
  EXPECT_THAT(Find({"case", "frob"}),
              StatusIs(kUsage, "unknown command 'case frob' (see xfctl help)"));
  EXPECT_THAT(Find({"case"}), StatusIs(kUsage, "unknown command 'case ' (see xfctl help)"));
  EXPECT_THAT(Find({"frob"}), StatusIs(kUsage, "unknown command 'frob ' (see xfctl help)"));
  // The first two words name the group: a flag there is no command word.
  EXPECT_THAT(Find({"case", "--json", "show", "X"}),
              StatusIs(kUsage, "unknown command 'case --json' (see xfctl help)"));
}

TEST(Resolve, FlagErrorsNameTheGroup) {
  EXPECT_THAT(Find({"case", "list", "--unit"}), StatusIs(kUsage, "flag --unit needs a value"));
  EXPECT_THAT(Find({"admin", "account", "create", "bob", "--colour", "red"}),
              StatusIs(kUsage, "admin account: unknown flag --colour (see xfctl help)"));
}

TEST(CommandsHelp, SummariesAtColumn33) {
  EXPECT_EQ(CommandsHelp(FakeTable()),
            "  info                           what the server runs\n"
            "  case show TRACKING             a case\n"
            "  case list [filters]            cases\n"
            "                                 --unit U\n"
            "  sup notice issue TRACKING --text TEXT [--kind K]\n"
            "                                 督办\n"
            "  sup notice list                notices\n"
            "  admin account create NAME\n");
}

TEST(ExitCode, FailedCallsExit1AndUsageErrors2) {
  absl::Status call = CallFailure(absl::StatusCode::kInvalidArgument, "INVALID_ARGUMENT: period");
  EXPECT_EQ(ExitCode(call), 1);
  EXPECT_EQ(call.message(), "INVALID_ARGUMENT: period");
  EXPECT_EQ(ExitCode(absl::InvalidArgumentError("--page-size: not a number")), 2);
  EXPECT_EQ(ExitCode(absl::UnavailableError("not from a call")), 2);
}

}  // namespace
}  // namespace xinfang::xfctl

namespace xinfang::xfctl {
namespace {

TEST(PublicStatusArgs, TrackingAndCodeAsOnTheReceipt) {
  absl::StatusOr<Args> a =
      ParseArgs({"XF20261125-000001", "K7QMX-3PD9R", "--json"}, 0, "public status", {});
  ASSERT_THAT(a, ::xinfang::testing::IsOk());
  absl::StatusOr<PublicStatusArgs> p = ReadPublicStatusArgs(*a);
  ASSERT_THAT(p, ::xinfang::testing::IsOk());
  EXPECT_EQ(p->tracking_number, "XF20261125-000001");
  EXPECT_EQ(p->query_code, "K7QMX-3PD9R");
}

TEST(PublicStatusArgs, ACodeTypedInGroupsIsJoined) {
  absl::StatusOr<Args> a = ParseArgs({"XF20261125-000001", "K7QMX", "3PD9R"}, 0, "public status", {});
  ASSERT_THAT(a, ::xinfang::testing::IsOk());
  absl::StatusOr<PublicStatusArgs> p = ReadPublicStatusArgs(*a);
  ASSERT_THAT(p, ::xinfang::testing::IsOk());
  EXPECT_EQ(p->query_code, "K7QMX3PD9R");
}

TEST(PublicStatusArgs, BothAreRequired) {
  absl::StatusOr<Args> a = ParseArgs({"XF20261125-000001"}, 0, "public status", {});
  ASSERT_THAT(a, ::xinfang::testing::IsOk());
  EXPECT_THAT(ReadPublicStatusArgs(*a),
              ::xinfang::testing::StatusIs(absl::StatusCode::kInvalidArgument,
                                           ::testing::HasSubstr("TRACKING and CODE")));
  // It takes no flags of its own.
  EXPECT_THAT(ParseArgs({"XF1", "C", "--unit", "x"}, 0, "public status", {}),
              ::xinfang::testing::StatusIs(absl::StatusCode::kInvalidArgument));
}

}  // namespace
}  // namespace xinfang::xfctl
