#include "services/admin/passwords.h"

#include <sodium.h>

#include <mutex>

#include "absl/strings/ascii.h"
#include "absl/strings/str_cat.h"
#include "services/common/validate.h"

namespace xinfang::admin {
namespace {

bool Ready() {
  static const bool ok = sodium_init() >= 0;
  return ok;
}

}  // namespace

absl::StatusOr<std::string> HashPassword(absl::string_view password) {
  if (!Ready()) return absl::InternalError("libsodium did not initialise");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str_alg(out, password.data(), password.size(),
                            crypto_pwhash_OPSLIMIT_INTERACTIVE, crypto_pwhash_MEMLIMIT_INTERACTIVE,
                            crypto_pwhash_ALG_ARGON2ID13) != 0) {
    return absl::InternalError("hashing a password failed (out of memory?)");
  }
  return std::string(out);
}

bool VerifyPassword(const std::string& hash, absl::string_view password) {
  if (!Ready()) return false;
  // A missing hash costs a real verification too: timing tells no one
  // which accounts exist.
  static const std::string dummy = [] {
    auto h = HashPassword("not a password of anyone");
    return h.ok() ? *h : std::string();
  }();
  const std::string& h = hash.empty() ? dummy : hash;
  const bool ok = crypto_pwhash_str_verify(h.c_str(), password.data(), password.size()) == 0;
  return ok && !hash.empty();
}

absl::Status CheckNewPassword(const std::string& field, const std::string& account,
                              const std::string& password) {
  if (auto s = CheckText(field, password, 128, true); !s.ok()) return s;
  if (Utf8Length(password) < 8) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": at least 8 characters"));
  }
  if (absl::AsciiStrToLower(password) == absl::AsciiStrToLower(account)) {
    return absl::InvalidArgumentError(absl::StrCat(field, ": not the account name"));
  }
  return absl::OkStatus();
}

}  // namespace xinfang::admin
