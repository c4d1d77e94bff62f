// Staff passwords: argon2id hashes (libsodium's crypto_pwhash_str with its
// interactive limits, salt and parameters in the string) and the rules a new
// password must meet.
#ifndef XINFANG_SERVICES_ADMIN_PASSWORDS_H_
#define XINFANG_SERVICES_ADMIN_PASSWORDS_H_

#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/string_view.h"

namespace xinfang::admin {

// INTERNAL if libsodium cannot hash (out of memory).
absl::StatusOr<std::string> HashPassword(absl::string_view password);
// False for a wrong password or a malformed hash. Takes as long for a
// missing hash (empty) as for a wrong password.
bool VerifyPassword(const std::string& hash, absl::string_view password);
// 8 to 128 characters of valid text, not the account name.
// INVALID_ARGUMENT "<field>: ..." otherwise.
absl::Status CheckNewPassword(const std::string& field, const std::string& account,
                              const std::string& password);

}  // namespace xinfang::admin

#endif  // XINFANG_SERVICES_ADMIN_PASSWORDS_H_
