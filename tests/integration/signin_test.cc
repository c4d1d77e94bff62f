// Staff passwords and sign-in sessions (AdminService SetPassword, SignIn,
// ChangePassword, SignOut) against a real PostgreSQL over loopback gRPC.
#include <gtest/gtest.h>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "tests/testing/petitions.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"

namespace xinfang::testing {
namespace {

namespace v1 = xinfang::v1;
using testing::Monday;

using testing::FromGrpc;

class SignInTest : public ::testing::Test {
 protected:
  SignInTest() : server_(Monday(), /*sweeper=*/false, [](ServerConfig& c) {
    c.session_idle_minutes = 30;
    c.session_max_hours = 12;
  }) {}

  const Caller kAdmin{"signin-admin", "administrator", "prov"};
  const Caller kClerk{"clerk9", "intake_clerk", "prov.organs.office"};
  const Caller kService{"svc9", "service", "prov"};

  absl::Status SetPassword(const Caller& as, const std::string& account, const std::string& pw) {
    v1::SetPasswordRequest req;
    req.set_account(account);
    req.set_password(pw);
    v1::SetPasswordResponse resp;
    return FromGrpc(server_.admin()->SetPassword(server_.Context(as).get(), req, &resp));
  }
  absl::StatusOr<v1::SignInResponse> SignIn(const std::string& account, const std::string& pw) {
    v1::SignInRequest req;
    req.set_account(account);
    req.set_password(pw);
    v1::SignInResponse resp;
    auto ctx = TestServer::TokenContext("");
    grpc::Status s = server_.admin()->SignIn(ctx.get(), req, &resp);
    if (!s.ok()) return FromGrpc(s);
    return resp;
  }
  absl::StatusOr<v1::SignInResponse> Change(const std::string& account, const std::string& old_pw,
                                            const std::string& new_pw) {
    v1::ChangePasswordRequest req;
    req.set_account(account);
    req.set_current_password(old_pw);
    req.set_new_password(new_pw);
    v1::SignInResponse resp;
    auto ctx = TestServer::TokenContext("");
    grpc::Status s = server_.admin()->ChangePassword(ctx.get(), req, &resp);
    if (!s.ok()) return FromGrpc(s);
    return resp;
  }
  absl::StatusOr<std::string> WhoAmI(const std::string& token) {
    v1::WhoAmIResponse resp;
    grpc::Status s = server_.admin()->WhoAmI(TestServer::TokenContext(token).get(),
                                             v1::WhoAmIRequest(), &resp);
    if (!s.ok()) return FromGrpc(s);
    return resp.account().name();
  }

  TestServer server_;
};

TEST_F(SignInTest, SetByAnAdministratorChangedAtFirstSignIn) {
  server_.TokenFor(kClerk);
  ASSERT_THAT(SetPassword(kAdmin, "clerk9", "initial-pass-1"), IsOk());
  // Only the argon2id hash is stored.
  EXPECT_TRUE(absl::StartsWith(
      server_.db().Query("SELECT password_hash FROM accounts WHERE name = 'clerk9'"), "$argon2id$"));
  EXPECT_EQ(server_.db().Query("SELECT password_must_change::int FROM accounts WHERE name = 'clerk9'"), "1");

  // The first sign-in gives no session: the password must be changed.
  auto first = SignIn("clerk9", "initial-pass-1");
  ASSERT_THAT(first, IsOk());
  EXPECT_TRUE(first->password_change_required());
  EXPECT_EQ(first->secret(), "");
  EXPECT_THAT(Change("clerk9", "initial-pass-1", "initial-pass-1").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "new_password: the same as the current one"));
  EXPECT_THAT(Change("clerk9", "initial-pass-1", "short").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "new_password: at least 8 characters"));
  EXPECT_THAT(Change("clerk9", "initial-pass-1", "CLERK9").status(),
              StatusIs(absl::StatusCode::kInvalidArgument, "new_password: at least 8 characters"));
  auto changed = Change("clerk9", "initial-pass-1", "我的新密码-2026");
  ASSERT_THAT(changed, IsOk());
  EXPECT_FALSE(changed->password_change_required());
  ASSERT_FALSE(changed->secret().empty());
  EXPECT_TRUE(changed->token().session());
  EXPECT_EQ(changed->idle_minutes(), 30);
  EXPECT_THAT(WhoAmI(changed->secret()), IsOkAndHolds("clerk9"));
  // The session is stored as a hash only, like a bearer token.
  EXPECT_EQ(server_.db().Query(absl::StrCat("SELECT count(*) FROM tokens WHERE hash::text LIKE '%",
                                            changed->secret().substr(3, 10), "%'")),
            "0");

  // The old password no longer works; the new one signs in at once.
  EXPECT_THAT(SignIn("clerk9", "initial-pass-1").status(),
              StatusIs(absl::StatusCode::kUnauthenticated, "wrong account or password"));
  auto again = SignIn("clerk9", "我的新密码-2026");
  ASSERT_THAT(again, IsOk());
  EXPECT_FALSE(again->password_change_required());
  EXPECT_THAT(WhoAmI(again->secret()), IsOkAndHolds("clerk9"));
}

TEST_F(SignInTest, WrongAccountOrPasswordLookTheSameAndSlowDown) {
  server_.TokenFor(kClerk);
  ASSERT_THAT(SetPassword(kAdmin, "clerk9", "initial-pass-1"), IsOk());
  EXPECT_THAT(SignIn("nobody", "initial-pass-1").status(),
              StatusIs(absl::StatusCode::kUnauthenticated, "wrong account or password"));
  EXPECT_THAT(SignIn("", "x").status(), StatusIs(absl::StatusCode::kInvalidArgument, "account: required"));
  // Five wrong passwords for the account; then even the right one waits.
  for (int i = 0; i < 5; ++i) {
    EXPECT_THAT(SignIn("clerk9", absl::StrCat("guess-", i)).status(),
                StatusIs(absl::StatusCode::kUnauthenticated));
  }
  auto locked = SignIn("clerk9", "initial-pass-1");
  EXPECT_THAT(locked.status(), StatusIs(absl::StatusCode::kResourceExhausted));
  EXPECT_TRUE(absl::StrContains(locked.status().message(), "this account")) << locked.status();
}

TEST_F(SignInTest, SignOutIdleAndAbsoluteExpiry) {
  server_.TokenFor(kClerk);
  ASSERT_THAT(SetPassword(kAdmin, "clerk9", "initial-pass-1"), IsOk());
  ASSERT_THAT(Change("clerk9", "initial-pass-1", "second-pass-2"), IsOk());

  // Signing out revokes the session at once.
  auto s1 = SignIn("clerk9", "second-pass-2");
  ASSERT_THAT(s1, IsOk());
  v1::SignOutResponse out;
  ASSERT_TRUE(server_.admin()->SignOut(TestServer::TokenContext(s1->secret()).get(),
                                       v1::SignOutRequest(), &out).ok());
  EXPECT_THAT(WhoAmI(s1->secret()).status(),
              StatusIs(absl::StatusCode::kUnauthenticated, "token revoked"));

  // Unused for 30 minutes: ended. Used every 20 minutes: lives on, until 12 hours.
  auto idle = SignIn("clerk9", "second-pass-2");
  auto busy = SignIn("clerk9", "second-pass-2");
  ASSERT_THAT(idle, IsOk());
  ASSERT_THAT(busy, IsOk());
  absl::Time t = Monday();
  for (int i = 0; i < 3; ++i) {
    t += absl::Minutes(20);
    ASSERT_THAT(server_.AdvanceTo(t), IsOk());
    EXPECT_THAT(WhoAmI(busy->secret()), IsOkAndHolds("clerk9")) << i;
  }
  EXPECT_THAT(WhoAmI(idle->secret()).status(),
              StatusIs(absl::StatusCode::kUnauthenticated, "session ended: unused too long"));
  for (int i = 0; i < 34; ++i) {
    t += absl::Minutes(20);
    ASSERT_THAT(server_.AdvanceTo(t), IsOk());
    if (i < 32) {
      EXPECT_THAT(WhoAmI(busy->secret()), IsOk()) << i;
    }
  }
  EXPECT_THAT(WhoAmI(busy->secret()).status(), StatusIs(absl::StatusCode::kUnauthenticated));

  // Setting a password again ends the account's sessions.
  auto s3 = SignIn("clerk9", "second-pass-2");
  ASSERT_THAT(s3, IsOk());
  ASSERT_THAT(SetPassword(kAdmin, "clerk9", "reset-pass-3"), IsOk());
  EXPECT_THAT(WhoAmI(s3->secret()).status(), StatusIs(absl::StatusCode::kUnauthenticated));
}

TEST_F(SignInTest, OnlyAdministratorsSetPasswordsAndNotForServiceAccounts) {
  server_.TokenFor(kClerk);
  server_.TokenFor(kService);
  EXPECT_THAT(SetPassword(kClerk, "clerk9", "initial-pass-1"),
              StatusIs(absl::StatusCode::kPermissionDenied));
  EXPECT_THAT(SetPassword(kAdmin, "svc9", "initial-pass-1"),
              StatusIs(absl::StatusCode::kFailedPrecondition));
  EXPECT_THAT(SetPassword(kAdmin, "clerk9", "clerk9"),
              StatusIs(absl::StatusCode::kInvalidArgument, "password: at least 8 characters"));
  EXPECT_THAT(SetPassword(kAdmin, "clerk9", "Clerk9-clerk9"), IsOk());
  // A disabled account cannot sign in.
  server_.db().Query("UPDATE accounts SET disabled_at = now(), password_must_change = false "
                     "WHERE name = 'clerk9' RETURNING 1");
  EXPECT_THAT(SignIn("clerk9", "Clerk9-clerk9").status(),
              StatusIs(absl::StatusCode::kUnauthenticated, "account 'clerk9' is disabled"));
}

}  // namespace
}  // namespace xinfang::testing
