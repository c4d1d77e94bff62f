// One column of a batch as a PostgreSQL array literal ({"a","b",NULL}), so
// that one statement writes or reads many rows: bind the literal as text,
// cast it (CAST(:ids AS bigint[])) and unnest it. Text elements are quoted
// and escaped, so any UTF-8 text passes intact.
//
// Thread-compatible: one builder belongs to one thread.
#ifndef XINFANG_SERVICES_STORAGE_SQL_ARRAY_H_
#define XINFANG_SERVICES_STORAGE_SQL_ARRAY_H_

#include <cstdint>
#include <optional>
#include <string>

#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"

namespace xinfang::storage {

class SqlArray {
 public:
  SqlArray& AddText(absl::string_view v) {
    Next();
    buf_ += '"';
    for (char c : v) {
      if (c == '"' || c == '\\') buf_ += '\\';
      buf_ += c;
    }
    buf_ += '"';
    return *this;
  }
  SqlArray& AddInt(int64_t v) {
    Next();
    absl::StrAppend(&buf_, v);
    return *this;
  }
  SqlArray& AddBool(bool v) {
    Next();
    buf_ += v ? 't' : 'f';
    return *this;
  }
  SqlArray& AddOptInt(std::optional<int64_t> v) { return v ? AddInt(*v) : AddNull(); }
  SqlArray& AddNull() {
    Next();
    buf_ += "NULL";
    return *this;
  }

  int size() const { return size_; }

  // The literal, e.g. {1,2} or {"a","b"}; {} when empty. Closes the array:
  // REQUIRES no Add after it. The reference lives as long as the builder
  // (SOCI binds it by address).
  const std::string& Literal() {
    if (!closed_) buf_ += '}';
    closed_ = true;
    return buf_;
  }

 private:
  void Next() {
    if (size_++ > 0) buf_ += ',';
  }
  std::string buf_ = "{";
  int size_ = 0;
  bool closed_ = false;
};

}  // namespace xinfang::storage

#endif  // XINFANG_SERVICES_STORAGE_SQL_ARRAY_H_
