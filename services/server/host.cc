#include "services/server/host.h"

#include <algorithm>

#include "services/admin/admin_service.h"

namespace xinfang {

ServiceFactory Host(std::vector<std::string> names, std::vector<ServiceMaker> makers) {
  if (std::find(names.begin(), names.end(), "admin") == names.end()) names.push_back("admin");
  return [names, makers](Core& core) {
    std::vector<std::unique_ptr<grpc::Service>> out;
    for (const ServiceMaker& make : makers) out.push_back(make(core));
    out.push_back(std::make_unique<admin::AdminServiceImpl>(core, names));
    return out;
  };
}

}  // namespace xinfang
