// Minimal JSON writing for the jsonb columns (string maps only).
#ifndef XINFANG_SERVICES_STORAGE_JSON_H_
#define XINFANG_SERVICES_STORAGE_JSON_H_

#include <map>
#include <string>
#include <string_view>

namespace xinfang::storage {

// `s` as a JSON string literal, quotes included (UTF-8 passes through).
std::string JsonQuote(std::string_view s);
// {"k":"v",...} in key order.
std::string JsonObject(const std::map<std::string, std::string>& m);

}  // namespace xinfang::storage

#endif  // XINFANG_SERVICES_STORAGE_JSON_H_
