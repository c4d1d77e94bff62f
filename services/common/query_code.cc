#include "services/common/query_code.h"

#include <qrencode.h>
#include <sodium.h>

#include <cstdint>
#include <cstdlib>
#include <memory>

#include "absl/strings/ascii.h"
#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"

namespace xinfang {
namespace {

constexpr char kAlphabet[] = "23456789ABCDEFGHJKMNPQRSTUVWXYZ";  // 31: no 0 O 1 I L
constexpr int kLength = 10;
constexpr size_t kSaltBytes = 16;
constexpr size_t kHashBytes = 32;

void InitSodium() {
  static const bool ok = sodium_init() >= 0;
  if (!ok) std::abort();  // no randomness: nothing safe to do
}

std::string Hex(const unsigned char* p, size_t n) {
  return absl::BytesToHexString(absl::string_view(reinterpret_cast<const char*>(p), n));
}

// `hex` decoded into exactly `n` bytes at `out`; false when it is not that.
bool FromHex(absl::string_view hex, unsigned char* out, size_t n) {
  if (hex.size() != 2 * n) return false;
  for (char ch : hex) {
    if (!absl::ascii_isxdigit(static_cast<unsigned char>(ch))) return false;
  }
  const std::string bytes = absl::HexStringToBytes(hex);
  std::copy(bytes.begin(), bytes.end(), out);
  return true;
}

void KeyedHash(absl::string_view code, const unsigned char* salt, unsigned char* out) {
  const std::string normal = NormalizeQueryCode(code);
  crypto_generichash(out, kHashBytes, reinterpret_cast<const unsigned char*>(normal.data()),
                     normal.size(), salt, kSaltBytes);
}

}  // namespace

std::string NewQueryCode() {
  InitSodium();
  std::string code;
  for (int i = 0; i < kLength; ++i) {
    if (i == kLength / 2) code += '-';
    code += kAlphabet[randombytes_uniform(sizeof(kAlphabet) - 1)];
  }
  return code;
}

std::string NormalizeQueryCode(absl::string_view code) {
  std::string out;
  for (char ch : code) {
    if (ch == '-' || absl::ascii_isspace(static_cast<unsigned char>(ch))) continue;
    out += absl::ascii_toupper(static_cast<unsigned char>(ch));
  }
  return out;
}

QueryCodeHash HashQueryCode(absl::string_view code) {
  InitSodium();
  unsigned char salt[kSaltBytes], hash[kHashBytes];
  randombytes_buf(salt, sizeof salt);
  KeyedHash(code, salt, hash);
  return {Hex(salt, sizeof salt), Hex(hash, sizeof hash)};
}

bool QueryCodeMatches(absl::string_view code, absl::string_view salt_hex,
                      absl::string_view hash_hex) {
  InitSodium();
  unsigned char salt[kSaltBytes] = {0}, want[kHashBytes] = {0}, got[kHashBytes];
  bool valid = FromHex(salt_hex, salt, sizeof salt);
  valid = FromHex(hash_hex, want, sizeof want) && valid;
  KeyedHash(code, salt, got);
  const bool same = sodium_memcmp(got, want, kHashBytes) == 0;
  return same && valid;
}

QrCode RenderQr(absl::string_view text) {
  QrCode out;
  if (text.empty()) return out;
  const std::string s(text);
  std::unique_ptr<QRcode, void (*)(QRcode*)> qr(QRcode_encodeString8bit(s.c_str(), 0, QR_ECLEVEL_M),
                                                QRcode_free);
  if (qr == nullptr) return out;
  const int n = qr->width;
  auto dark = [&](int x, int y) {
    return x >= 0 && y >= 0 && x < n && y < n && (qr->data[y * n + x] & 1) != 0;
  };
  constexpr int kQuiet = 2;
  const int size = n + 2 * kQuiet;
  out.svg = absl::StrFormat(
      "<svg xmlns=\"http://www.w3.org/2000/svg\" viewBox=\"0 0 %d %d\" "
      "shape-rendering=\"crispEdges\">"
      "<rect width=\"%d\" height=\"%d\" fill=\"#fff\"/><path fill=\"#000\" d=\"",
      size, size, size, size);
  for (int y = 0; y < n; ++y) {
    for (int x = 0; x < n; ++x) {
      if (dark(x, y)) absl::StrAppendFormat(&out.svg, "M%d %dh1v1h-1z", x + kQuiet, y + kQuiet);
    }
  }
  out.svg += "\"/></svg>";
  for (int y = -kQuiet; y < n + kQuiet; y += 2) {
    for (int x = -kQuiet; x < n + kQuiet; ++x) {
      const bool top = dark(x, y), bottom = dark(x, y + 1);
      out.text += top && bottom ? "█" : top ? "▀" : bottom ? "▄" : " ";
    }
    out.text += '\n';
  }
  return out;
}

std::string PublicStatusUrl(absl::string_view base, absl::string_view tracking_number) {
  if (base.empty()) return "";
  return absl::StrCat(base, absl::StrContains(base, "?") ? "&" : "?", "t=", tracking_number);
}

}  // namespace xinfang
