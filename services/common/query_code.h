// The petitioner's query code (查询码): made, hashed and checked here, and
// the public status address drawn as a QR code for the receipt.
//
// A code is 10 characters of an alphabet without look-alikes (no 0/O, 1/I/L),
// about 49 bits, printed as two groups of five ("K7QMX-3PD9R"). Only a keyed
// hash is stored: BLAKE2b-256 (libsodium crypto_generichash) of the
// normalised code, keyed with 16 random bytes per case. A fast keyed hash,
// not a password hash: every lookup is rate-limited, and the code is random.
//
// Thread-safety: every function is thread-safe.
#ifndef XINFANG_SERVICES_COMMON_QUERY_CODE_H_
#define XINFANG_SERVICES_COMMON_QUERY_CODE_H_

#include <string>

#include "absl/strings/string_view.h"

namespace xinfang {

// A fresh random code, grouped for printing ("K7QMX-3PD9R").
std::string NewQueryCode();

// The code as it is hashed: dashes and white space dropped, letters upper
// case. Anything else is kept (and so never matches).
std::string NormalizeQueryCode(absl::string_view code);

// A salt and the keyed hash of `code` under it, both hex.
struct QueryCodeHash {
  std::string salt, hash;
};
QueryCodeHash HashQueryCode(absl::string_view code);

// Whether `code` hashes to `hash` under `salt` (hex), compared in constant
// time. A malformed salt or hash is hashed and compared all the same (with
// a stand-in salt), so a caller can spend the same work when a case has no
// stored code: pass empty strings.
bool QueryCodeMatches(absl::string_view code, absl::string_view salt, absl::string_view hash);

// `text` (a URL) as a QR code (libqrencode, error correction M): an SVG
// image, and rows of Unicode block characters (▀ ▄ █), two modules a row,
// dark modules inked, with a 2-module quiet zone. Both empty when `text` is
// empty or too long to encode.
struct QrCode {
  std::string svg, text;
};
QrCode RenderQr(absl::string_view text);

// The public status page of a case: `base` + "?t=" + the tracking number
// (the number is [A-Z0-9-], so nothing needs escaping); empty when `base` is.
std::string PublicStatusUrl(absl::string_view base, absl::string_view tracking_number);

}  // namespace xinfang

#endif  // XINFANG_SERVICES_COMMON_QUERY_CODE_H_
