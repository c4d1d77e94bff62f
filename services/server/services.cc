#include "services/server/services.h"

#include <algorithm>

#include "services/casework/casework_service.h"
#include "services/intake/intake_service.h"
#include "services/query/public_service.h"
#include "services/query/query_service.h"
#include "services/server/host.h"
#include "services/supervision/supervision_service.h"

namespace xinfang {

ServiceFactory MakeServices(std::vector<std::string> names) {
  auto has = [&](const char* n) { return std::find(names.begin(), names.end(), n) != names.end(); };
  std::vector<ServiceMaker> makers;
  if (has("intake")) makers.push_back(MakerOf<intake::IntakeServiceImpl>());
  if (has("casework")) makers.push_back(MakerOf<casework::CaseworkServiceImpl>());
  if (has("supervision")) makers.push_back(MakerOf<supervision::SupervisionServiceImpl>());
  if (has("query")) {
    makers.push_back(MakerOf<query::CaseQueryServiceImpl>());
    makers.push_back(MakerOf<query::PublicServiceImpl>());  // the petitioner's side, no token
  }
  return Host(std::move(names), std::move(makers));  // every process serves AdminService
}

}  // namespace xinfang
