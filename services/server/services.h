// Which services a process hosts: the all-in-one server hosts them all; each
// split binary hosts one (AdminService's server information always comes along).
#ifndef XINFANG_SERVICES_SERVER_SERVICES_H_
#define XINFANG_SERVICES_SERVER_SERVICES_H_

#include <string>
#include <vector>

#include "services/common/server.h"

namespace xinfang {

// `names`: any of "intake", "casework", "supervision", "query", "admin".
ServiceFactory MakeServices(std::vector<std::string> names);

}  // namespace xinfang

#endif  // XINFANG_SERVICES_SERVER_SERVICES_H_
