// xinfang-server: every service in one process, the single-machine default.
#include "services/server/services.h"

int main(int argc, char** argv) {
  return xinfang::ServerMain(argc, argv, "xinfang-server",
                             xinfang::MakeServices({"intake", "casework", "supervision", "query",
                                                    "admin"}));
}
