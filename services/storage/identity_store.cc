#include "services/storage/identity_store.h"

#include <openssl/rand.h>
#include <algorithm>
#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "services/storage/sql_array.h"

namespace xinfang::storage {

namespace {

#define XF_ACCOUNT_COLUMNS \
  "name, display_name, role, unit, xf_us(created_at), created_by, xf_us(disabled_at)"
#define XF_TOKEN_COLUMNS                                                                   \
  "id, account, label, xf_us(created_at), created_by, xf_us(expires_at), xf_us(revoked_at), " \
  "(idle_seconds IS NOT NULL)"

const Sql kUnitExists{"SELECT 1 FROM units WHERE code = :u"};
const Sql kInsertAccount{
    "INSERT INTO accounts (name, display_name, role, unit, created_at, created_by, email) "
    "VALUES (:n, :d, :r, :u, xf_ts(:c), :by, :e)"};
// With the e-mail address as the last column (ReadAccount reads the others).
const Sql kSelectAccount{"SELECT " XF_ACCOUNT_COLUMNS ", email FROM accounts WHERE name = :n"};
const Sql kListAccounts{"SELECT " XF_ACCOUNT_COLUMNS
                        ", email FROM accounts WHERE (:u = '' OR unit = :u) ORDER BY name"};
const Sql kSetEmail{"UPDATE accounts SET email = :e WHERE name = :n"};
const Sql kSetDisabled{"UPDATE accounts SET disabled_at = xf_ts(:at) WHERE name = :n"};
const Sql kInsertToken{
    "INSERT INTO tokens (hash, account, label, created_at, created_by, expires_at) "
    "VALUES (decode(:h, 'hex'), :a, :l, xf_ts(:c), :by, xf_ts(:e)) RETURNING id"};
const Sql kSelectToken{"SELECT " XF_TOKEN_COLUMNS " FROM tokens WHERE id = :id"};
const Sql kRevokeToken{
    "UPDATE tokens SET revoked_at = xf_ts(:at) WHERE id = :id AND revoked_at IS NULL"};
const Sql kListTokens{"SELECT " XF_TOKEN_COLUMNS
                      " FROM tokens WHERE (:a = '' OR account = :a) ORDER BY id DESC"};
// On every call: the token with its account, one round trip.
const Sql kAuthenticate{
    "SELECT a.name, a.display_name, a.role, a.unit, xf_us(a.created_at), a.created_by, "
    "xf_us(a.disabled_at), xf_us(t.expires_at), xf_us(t.revoked_at), t.id, "
    "xf_us(t.idle_expires_at), t.idle_seconds "
    "FROM tokens t JOIN accounts a ON a.name = t.account WHERE t.hash = decode(:h, 'hex')"};
const Sql kMoveIdleEnd{"UPDATE tokens SET idle_expires_at = xf_ts(:u) WHERE id = :id"};
const Sql kAnyAdministrator{
    "SELECT min(name) FROM accounts WHERE role = 'administrator' AND disabled_at IS NULL"};
const Sql kInsertAdministrator{
    "INSERT INTO accounts (name, role, unit, created_at, created_by) "
    "VALUES (:n, 'administrator', :u, xf_ts(:c), 'bootstrap')"};
const Sql kSetPassword{
    "UPDATE accounts SET password_hash = :h, password_must_change = :m WHERE name = :a"};
const Sql kEndSessions{
    "UPDATE tokens SET revoked_at = xf_ts(:at) WHERE account = :a "
    "AND idle_seconds IS NOT NULL AND revoked_at IS NULL"};
const Sql kSelectPassword{"SELECT " XF_ACCOUNT_COLUMNS
                          ", coalesce(password_hash, ''), password_must_change "
                          "FROM accounts WHERE name = :n"};
const Sql kMakeSession{
    "UPDATE tokens SET idle_seconds = :s, idle_expires_at = xf_ts(:u) WHERE id = :id"};
const Sql kRevokeSecret{
    "UPDATE tokens SET revoked_at = coalesce(revoked_at, xf_ts(:at)) "
    "WHERE hash = decode(:h, 'hex')"};
const Sql kRecordAccess{
    "INSERT INTO access_log (at, account, role, unit, rpc, case_id) "
    "SELECT xf_ts(n.at), n.account, n.role, n.unit, n.rpc, n.case_id "
    "  FROM unnest(CAST(:at AS bigint[]), CAST(:a AS text[]), CAST(:r AS text[]), "
    "              CAST(:u AS text[]), CAST(:rpc AS text[]), CAST(:c AS bigint[])) "
    "    AS n(at, account, role, unit, rpc, case_id)"};
const Sql kListAccess{
    "SELECT l.id, xf_us(l.at), l.account, l.role, l.unit, l.rpc, l.case_id, "
    "c.tracking_number FROM access_log l JOIN cases c ON c.id = l.case_id "
    "WHERE (:a = '' OR l.account = :a) AND (:c = 0 OR l.case_id = :c) "
    "AND (:b = 0 OR l.id < :b) ORDER BY l.id DESC LIMIT :l"};

std::optional<absl::Time> OptTimeAt(const Row& r, int i) {
  if (r.null(i)) return std::nullopt;
  return FromMicros(r.i64(i));
}

Account ReadAccount(const Row& r) {
  Account a;
  a.name = r.str(0);
  a.display_name = r.str(1);
  a.role = r.str(2);
  a.unit = r.str(3);
  a.created_at = FromMicros(r.i64(4));
  a.created_by = r.str(5);
  a.disabled_at = OptTimeAt(r, 6);
  return a;
}

TokenInfo ReadToken(const Row& r) {
  TokenInfo t;
  t.id = r.i64(0);
  t.account = r.str(1);
  t.label = r.str(2);
  t.created_at = FromMicros(r.i64(3));
  t.created_by = r.str(4);
  t.expires_at = FromMicros(r.i64(5));
  t.revoked_at = OptTimeAt(r, 6);
  t.session = r.boolean(7);
  return t;
}

// "xf_" + 32 random bytes, base64url without padding (46 characters).
absl::StatusOr<std::string> NewSecret() {
  unsigned char bytes[32];
  if (RAND_bytes(bytes, sizeof bytes) != 1) {
    return absl::InternalError("no randomness for a token (RAND_bytes failed)");
  }
  return absl::StrCat("xf_", absl::WebSafeBase64Escape(absl::string_view(
                                 reinterpret_cast<const char*>(bytes), sizeof bytes)));
}

// Inserts a token row for `account` inside the caller's transaction.
absl::StatusOr<IssuedToken> InsertToken(Conn& c, const std::string& account,
                                        const std::string& label, const std::string& created_by,
                                        absl::Time now, absl::Time expires_at) {
  auto secret = NewSecret();
  if (!secret.ok()) return secret.status();
  IssuedToken t;
  t.secret = *secret;
  t.info.account = account;
  t.info.label = label;
  t.info.created_at = now;
  t.info.created_by = created_by;
  t.info.expires_at = expires_at;
  Rows id = c.Run(kInsertToken, {{"h", TokenHash(t.secret)},
                                 {"a", account},
                                 {"l", label},
                                 {"c", ToMicros(now)},
                                 {"by", created_by},
                                 {"e", ToMicros(expires_at)}});
  t.info.id = id[0].i64(0);
  return t;
}

absl::Status RequireUnit(Conn& c, const std::string& unit) {
  if (c.Run(kUnitExists, {{"u", unit}}).empty()) {
    return absl::FailedPreconditionError(absl::StrCat("unit: unknown unit '", unit, "'"));
  }
  return absl::OkStatus();
}

}  // namespace

std::string TokenHash(const std::string& secret) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

absl::Status IdentityStore::CreateAccount(const Account& a) {
  absl::Status st = WithConn(pool_, "creating an account", [&](Conn& c) -> absl::Status {
    if (absl::Status unit = RequireUnit(c, a.unit); !unit.ok()) return unit;
    c.Run(kInsertAccount, {{"n", a.name},
                           {"d", a.display_name},
                           {"r", a.role},
                           {"u", a.unit},
                           {"c", ToMicros(a.created_at)},
                           {"by", a.created_by},
                           {"e", a.email}});
    return absl::OkStatus();
  });
  if (st.code() == absl::StatusCode::kAlreadyExists) {
    return absl::AlreadyExistsError(absl::StrCat("name: account '", a.name, "' exists"));
  }
  return st;
}

absl::StatusOr<Account> IdentityStore::GetAccount(const std::string& name) {
  return WithConn(pool_, "reading an account", [&](Conn& c) -> absl::StatusOr<Account> {
    Rows rows = c.Run(kSelectAccount, {{"n", name}});
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("account: no account '", name, "'"));
    Account a = ReadAccount(rows[0]);
    a.email = rows[0].str(7);
    return a;
  });
}

absl::StatusOr<std::vector<Account>> IdentityStore::ListAccounts(const std::string& unit) {
  return WithConn(pool_, "listing accounts",
                  [&](Conn& c) -> absl::StatusOr<std::vector<Account>> {
                    std::vector<Account> out;
                    for (Row r : c.Run(kListAccounts, {{"u", unit}})) {
                      out.push_back(ReadAccount(r));
                      out.back().email = r.str(7);
                    }
                    return out;
                  });
}

absl::Status IdentityStore::SetEmail(const std::string& name, const std::string& email) {
  return WithConn(pool_, "setting an account's e-mail", [&](Conn& c) -> absl::Status {
    if (c.Run(kSetEmail, {{"e", email}, {"n", name}}).affected() == 0) {
      return absl::NotFoundError(absl::StrCat("account: no account '", name, "'"));
    }
    return absl::OkStatus();
  });
}

absl::Status IdentityStore::SetDisabled(const std::string& name,
                                        std::optional<absl::Time> disabled_at) {
  return WithConn(pool_, "disabling an account", [&](Conn& c) -> absl::Status {
    std::optional<int64_t> at;
    if (disabled_at) at = ToMicros(*disabled_at);
    if (c.Run(kSetDisabled, {{"at", at}, {"n", name}}).affected() == 0) {
      return absl::NotFoundError(absl::StrCat("account: no account '", name, "'"));
    }
    return absl::OkStatus();
  });
}

absl::StatusOr<IssuedToken> IdentityStore::IssueToken(const std::string& account,
                                                      const std::string& label,
                                                      const std::string& created_by,
                                                      absl::Time now, absl::Time expires_at) {
  auto existing = GetAccount(account);
  if (!existing.ok()) return existing.status();
  if (existing->disabled_at.has_value()) {
    return absl::FailedPreconditionError(
        absl::StrCat("account: '", account, "' is disabled; enable it first"));
  }
  return WithConn(pool_, "issuing a token", [&](Conn& c) {
    return InsertToken(c, account, label, created_by, now, expires_at);
  });
}

absl::StatusOr<TokenInfo> IdentityStore::GetToken(int64_t id) {
  return WithConn(pool_, "reading a token", [&](Conn& c) -> absl::StatusOr<TokenInfo> {
    Rows rows = c.Run(kSelectToken, {{"id", id}});
    if (rows.empty()) return absl::NotFoundError(absl::StrCat("token_id: no token ", id));
    return ReadToken(rows[0]);
  });
}

absl::StatusOr<TokenInfo> IdentityStore::RevokeToken(int64_t id, absl::Time now) {
  absl::Status revoked = WithConn(pool_, "revoking a token", [&](Conn& c) {
    c.Run(kRevokeToken, {{"at", ToMicros(now)}, {"id", id}});
    return absl::OkStatus();
  });
  if (!revoked.ok()) return revoked;
  return GetToken(id);
}

absl::StatusOr<std::vector<TokenInfo>> IdentityStore::ListTokens(const std::string& account) {
  return WithConn(pool_, "listing tokens", [&](Conn& c) -> absl::StatusOr<std::vector<TokenInfo>> {
    std::vector<TokenInfo> out;
    for (Row r : c.Run(kListTokens, {{"a", account}})) out.push_back(ReadToken(r));
    return out;
  });
}

absl::StatusOr<Account> IdentityStore::Authenticate(const std::string& secret, absl::Time now) {
  return WithConn(pool_, "authenticating", [&](Conn& c) -> absl::StatusOr<Account> {
    Rows rows = c.Run(kAuthenticate, {{"h", TokenHash(secret)}});
    if (rows.empty()) return absl::UnauthenticatedError(kUnknownToken);
    const Row r = rows[0];
    Account a = ReadAccount(r);
    if (!r.null(8)) return absl::UnauthenticatedError("token revoked");
    const absl::Time expires = FromMicros(r.i64(7));
    if (!r.null(11)) {  // a session
      const absl::Time idle_end = FromMicros(r.i64(10));
      const absl::Duration idle = absl::Seconds(r.i64(11));
      if (now >= idle_end) return absl::UnauthenticatedError("session ended: unused too long");
      // Moved on at most once a minute: not a write per call.
      if (idle_end - now < idle - absl::Minutes(1)) {
        c.Run(kMoveIdleEnd, {{"u", ToMicros(std::min(now + idle, expires))}, {"id", r.i64(9)}});
      }
    }
    if (now >= expires) {
      return absl::UnauthenticatedError(absl::StrCat(
          "token expired at ",
          absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", expires, absl::UTCTimeZone())));
    }
    if (a.disabled_at.has_value()) {
      return absl::UnauthenticatedError(absl::StrCat("account '", a.name, "' is disabled"));
    }
    return a;
  });
}

absl::StatusOr<IssuedToken> IdentityStore::Bootstrap(const std::string& name,
                                                     const std::string& unit, absl::Time now,
                                                     absl::Time expires_at) {
  auto token = WithConn(
      pool_, "bootstrapping the first administrator", [&](Conn& c) -> absl::StatusOr<IssuedToken> {
        Transaction tx(c);
        // Two bootstraps at once: the second waits here, then sees the first.
        c.Exec("LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE");
        Rows admin = c.Run(kAnyAdministrator, {});
        if (!admin[0].null(0)) {
          return absl::FailedPreconditionError(absl::StrCat(
              "an administrator exists already ('", admin[0].str(0),
              "'): issue tokens with `xfctl admin token issue` as an administrator"));
        }
        if (absl::Status st = RequireUnit(c, unit); !st.ok()) return st;
        c.Run(kInsertAdministrator, {{"n", name}, {"u", unit}, {"c", ToMicros(now)}});
        auto token = InsertToken(c, name, "bootstrap", "bootstrap", now, expires_at);
        if (!token.ok()) return token.status();
        tx.Commit();
        return token;
      });
  if (token.status().code() == absl::StatusCode::kAlreadyExists) {
    return absl::FailedPreconditionError(
        absl::StrCat("name: an account '", name, "' exists already; choose another name"));
  }
  return token;
}

absl::Status IdentityStore::SetPassword(const std::string& account, const std::string& hash,
                                        bool must_change, absl::Time now) {
  return WithConn(pool_, "setting a password", [&](Conn& c) -> absl::Status {
    Transaction tx(c);
    if (c.Run(kSetPassword, {{"h", hash}, {"m", must_change}, {"a", account}}).affected() == 0) {
      return absl::NotFoundError(absl::StrCat("account: no account '", account, "'"));
    }
    c.Run(kEndSessions, {{"at", ToMicros(now)}, {"a", account}});
    tx.Commit();
    return absl::OkStatus();
  });
}

absl::StatusOr<IdentityStore::Password> IdentityStore::GetPassword(const std::string& account) {
  return WithConn(pool_, "reading a password", [&](Conn& c) -> absl::StatusOr<Password> {
    Rows rows = c.Run(kSelectPassword, {{"n", account}});
    if (rows.empty()) {
      return absl::NotFoundError(absl::StrCat("account: no account '", account, "'"));
    }
    Password p;
    p.account = ReadAccount(rows[0]);
    p.hash = rows[0].str(7);
    p.must_change = rows[0].boolean(8);
    return p;
  });
}

absl::StatusOr<IssuedToken> IdentityStore::IssueSession(const std::string& account, absl::Time now,
                                                        absl::Time expires_at,
                                                        absl::Duration idle) {
  return WithConn(pool_, "starting a session", [&](Conn& c) -> absl::StatusOr<IssuedToken> {
    Transaction tx(c);
    auto t = InsertToken(c, account, "sign-in", account, now, expires_at);
    if (!t.ok()) return t.status();
    c.Run(kMakeSession, {{"s", absl::ToInt64Seconds(idle)},
                         {"u", ToMicros(std::min(now + idle, expires_at))},
                         {"id", t->info.id}});
    tx.Commit();
    t->info.session = true;
    return t;
  });
}

absl::Status IdentityStore::RevokeSecret(const std::string& secret, absl::Time now) {
  return WithConn(pool_, "signing out", [&](Conn& c) -> absl::Status {
    if (c.Run(kRevokeSecret, {{"at", ToMicros(now)}, {"h", TokenHash(secret)}}).affected() == 0) {
      return absl::NotFoundError("no such token");
    }
    return absl::OkStatus();
  });
}

absl::Status IdentityStore::RecordAccess(const std::vector<AccessRecord>& records) {
  if (records.empty()) return absl::OkStatus();
  return WithConn(pool_, "recording access to personal data", [&](Conn& c) -> absl::Status {
    SqlArray at, account, role, unit, rpc, cases;
    for (const AccessRecord& r : records) {
      at.AddInt(ToMicros(r.at));
      account.AddText(r.account);
      role.AddText(r.role);
      unit.AddText(r.unit);
      rpc.AddText(r.rpc);
      cases.AddInt(r.case_id);
    }
    c.Run(kRecordAccess, {{"at", at.Literal()},
                          {"a", account.Literal()},
                          {"r", role.Literal()},
                          {"u", unit.Literal()},
                          {"rpc", rpc.Literal()},
                          {"c", cases.Literal()}});
    return absl::OkStatus();
  });
}

absl::StatusOr<std::vector<AccessEntry>> IdentityStore::ListAccess(const AccessFilter& f) {
  return WithConn(
      pool_, "reading the access log", [&](Conn& c) -> absl::StatusOr<std::vector<AccessEntry>> {
        std::vector<AccessEntry> out;
        Rows rows = c.Run(kListAccess, {{"a", f.account},
                                        {"c", f.case_id},
                                        {"b", f.before_id},
                                        {"l", f.limit}});
        for (Row r : rows) {
          AccessEntry e;
          e.id = r.i64(0);
          e.record.at = FromMicros(r.i64(1));
          e.record.account = r.str(2);
          e.record.role = r.str(3);
          e.record.unit = r.str(4);
          e.record.rpc = r.str(5);
          e.record.case_id = r.i64(6);
          e.tracking_number = r.str(7);
          out.push_back(std::move(e));
        }
        return out;
      });
}

}  // namespace xinfang::storage
