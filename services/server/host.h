// What one process hosts: its services, then AdminService, which every
// process hosts (its server information names them all). A split binary
// links its own service's library and this one (xinfang_host), no other
// service's.
#ifndef XINFANG_SERVICES_SERVER_HOST_H_
#define XINFANG_SERVICES_SERVER_HOST_H_

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "services/common/server.h"

namespace xinfang {

// Makes one service of a process.
using ServiceMaker = std::function<std::unique_ptr<grpc::Service>(Core&)>;

// The maker of a service class constructed from the Core.
template <typename S>
ServiceMaker MakerOf() {
  return [](Core& core) -> std::unique_ptr<grpc::Service> { return std::make_unique<S>(core); };
}

// `names`: the services GetServerInfo lists ("admin" is added when missing);
// `makers`: the services besides AdminService, made in this order.
ServiceFactory Host(std::vector<std::string> names, std::vector<ServiceMaker> makers);

}  // namespace xinfang

#endif  // XINFANG_SERVICES_SERVER_HOST_H_
