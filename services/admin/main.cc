// xinfang-admin: the admin service as a process of its own.
#include "services/server/host.h"

int main(int argc, char** argv) {
  return xinfang::ServerMain(argc, argv, "xinfang-admin", xinfang::Host({"admin"}, {}));
}
