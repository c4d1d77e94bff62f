#include "tests/testing/petitions.h"

#include "absl/time/civil_time.h"

namespace xinfang::testing {

namespace v1 = xinfang::v1;

absl::Time Monday() {
  return absl::FromCivil(absl::CivilSecond(2026, 3, 2, 9, 0, 0), absl::FixedTimeZone(8 * 3600));
}

namespace {

v1::RegisterCaseRequest WagesVisitOf(const std::string& request_id) {
  v1::RegisterCaseRequest r;
  r.set_request_id(request_id);
  v1::CaseIntake* in = r.mutable_intake();
  in->set_channel(v1::CHANNEL_VISIT);
  in->mutable_visit()->set_people_present(1);
  in->set_purpose(v1::PURPOSE_CLAIM);
  in->set_category("wages.arrears");
  return r;
}

}  // namespace

v1::RegisterCaseRequest WagesVisit(const std::string& request_id) {
  v1::RegisterCaseRequest r = WagesVisitOf(request_id);
  v1::CaseIntake* in = r.mutable_intake();
  in->set_summary("某公司拖欠三个月工资");
  in->set_request("请求督促公司支付工资");
  in->set_complained_about("某建筑公司");
  v1::Petitioner* p = in->add_petitioners();
  p->set_name("张三");
  p->set_id_number("11010519491231002X");
  p->set_phone("13800000000");
  return r;
}

v1::RegisterCaseRequest AnonymousWagesVisit(const std::string& request_id,
                                            const std::string& unit) {
  v1::RegisterCaseRequest r = WagesVisitOf(request_id);
  v1::CaseIntake* in = r.mutable_intake();
  in->set_summary("匿名反映欠薪");
  in->set_anonymous(true);
  if (!unit.empty()) in->set_registering_unit(unit);
  return r;
}

}  // namespace xinfang::testing
