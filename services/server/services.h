// Every service, for the all-in-one server and the tests: this library
// (xinfang_services) links them all. A split binary hosts its one service
// through host.h instead.
#ifndef XINFANG_SERVICES_SERVER_SERVICES_H_
#define XINFANG_SERVICES_SERVER_SERVICES_H_

#include <string>
#include <vector>

#include "services/common/server.h"

namespace xinfang {

// `names`: any of "intake", "casework", "supervision", "query", "admin"
// (AdminService comes along whatever the names).
ServiceFactory MakeServices(std::vector<std::string> names);

}  // namespace xinfang

#endif  // XINFANG_SERVICES_SERVER_SERVICES_H_
