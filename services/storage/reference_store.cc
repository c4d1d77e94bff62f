#include "services/storage/reference_store.h"

#include <soci/soci.h>

#include <optional>

#include "absl/strings/str_cat.h"

namespace xinfang::storage {
namespace {

const Sql kUnits{"SELECT code, coalesce(parent, '') FROM units"};
const Sql kNames{
    "SELECT 'unit:' || code, name FROM units UNION ALL "
    "SELECT 'category:' || code, name FROM categories"};
const Sql kCategories{"SELECT code, active FROM categories"};

constexpr char kListUnits[] =
    "SELECT code, name, coalesce(parent, ''), 1 FROM units ORDER BY code";
constexpr char kListCategories[] =
    "SELECT code, name, coalesce(parent, ''), active::int FROM categories "
    " WHERE active OR :all = 1 ORDER BY code";
constexpr char kLockUnit[] = "SELECT coalesce(parent, '') FROM units WHERE code = :code FOR UPDATE";
constexpr char kUnitExists[] = "SELECT count(*)::int FROM units WHERE code = :code";
constexpr char kAnyUnit[] = "SELECT count(*)::int FROM units";
constexpr char kInsertUnit[] =
    "INSERT INTO units (code, name, parent) VALUES (:code, :name, nullif(:parent, ''))";
constexpr char kRenameUnit[] = "UPDATE units SET name = :name WHERE code = :code";
// The category's ancestors from `parent` up (a cycle stops at the category).
constexpr char kCategoryCycle[] = R"sql(
  WITH RECURSIVE up(code, parent) AS (
    SELECT code, parent FROM categories WHERE code = :parent
    UNION SELECT c.code, c.parent FROM categories c JOIN up ON c.code = up.parent)
  SELECT count(*)::int FROM up WHERE code = :code)sql";
constexpr char kCategoryExists[] = "SELECT count(*)::int FROM categories WHERE code = :code";
constexpr char kUpsertCategory[] = R"sql(
  INSERT INTO categories (code, name, parent, active)
  VALUES (:code, :name, nullif(:parent, ''), :active = 1)
  ON CONFLICT (code) DO UPDATE SET name = excluded.name, parent = excluded.parent,
                                   active = excluded.active
  RETURNING (xmax = 0)::int)sql";

int Count(soci::session& s, const char* sql, const std::string& code) {
  int n = 0;
  s << sql, soci::use(code, "code"), soci::into(n);
  return n;
}

}  // namespace

absl::StatusOr<ReferenceLists> ListReference(Pool& pool, bool include_inactive) {
  auto lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  try {
    ReferenceLists out;
    auto read = [](const soci::rowset<soci::row>& rows, std::vector<RefRow>& into) {
      for (const soci::row& r : rows) {
        into.push_back(RefRow{r.get<std::string>(0), r.get<std::string>(1),
                              r.get<std::string>(2), r.get<int>(3) != 0});
      }
    };
    const int all = include_inactive ? 1 : 0;
    read(lease->session().prepare << kListUnits, out.units);
    read((lease->session().prepare << kListCategories, soci::use(all, "all")), out.categories);
    return out;
  } catch (...) {
    return StatusFromCurrentException("reading units and categories");
  }
}

absl::StatusOr<PutResult> PutUnit(Pool& pool, const RefRow& unit) {
  auto lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  soci::session& s = lease->session();
  try {
    soci::transaction tx(s);
    PutResult out{unit, false};
    std::string parent;
    soci::indicator found = soci::i_null;
    s << kLockUnit, soci::use(unit.code, "code"), soci::into(parent, found);
    if (s.got_data()) {
      if (!unit.parent.empty() && unit.parent != parent) {
        return absl::FailedPreconditionError(absl::StrCat(
            "parent: unit '", unit.code, "' is under '", parent,
            "'; a unit's place in the tree is fixed once it exists (scopes and history hang on it)"));
      }
      s << kRenameUnit, soci::use(unit.name, "name"), soci::use(unit.code, "code");
      out.row.parent = parent;
    } else {
      if (unit.parent.empty()) {
        int any = 0;
        s << kAnyUnit, soci::into(any);
        if (any > 0) return absl::InvalidArgumentError("parent: required (the top unit exists)");
      } else if (Count(s, kUnitExists, unit.parent) == 0) {
        return absl::InvalidArgumentError(absl::StrCat("parent: unknown unit '", unit.parent, "'"));
      }
      s << kInsertUnit, soci::use(unit.code, "code"), soci::use(unit.name, "name"),
          soci::use(unit.parent, "parent");
      out.created = true;
    }
    tx.commit();
    return out;
  } catch (...) {
    return StatusFromCurrentException("changing a unit");
  }
}

absl::StatusOr<PutResult> PutCategory(Pool& pool, const RefRow& category) {
  auto lease = pool.Acquire();
  if (!lease.ok()) return lease.status();
  soci::session& s = lease->session();
  try {
    soci::transaction tx(s);
    if (!category.parent.empty()) {
      if (category.parent == category.code ||
          Count(s, kCategoryExists, category.parent) == 0) {
        return absl::InvalidArgumentError(
            absl::StrCat("parent: unknown category '", category.parent, "'"));
      }
      int cycle = 0;
      s << kCategoryCycle, soci::use(category.parent, "parent"), soci::use(category.code, "code"),
          soci::into(cycle);
      if (cycle > 0) {
        return absl::InvalidArgumentError(absl::StrCat(
            "parent: '", category.parent, "' is below '", category.code, "' (a cycle)"));
      }
    }
    const int active = category.active ? 1 : 0;
    int created = 0;
    s << kUpsertCategory, soci::use(category.code, "code"), soci::use(category.name, "name"),
        soci::use(category.parent, "parent"), soci::use(active, "active"), soci::into(created);
    tx.commit();
    return PutResult{category, created != 0};
  } catch (...) {
    return StatusFromCurrentException("changing a category");
  }
}

absl::StatusOr<std::map<std::string, std::string>> ReadUnits(Pool& pool) {
  return WithConn(pool, "reading units",
                  [&](Conn& conn) -> absl::StatusOr<std::map<std::string, std::string>> {
                    std::map<std::string, std::string> out;
                    for (Row r : conn.Run(kUnits, {})) out[r.str(0)] = r.str(1);
                    return out;
                  });
}

absl::StatusOr<std::map<std::string, std::string>> ReadNames(Pool& pool) {
  return WithConn(pool, "reading unit and category names",
                  [&](Conn& conn) -> absl::StatusOr<std::map<std::string, std::string>> {
                    std::map<std::string, std::string> out;
                    for (Row r : conn.Run(kNames, {})) out[r.str(0)] = r.str(1);
                    return out;
                  });
}

absl::StatusOr<std::map<std::string, bool>> ReadCategories(Pool& pool) {
  return WithConn(pool, "reading categories",
                  [&](Conn& conn) -> absl::StatusOr<std::map<std::string, bool>> {
                    std::map<std::string, bool> out;
                    for (Row r : conn.Run(kCategories, {})) out[r.str(0)] = r.boolean(1);
                    return out;
                  });
}

}  // namespace xinfang::storage
