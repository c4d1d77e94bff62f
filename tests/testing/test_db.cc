#include "tests/testing/test_db.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>
#include <unistd.h>

#include <atomic>
#include <cstdio>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <mutex>

#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "services/storage/db.h"

namespace xinfang::testing {
namespace {

std::mutex g_mu;
std::string g_admin_url;   // guarded by g_mu
std::string g_own_cluster;  // temp dir of a cluster we started, guarded by g_mu

std::string Run(const std::string& cmd) {
  std::string out;
  FILE* p = popen(cmd.c_str(), "r");
  if (p == nullptr) return out;
  char buf[512];
  while (fgets(buf, sizeof buf, p) != nullptr) out += buf;
  if (pclose(p) != 0) {
    std::cerr << "test harness: command failed: " << cmd << "\n" << out;
    std::abort();
  }
  return std::string(absl::StripAsciiWhitespace(out));
}


// SOCI wants libpq key=value conninfo, not a URL.
std::string Conninfo(const std::string& url) {
  auto c = storage::ToConninfo(url);
  if (!c.ok()) {
    std::cerr << "test harness: " << c.status() << "\n";
    std::abort();
  }
  return *c;
}

std::string WithDatabase(const std::string& admin, const std::string& db) {
  const auto slash = admin.rfind('/');
  return admin.substr(0, slash + 1) + db;
}

}  // namespace

std::string SourceDir() { return XINFANG_SOURCE_DIR; }
std::string BinaryDir() { return XINFANG_BINARY_DIR; }

std::string TestDatabase::AdminUrl() {
  std::lock_guard<std::mutex> lock(g_mu);
  if (!g_admin_url.empty()) return g_admin_url;
  if (const char* env = std::getenv("XINFANG_TEST_PG"); env != nullptr && *env != '\0') {
    g_admin_url = env;
    return g_admin_url;
  }
  char tmpl[] = "/tmp/xinfang-harness.XXXXXX";
  if (mkdtemp(tmpl) == nullptr) std::abort();
  g_own_cluster = tmpl;
  Run(absl::StrCat("chmod 755 ", g_own_cluster));
  g_admin_url = Run(absl::StrCat(SourceDir(), "/deploy/pg.sh start ", g_own_cluster, "/pg"));
  std::atexit([] {
    std::lock_guard<std::mutex> l(g_mu);
    if (!g_own_cluster.empty()) {
      Run(absl::StrCat(SourceDir(), "/deploy/pg.sh stop ", g_own_cluster, "/pg"));
      Run(absl::StrCat("rm -rf ", g_own_cluster));
    }
  });
  return g_admin_url;
}

TestDatabase::TestDatabase() {
  static std::atomic<int> counter{0};
  name_ = absl::StrCat("xf_", getpid(), "_", counter++);
  const std::string admin = AdminUrl();
  try {
    soci::session s(soci::postgresql, Conninfo(admin));
    s << "DROP DATABASE IF EXISTS " << name_;
    s << "CREATE DATABASE " << name_;
  } catch (const std::exception& e) {
    std::cerr << "test harness: cannot create database " << name_ << " at " << admin << ": "
              << e.what() << "\n";
    std::abort();
  }
  url_ = WithDatabase(admin, name_);
}

TestDatabase::~TestDatabase() {
  try {
    soci::session s(soci::postgresql, Conninfo(AdminUrl()));
    s << "DROP DATABASE IF EXISTS " << name_ << " WITH (FORCE)";
  } catch (const std::exception& e) {
    std::cerr << "test harness: cannot drop " << name_ << ": " << e.what() << "\n";
  }
}

void TestDatabase::Exec(const std::string& sql) const {
  try {
    soci::session s(soci::postgresql, Conninfo(url_));
    s << sql;
  } catch (const std::exception& e) {
    std::cerr << "test harness: statement failed: " << sql << ": " << e.what() << "\n";
    std::abort();
  }
}

std::string TestDatabase::Query(const std::string& sql) const {
  try {
    soci::session s(soci::postgresql, Conninfo(url_));
    soci::row r;
    s << sql, soci::into(r);
    if (!s.got_data() || r.size() == 0 || r.get_indicator(0) == soci::i_null) return "";
    switch (r.get_properties(0).get_data_type()) {
      case soci::dt_string: return r.get<std::string>(0);
      case soci::dt_integer: return absl::StrCat(r.get<int>(0));
      case soci::dt_long_long: return absl::StrCat(r.get<long long>(0));
      case soci::dt_unsigned_long_long: return absl::StrCat(r.get<unsigned long long>(0));
      case soci::dt_double: return absl::StrCat(r.get<double>(0));
      default: return "?";
    }
  } catch (const std::exception& e) {
    std::cerr << "test harness: query failed: " << sql << ": " << e.what() << "\n";
    std::abort();
  }
}

}  // namespace xinfang::testing
