#include "tools/xfbench-timers/seed.h"

#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include "absl/strings/str_cat.h"
#include "services/storage/case_store.h"
#include "services/storage/db.h"
#include "services/storage/sql_array.h"

namespace xinfang::bench {
namespace {

constexpr char kTemplateEvent[] = R"sql(
  SELECT count(*) OVER ()::int, seq, kind, action, from_state, to_state, actor,
         actor_role::int, actor_unit, xf_us(at), note
    FROM case_events WHERE case_id = :id)sql";

constexpr char kTemplateEventFields[] = R"sql(
  SELECT f.key, f.value FROM case_events e, jsonb_each_text(e.fields) f WHERE e.case_id = :id)sql";

// The columns of `cases` that a copy takes from the template as they are.
constexpr char kCopiedColumns[] = R"sql(
  SELECT string_agg(quote_ident(column_name), ', ' ORDER BY ordinal_position)
    FROM information_schema.columns
   WHERE table_schema = current_schema() AND table_name = 'cases'
     AND column_name NOT IN ('id', 'tracking_number', 'request_id', 'head_hash'))sql";

constexpr char kNewIds[] =
    "SELECT nextval(pg_get_serial_sequence('cases', 'id')) FROM generate_series(1, :n)";

constexpr char kCopyEvents[] = R"sql(
  INSERT INTO case_events (case_id, seq, kind, action, from_state, to_state, actor, actor_role,
                           actor_unit, at, note, fields, prev_hash, hash)
  SELECT n.id, e.seq, e.kind, e.action, e.from_state, e.to_state, e.actor, e.actor_role,
         e.actor_unit, e.at, e.note, e.fields, e.prev_hash, n.hash
    FROM case_events e,
         unnest(CAST(:ids AS bigint[]), CAST(:hashes AS text[])) AS n(id, hash)
   WHERE e.case_id = :id)sql";

constexpr char kCopyTimers[] = R"sql(
  INSERT INTO case_timers (case_id, name, started_at, due_day, due_at, warn_at, provisional,
                           suspended_at, extended, warned, overdue, rung, next_fire_at,
                           owing_unit, counted_from, base_days, extension_days, stopped_days,
                           rolled)
  SELECT n.id, t.name, t.started_at, t.due_day, t.due_at, t.warn_at, t.provisional,
         t.suspended_at, t.extended, t.warned, t.overdue, t.rung, t.next_fire_at, t.owing_unit,
         t.counted_from, t.base_days, t.extension_days, t.stopped_days, t.rolled
    FROM case_timers t, unnest(CAST(:ids AS bigint[])) AS n(id)
   WHERE t.case_id = :id)sql";

}  // namespace

absl::StatusOr<std::vector<int64_t>> CloneCase(const std::string& db_url, int64_t template_id,
                                               int copies) {
  auto conninfo = storage::ToConninfo(db_url);
  if (!conninfo.ok()) return conninfo.status();
  try {
    soci::session s(soci::postgresql, *conninfo);
    soci::transaction tx(s);
    long long id = template_id;

    // The template's one event, to hash anew for each copy.
    soci::row r;
    s << kTemplateEvent, soci::use(id, "id"), soci::into(r);
    if (!s.got_data()) {
      return absl::NotFoundError(absl::StrCat("case ", template_id, " has no history"));
    }
    if (r.get<int>(0) != 1 || r.get<int>(1) != 1) {
      return absl::FailedPreconditionError(
          absl::StrCat("case ", template_id, ": the template's history must be one event"));
    }
    workflow::Event event;
    event.kind = r.get<std::string>(2);
    event.action = r.get<std::string>(3);
    event.from_state = r.get<std::string>(4);
    event.to_state = r.get<std::string>(5);
    const workflow::Actor actor{r.get<std::string>(6),
                                static_cast<xinfang::v1::Role>(r.get<int>(7)),
                                r.get<std::string>(8)};
    const absl::Time at = storage::FromMicros(r.get<long long>(9));
    event.note = r.get<std::string>(10);
    {
      std::string key, value;
      soci::statement st = (s.prepare << kTemplateEventFields, soci::use(id, "id"), soci::into(key),
                            soci::into(value));
      st.execute();
      while (st.fetch()) event.fields[key] = value;
    }

    std::vector<int64_t> ids;
    storage::SqlArray id_array, hashes;
    {
      long long new_id = 0;
      soci::statement st = (s.prepare << kNewIds, soci::use(copies, "n"), soci::into(new_id));
      st.execute();
      while (st.fetch()) {
        ids.push_back(new_id);
        id_array.AddInt(new_id);
        hashes.AddText(storage::EventHash("", new_id, 1, event, actor, at));
      }
    }
    const std::string& id_literal = id_array.Literal();
    const std::string& hash_literal = hashes.Literal();

    std::string columns;
    s << kCopiedColumns, soci::into(columns);
    s << "INSERT INTO cases (id, tracking_number, request_id, head_hash, " << columns << ") "
      << "SELECT n.id, 'BULK-' || n.id, 'bulk-' || n.id, n.hash, " << columns
      << "  FROM cases, unnest(CAST(:ids AS bigint[]), CAST(:hashes AS text[])) AS n(id, hash)"
      << " WHERE cases.id = :id",
        soci::use(id_literal, "ids"), soci::use(hash_literal, "hashes"), soci::use(id, "id");
    s << kCopyEvents, soci::use(id_literal, "ids"), soci::use(hash_literal, "hashes"),
        soci::use(id, "id");
    s << kCopyTimers, soci::use(id_literal, "ids"), soci::use(id, "id");
    tx.commit();
    return ids;
  } catch (...) {
    return storage::StatusFromCurrentException("cloning cases");
  }
}

}  // namespace xinfang::bench
