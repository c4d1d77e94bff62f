// A fresh PostgreSQL database for one test, in the throwaway cluster that
// deploy/test.sh starts (XINFANG_TEST_PG: an admin URL ending in /postgres).
// Run outside test.sh, the first use starts a cluster itself with
// deploy/pg.sh in a temp dir and stops it at exit. Never skips.
#ifndef XINFANG_TESTS_TESTING_TEST_DB_H_
#define XINFANG_TESTS_TESTING_TEST_DB_H_

#include <string>

namespace xinfang::testing {

class TestDatabase {
 public:
  // Creates database xf_<pid>_<n>; aborts the test binary if it cannot.
  TestDatabase();
  ~TestDatabase();  // drops it
  TestDatabase(const TestDatabase&) = delete;
  TestDatabase& operator=(const TestDatabase&) = delete;

  const std::string& url() const { return url_; }
  const std::string& name() const { return name_; }
  // Runs SQL (as the superuser) and returns the first column of the first
  // row as text ("" if none). Aborts on error.
  std::string Query(const std::string& sql) const;

  // Runs SQL that returns no rows (DDL, DO blocks, bulk inserts). Aborts on error.
  void Exec(const std::string& sql) const;

  // The admin URL of the cluster (…/postgres).
  static std::string AdminUrl();

 private:
  std::string name_;
  std::string url_;
};

// The repository root (for deploy/, test data).
std::string SourceDir();
// The build tree (for the binaries in end-to-end tests).
std::string BinaryDir();

}  // namespace xinfang::testing

#endif  // XINFANG_TESTS_TESTING_TEST_DB_H_
