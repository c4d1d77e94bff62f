// Accounts, bearer tokens and the record of reads of unmasked personal data
// (migration 0007). A token is 32 random bytes shown once to whoever issues
// it ("xf_" + base64url); only its SHA-256 is stored, so a fast hash lookup
// authenticates every call and a stolen table yields no usable token.
//
// Thread-safety: IdentityStore is thread-safe (each call leases its own
// session from the pool).
#ifndef XINFANG_SERVICES_STORAGE_IDENTITY_STORE_H_
#define XINFANG_SERVICES_STORAGE_IDENTITY_STORE_H_

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "services/storage/db.h"

namespace xinfang::storage {

struct Account {
  std::string name;
  std::string display_name;
  std::string role;  // "intake_clerk", … "service"
  std::string unit;
  absl::Time created_at;
  std::string created_by;
  std::optional<absl::Time> disabled_at;
  std::string email;  // where notifications go; empty: none
};

struct TokenInfo {
  int64_t id = 0;
  std::string account;
  std::string label;
  absl::Time created_at;
  std::string created_by;
  absl::Time expires_at;
  std::optional<absl::Time> revoked_at;
  bool session = false;  // from a sign-in: also lapses when idle
};

struct IssuedToken {
  TokenInfo info;
  std::string secret;  // the bearer token itself: shown once, never stored
};

struct AccessRecord {
  absl::Time at;
  std::string account, role, unit;
  std::string rpc;
  int64_t case_id = 0;
};

struct AccessFilter {
  std::string account;   // empty: any
  int64_t case_id = 0;   // 0: any
  int64_t before_id = 0; // keyset: only ids below this; 0: from the newest
  int limit = 100;
};

struct AccessEntry {
  int64_t id = 0;
  AccessRecord record;
  std::string tracking_number;
};

class IdentityStore {
 public:
  explicit IdentityStore(Pool& pool) : pool_(pool) {}

  // ALREADY_EXISTS for a taken name; FAILED_PRECONDITION for an unknown unit.
  absl::Status CreateAccount(const Account& account);
  // Sets (or clears, empty) the account's e-mail address; NOT_FOUND.
  absl::Status SetEmail(const std::string& name, const std::string& email);
  // NOT_FOUND for an unknown name.
  absl::StatusOr<Account> GetAccount(const std::string& name);
  // Accounts in name order; `unit` empty: all, else exactly that unit.
  absl::StatusOr<std::vector<Account>> ListAccounts(const std::string& unit);
  // Disables (every token stops working at once) or enables an account.
  absl::Status SetDisabled(const std::string& name, std::optional<absl::Time> disabled_at);

  // A new token for an enabled account. NOT_FOUND / FAILED_PRECONDITION.
  absl::StatusOr<IssuedToken> IssueToken(const std::string& account, const std::string& label,
                                         const std::string& created_by, absl::Time now,
                                         absl::Time expires_at);
  // Revokes a token at `now` (a second revocation keeps the first time).
  // NOT_FOUND for an unknown id.
  absl::StatusOr<TokenInfo> RevokeToken(int64_t id, absl::Time now);
  absl::StatusOr<TokenInfo> GetToken(int64_t id);
  // Tokens of an account (all accounts when empty), newest first.
  absl::StatusOr<std::vector<TokenInfo>> ListTokens(const std::string& account);

  // The account a bearer token belongs to. UNAUTHENTICATED, saying why, for
  // an unknown, expired or revoked token or a disabled account.
  absl::StatusOr<Account> Authenticate(const std::string& secret, absl::Time now);

  // Creates the first administrator and its token in one transaction.
  // FAILED_PRECONDITION once any enabled administrator exists.
  absl::StatusOr<IssuedToken> Bootstrap(const std::string& name, const std::string& unit,
                                        absl::Time now, absl::Time expires_at);

  // Passwords and sessions (migration 0011). SetPassword stores an
  // argon2id hash (crypto_pwhash_str) and revokes the account's open
  // sessions. NOT_FOUND for an unknown account.
  absl::Status SetPassword(const std::string& account, const std::string& hash, bool must_change,
                           absl::Time now);
  // The stored hash and whether it must be changed; NOT_FOUND for an
  // unknown account, an empty hash when it has no password.
  struct Password {
    Account account;
    std::string hash;
    bool must_change = false;
  };
  absl::StatusOr<Password> GetPassword(const std::string& account);
  // A session token: refused after `expires_at`, or after `idle` without a
  // call (each call, at most once a minute, moves the idle expiry on).
  absl::StatusOr<IssuedToken> IssueSession(const std::string& account, absl::Time now,
                                           absl::Time expires_at, absl::Duration idle);
  // Revokes the token whose secret this is (sign-out). NOT_FOUND if none.
  absl::Status RevokeSecret(const std::string& secret, absl::Time now);

  absl::Status RecordAccess(const std::vector<AccessRecord>& records);
  // Newest first.
  absl::StatusOr<std::vector<AccessEntry>> ListAccess(const AccessFilter& f);

 private:
  Pool& pool_;
};

// The message of Authenticate's refusal of a token no account has.
inline constexpr char kUnknownToken[] = "unknown token";

// SHA-256 of a token secret, as lower-case hex.
std::string TokenHash(const std::string& secret);

}  // namespace xinfang::storage

#endif  // XINFANG_SERVICES_STORAGE_IDENTITY_STORE_H_
