#include "services/storage/identity_store.h"

#include <openssl/rand.h>
#include <algorithm>
#include <openssl/sha.h>
#include <soci/soci.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"

namespace xinfang::storage {

namespace {

constexpr char kAccountColumns[] =
    "name, display_name, role, unit, xf_us(created_at), created_by, xf_us(disabled_at)";
constexpr char kTokenColumns[] =
    "id, account, label, xf_us(created_at), created_by, xf_us(expires_at), xf_us(revoked_at), "
    "(idle_seconds IS NOT NULL)::int";

std::optional<absl::Time> OptTimeAt(const soci::row& r, std::size_t i) {
  if (r.get_indicator(i) == soci::i_null) return std::nullopt;
  return FromMicros(r.get<long long>(i));
}

Account ReadAccount(const soci::row& r) {
  Account a;
  a.name = r.get<std::string>(0);
  a.display_name = r.get<std::string>(1);
  a.role = r.get<std::string>(2);
  a.unit = r.get<std::string>(3);
  a.created_at = FromMicros(r.get<long long>(4));
  a.created_by = r.get<std::string>(5);
  a.disabled_at = OptTimeAt(r, 6);
  return a;
}

TokenInfo ReadToken(const soci::row& r) {
  TokenInfo t;
  t.id = r.get<long long>(0);
  t.account = r.get<std::string>(1);
  t.label = r.get<std::string>(2);
  t.created_at = FromMicros(r.get<long long>(3));
  t.created_by = r.get<std::string>(4);
  t.expires_at = FromMicros(r.get<long long>(5));
  t.revoked_at = OptTimeAt(r, 6);
  t.session = r.get_indicator(7) != soci::i_null && r.get<int>(7) != 0;
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
absl::StatusOr<IssuedToken> InsertToken(soci::session& s, const std::string& account,
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
  const std::string hash = TokenHash(t.secret);
  long long created = ToMicros(now), expires = ToMicros(expires_at), id = 0;
  s << "INSERT INTO tokens (hash, account, label, created_at, created_by, expires_at) "
       "VALUES (decode(:h, 'hex'), :a, :l, xf_ts(:c), :by, xf_ts(:e)) RETURNING id",
      soci::use(hash, "h"), soci::use(account, "a"), soci::use(label, "l"),
      soci::use(created, "c"), soci::use(created_by, "by"), soci::use(expires, "e"),
      soci::into(id);
  t.info.id = id;
  return t;
}

}  // namespace

std::string TokenHash(const std::string& secret) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(secret.data()), secret.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof digest));
}

absl::Status IdentityStore::CreateAccount(const Account& a) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    soci::session& s = lease->session();
    int units = 0;
    s << "SELECT count(*) FROM units WHERE code = :u", soci::use(a.unit, "u"), soci::into(units);
    if (units == 0) {
      return absl::FailedPreconditionError(absl::StrCat("unit: unknown unit '", a.unit, "'"));
    }
    long long created = ToMicros(a.created_at);
    s << "INSERT INTO accounts (name, display_name, role, unit, created_at, created_by) "
         "VALUES (:n, :d, :r, :u, xf_ts(:c), :by)",
        soci::use(a.name, "n"), soci::use(a.display_name, "d"), soci::use(a.role, "r"),
        soci::use(a.unit, "u"), soci::use(created, "c"), soci::use(a.created_by, "by");
    return absl::OkStatus();
  } catch (...) {
    absl::Status st = StatusFromCurrentException("creating an account");
    if (st.code() == absl::StatusCode::kAlreadyExists) {
      return absl::AlreadyExistsError(absl::StrCat("name: account '", a.name, "' exists"));
    }
    return st;
  }
}

absl::StatusOr<Account> IdentityStore::GetAccount(const std::string& name) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    soci::rowset<soci::row> rows =
        (lease->session().prepare << absl::StrCat("SELECT ", kAccountColumns,
                                                  " FROM accounts WHERE name = :n"),
         soci::use(name, "n"));
    for (const soci::row& r : rows) return ReadAccount(r);
    return absl::NotFoundError(absl::StrCat("account: no account '", name, "'"));
  } catch (...) {
    return StatusFromCurrentException("reading an account");
  }
}

absl::StatusOr<std::vector<Account>> IdentityStore::ListAccounts(const std::string& unit) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    std::vector<Account> out;
    soci::rowset<soci::row> rows =
        (lease->session().prepare
             << absl::StrCat("SELECT ", kAccountColumns,
                             " FROM accounts WHERE (:u1 = '' OR unit = :u2) ORDER BY name"),
         soci::use(unit, "u1"), soci::use(unit, "u2"));
    for (const soci::row& r : rows) out.push_back(ReadAccount(r));
    return out;
  } catch (...) {
    return StatusFromCurrentException("listing accounts");
  }
}

absl::Status IdentityStore::SetDisabled(const std::string& name,
                                        std::optional<absl::Time> disabled_at) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    long long at = disabled_at ? ToMicros(*disabled_at) : 0;
    soci::indicator ind = disabled_at ? soci::i_ok : soci::i_null;
    soci::statement st =
        (lease->session().prepare << "UPDATE accounts SET disabled_at = xf_ts(:at) WHERE name = :n",
         soci::use(at, ind, "at"), soci::use(name, "n"));
    st.execute(true);
    if (st.get_affected_rows() == 0) {
      return absl::NotFoundError(absl::StrCat("account: no account '", name, "'"));
    }
    return absl::OkStatus();
  } catch (...) {
    return StatusFromCurrentException("disabling an account");
  }
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
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    return InsertToken(lease->session(), account, label, created_by, now, expires_at);
  } catch (...) {
    return StatusFromCurrentException("issuing a token");
  }
}

absl::StatusOr<TokenInfo> IdentityStore::GetToken(int64_t id) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    long long key = id;
    soci::rowset<soci::row> rows =
        (lease->session().prepare << absl::StrCat("SELECT ", kTokenColumns,
                                                  " FROM tokens WHERE id = :id"),
         soci::use(key, "id"));
    for (const soci::row& r : rows) return ReadToken(r);
    return absl::NotFoundError(absl::StrCat("token_id: no token ", id));
  } catch (...) {
    return StatusFromCurrentException("reading a token");
  }
}

absl::StatusOr<TokenInfo> IdentityStore::RevokeToken(int64_t id, absl::Time now) {
  {
    auto lease = pool_.Acquire();
    if (!lease.ok()) return lease.status();
    try {
      long long key = id, at = ToMicros(now);
      lease->session() << "UPDATE tokens SET revoked_at = xf_ts(:at) "
                          "WHERE id = :id AND revoked_at IS NULL",
          soci::use(at, "at"), soci::use(key, "id");
    } catch (...) {
      return StatusFromCurrentException("revoking a token");
    }
  }
  return GetToken(id);
}

absl::StatusOr<std::vector<TokenInfo>> IdentityStore::ListTokens(const std::string& account) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    std::vector<TokenInfo> out;
    soci::rowset<soci::row> rows =
        (lease->session().prepare
             << absl::StrCat("SELECT ", kTokenColumns,
                             " FROM tokens WHERE (:a1 = '' OR account = :a2) ORDER BY id DESC"),
         soci::use(account, "a1"), soci::use(account, "a2"));
    for (const soci::row& r : rows) out.push_back(ReadToken(r));
    return out;
  } catch (...) {
    return StatusFromCurrentException("listing tokens");
  }
}

absl::StatusOr<Account> IdentityStore::Authenticate(const std::string& secret, absl::Time now) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    const std::string hash = TokenHash(secret);
    // One round trip, on every call: a single-row query, not prepared.
    soci::row r;
    lease->session()
        << "SELECT a.name, a.display_name, a.role, a.unit, xf_us(a.created_at), a.created_by, "
           "xf_us(a.disabled_at), xf_us(t.expires_at), xf_us(t.revoked_at), t.id, "
           "xf_us(t.idle_expires_at), t.idle_seconds "
           "FROM tokens t JOIN accounts a ON a.name = t.account "
           "WHERE t.hash = decode(:h, 'hex')",
        soci::use(hash, "h"), soci::into(r);
    if (lease->session().got_data()) {
      Account a = ReadAccount(r);
      if (r.get_indicator(8) != soci::i_null) {
        return absl::UnauthenticatedError("token revoked");
      }
      if (r.get_indicator(11) != soci::i_null) {  // a session
        const absl::Time idle_end = FromMicros(r.get<long long>(10));
        const absl::Duration idle = absl::Seconds(r.get<int>(11));
        if (now >= idle_end) return absl::UnauthenticatedError("session ended: unused too long");
        // Moved on at most once a minute: not a write per call.
        if (idle_end - now < idle - absl::Minutes(1)) {
          long long id = r.get<long long>(9), until = ToMicros(std::min(
                                                   now + idle, FromMicros(r.get<long long>(7))));
          lease->session() << "UPDATE tokens SET idle_expires_at = xf_ts(:u) WHERE id = :id",
              soci::use(until, "u"), soci::use(id, "id");
        }
      }
      if (now >= FromMicros(r.get<long long>(7))) {
        return absl::UnauthenticatedError(absl::StrCat(
            "token expired at ",
            absl::FormatTime("%Y-%m-%d %H:%M:%S UTC", FromMicros(r.get<long long>(7)),
                             absl::UTCTimeZone())));
      }
      if (a.disabled_at.has_value()) {
        return absl::UnauthenticatedError(absl::StrCat("account '", a.name, "' is disabled"));
      }
      return a;
    }
    return absl::UnauthenticatedError(kUnknownToken);
  } catch (...) {
    return StatusFromCurrentException("authenticating");
  }
}

absl::StatusOr<IssuedToken> IdentityStore::Bootstrap(const std::string& name,
                                                     const std::string& unit, absl::Time now,
                                                     absl::Time expires_at) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  soci::session& s = lease->session();
  try {
    soci::transaction tx(s);
    // Two bootstraps at once: the second waits here, then sees the first.
    s << "LOCK TABLE accounts IN SHARE ROW EXCLUSIVE MODE";
    std::string admin;
    soci::indicator ind = soci::i_null;
    s << "SELECT min(name) FROM accounts WHERE role = 'administrator' AND disabled_at IS NULL",
        soci::into(admin, ind);
    if (ind == soci::i_ok) {
      return absl::FailedPreconditionError(absl::StrCat(
          "an administrator exists already ('", admin,
          "'): issue tokens with `xfctl admin token issue` as an administrator"));
    }
    int units = 0;
    s << "SELECT count(*) FROM units WHERE code = :u", soci::use(unit, "u"), soci::into(units);
    if (units == 0) {
      return absl::FailedPreconditionError(absl::StrCat("unit: unknown unit '", unit, "'"));
    }
    long long created = ToMicros(now);
    s << "INSERT INTO accounts (name, role, unit, created_at, created_by) "
         "VALUES (:n, 'administrator', :u, xf_ts(:c), 'bootstrap')",
        soci::use(name, "n"), soci::use(unit, "u"), soci::use(created, "c");
    auto token = InsertToken(s, name, "bootstrap", "bootstrap", now, expires_at);
    if (!token.ok()) return token.status();
    tx.commit();
    return token;
  } catch (...) {
    absl::Status st = StatusFromCurrentException("bootstrapping the first administrator");
    if (st.code() == absl::StatusCode::kAlreadyExists) {
      return absl::FailedPreconditionError(
          absl::StrCat("name: an account '", name, "' exists already; choose another name"));
    }
    return st;
  }
}

absl::Status IdentityStore::SetPassword(const std::string& account, const std::string& hash,
                                        bool must_change, absl::Time now) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    soci::session& s = lease->session();
    soci::transaction tx(s);
    int must = must_change ? 1 : 0;
    long long at = ToMicros(now);
    soci::statement st = (s.prepare << "UPDATE accounts SET password_hash = :h, "
                                       "password_must_change = (:m = 1) WHERE name = :a",
                          soci::use(hash, "h"), soci::use(must, "m"), soci::use(account, "a"));
    st.execute(true);
    if (st.get_affected_rows() == 0) {
      return absl::NotFoundError(absl::StrCat("account: no account '", account, "'"));
    }
    s << "UPDATE tokens SET revoked_at = xf_ts(:at) WHERE account = :a "
         "AND idle_seconds IS NOT NULL AND revoked_at IS NULL",
        soci::use(at, "at"), soci::use(account, "a");
    tx.commit();
    return absl::OkStatus();
  } catch (...) {
    return StatusFromCurrentException("setting a password");
  }
}

absl::StatusOr<IdentityStore::Password> IdentityStore::GetPassword(const std::string& account) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    soci::row r;
    lease->session() << absl::StrCat("SELECT ", kAccountColumns,
                                     ", coalesce(password_hash, ''), password_must_change::int "
                                     "FROM accounts WHERE name = :n"),
        soci::use(account, "n"), soci::into(r);
    if (!lease->session().got_data()) {
      return absl::NotFoundError(absl::StrCat("account: no account '", account, "'"));
    }
    Password p;
    p.account = ReadAccount(r);
    p.hash = r.get<std::string>(7);
    p.must_change = r.get<int>(8) != 0;
    return p;
  } catch (...) {
    return StatusFromCurrentException("reading a password");
  }
}

absl::StatusOr<IssuedToken> IdentityStore::IssueSession(const std::string& account, absl::Time now,
                                                        absl::Time expires_at,
                                                        absl::Duration idle) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    soci::session& s = lease->session();
    soci::transaction tx(s);
    auto t = InsertToken(s, account, "sign-in", account, now, expires_at);
    if (!t.ok()) return t.status();
    long long id = t->info.id, until = ToMicros(std::min(now + idle, expires_at));
    int secs = static_cast<int>(absl::ToInt64Seconds(idle));
    s << "UPDATE tokens SET idle_seconds = :s, idle_expires_at = xf_ts(:u) WHERE id = :id",
        soci::use(secs, "s"), soci::use(until, "u"), soci::use(id, "id");
    tx.commit();
    t->info.session = true;
    return t;
  } catch (...) {
    return StatusFromCurrentException("starting a session");
  }
}

absl::Status IdentityStore::RevokeSecret(const std::string& secret, absl::Time now) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    const std::string hash = TokenHash(secret);
    long long at = ToMicros(now);
    soci::statement st = (lease->session().prepare
                              << "UPDATE tokens SET revoked_at = coalesce(revoked_at, xf_ts(:at)) "
                                 "WHERE hash = decode(:h, 'hex')",
                          soci::use(at, "at"), soci::use(hash, "h"));
    st.execute(true);
    if (st.get_affected_rows() == 0) return absl::NotFoundError("no such token");
    return absl::OkStatus();
  } catch (...) {
    return StatusFromCurrentException("signing out");
  }
}

absl::Status IdentityStore::RecordAccess(const std::vector<AccessRecord>& records) {
  if (records.empty()) return absl::OkStatus();
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    std::vector<long long> at, cases;
    std::vector<std::string> account, role, unit, rpc;
    for (const AccessRecord& r : records) {
      at.push_back(ToMicros(r.at));
      account.push_back(r.account);
      role.push_back(r.role);
      unit.push_back(r.unit);
      rpc.push_back(r.rpc);
      cases.push_back(r.case_id);
    }
    lease->session() << "INSERT INTO access_log (at, account, role, unit, rpc, case_id) "
                        "VALUES (xf_ts(:at), :a, :r, :u, :rpc, :c)",
        soci::use(at, "at"), soci::use(account, "a"), soci::use(role, "r"),
        soci::use(unit, "u"), soci::use(rpc, "rpc"), soci::use(cases, "c");
    return absl::OkStatus();
  } catch (...) {
    return StatusFromCurrentException("recording access to personal data");
  }
}

absl::StatusOr<std::vector<AccessEntry>> IdentityStore::ListAccess(const AccessFilter& f) {
  auto lease = pool_.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    std::vector<AccessEntry> out;
    long long case_id = f.case_id, before = f.before_id, limit = f.limit;
    soci::rowset<soci::row> rows =
        (lease->session().prepare
             << "SELECT l.id, xf_us(l.at), l.account, l.role, l.unit, l.rpc, l.case_id, "
                "c.tracking_number FROM access_log l JOIN cases c ON c.id = l.case_id "
                "WHERE (:a1 = '' OR l.account = :a2) AND (:c1 = 0 OR l.case_id = :c2) "
                "AND (:b1 = 0 OR l.id < :b2) ORDER BY l.id DESC LIMIT :l",
         soci::use(f.account, "a1"), soci::use(f.account, "a2"), soci::use(case_id, "c1"),
         soci::use(case_id, "c2"), soci::use(before, "b1"), soci::use(before, "b2"),
         soci::use(limit, "l"));
    for (const soci::row& r : rows) {
      AccessEntry e;
      e.id = r.get<long long>(0);
      e.record.at = FromMicros(r.get<long long>(1));
      e.record.account = r.get<std::string>(2);
      e.record.role = r.get<std::string>(3);
      e.record.unit = r.get<std::string>(4);
      e.record.rpc = r.get<std::string>(5);
      e.record.case_id = r.get<long long>(6);
      e.tracking_number = r.get<std::string>(7);
      out.push_back(std::move(e));
    }
    return out;
  } catch (...) {
    return StatusFromCurrentException("reading the access log");
  }
}

}  // namespace xinfang::storage
