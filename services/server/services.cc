#include "services/server/services.h"

#include <algorithm>

#include "services/admin/admin_service.h"
#include "services/casework/casework_service.h"
#include "services/intake/intake_service.h"
#include "services/query/query_service.h"
#include "services/supervision/supervision_service.h"

namespace xinfang {

ServiceFactory MakeServices(std::vector<std::string> names) {
  return [names](Core& core) {
    std::vector<std::unique_ptr<grpc::Service>> out;
    auto has = [&](const char* n) { return std::find(names.begin(), names.end(), n) != names.end(); };
    if (has("intake")) out.push_back(std::make_unique<intake::IntakeServiceImpl>(core));
    if (has("casework")) out.push_back(std::make_unique<casework::CaseworkServiceImpl>(core));
    if (has("supervision")) out.push_back(std::make_unique<supervision::SupervisionServiceImpl>(core));
    if (has("query")) out.push_back(std::make_unique<query::CaseQueryServiceImpl>(core));
    std::vector<std::string> hosted = names;
    if (!has("admin")) hosted.push_back("admin");  // every process serves AdminService
    out.push_back(std::make_unique<admin::AdminServiceImpl>(core, hosted));
    return out;
  };
}

}  // namespace xinfang
