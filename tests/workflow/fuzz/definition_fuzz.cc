// libFuzzer entry: Definition::Parse on arbitrary text must never crash,
// hang or leak; what it accepts must be valid and usable by the engine.
// Built only with -DXINFANG_FUZZ=ON (clang); run by run_fuzz.sh.
#include <cstddef>
#include <cstdint>
#include <cstdlib>
#include <string>

#include "absl/time/time.h"
#include "workflow/calendar.h"
#include "workflow/definition.h"
#include "workflow/engine.h"

namespace {

using xinfang::workflow::Definition;

void Check(bool ok) {
  if (!ok) std::abort();
}

// Drives a loaded definition a little: start a case, try every action of the
// initial state as every role, and fire every timer late.
void Exercise(const std::shared_ptr<const Definition>& def) {
  static const xinfang::workflow::Calendar* const calendar =
      new xinfang::workflow::Calendar(absl::FixedTimeZone(8 * 3600));
  static const xinfang::workflow::MapOrgTree* const org =
      new xinfang::workflow::MapOrgTree({{"low", "high"}});
  xinfang::workflow::Engine engine(def, *calendar);
  const absl::Time now = absl::FromUnixSeconds(1750000000);
  xinfang::workflow::CaseStart start;
  start.received_at = now - absl::Hours(30);
  start.registering_unit = "low";
  start.forwarder_unit = "high";
  start.flags = {"forwarded_in"};
  absl::StatusOr<xinfang::workflow::Decision> started =
      engine.Start(start, {"clerk", xinfang::v1::ROLE_INTAKE_CLERK, "low"}, now);
  Check(started.ok());
  const xinfang::workflow::CaseSnapshot& c = started->next;
  for (const xinfang::v1::Action* a : def->ActionsFrom(c.state)) {
    for (int role : a->roles()) {
      xinfang::workflow::Actor actor{"acct", static_cast<xinfang::v1::Role>(role), "low"};
      xinfang::workflow::ActionRequest req;
      req.action = a->name();
      for (const auto& f : a->fields()) req.fields[f.name()] = "1";
      (void)engine.Apply(c, req, actor, now + absl::Hours(1), *org);
      (void)engine.Available(c, actor, now, *org);
    }
  }
  for (const xinfang::workflow::TimerState& t : c.timers) {
    (void)engine.NextFireAt(t);
    absl::StatusOr<xinfang::workflow::Decision> fired =
        engine.Fire(c, t.name, now + absl::Hours(24 * 4000), *org);
    (void)fired;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  absl::StatusOr<std::shared_ptr<const Definition>> def = Definition::Parse(text, "fuzz");
  if (!def.ok()) {
    // Every refusal is a list of problems, never another kind of error.
    Check(def.status().code() == absl::StatusCode::kInvalidArgument);
    Check(!def.status().message().empty());
    return 0;
  }
  const Definition& d = **def;
  Check(Definition::Validate(d.proto(), "fuzz", text).empty());
  Check(d.FindState(d.proto().initial_state()) != nullptr);
  for (const auto& a : d.proto().actions()) {
    Check(d.FindAction(a.name()) != nullptr);
    Check(d.FindState(a.to()) != nullptr);
    for (const auto& from : a.from()) Check(d.FindState(from) != nullptr);
  }
  for (const auto& t : d.proto().timers()) Check(d.FindTimer(t.name()) != nullptr);
  Exercise(*def);
  return 0;
}
