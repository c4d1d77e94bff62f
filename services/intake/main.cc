// xinfang-intake: the intake service as a process of its own.
#include "services/server/services.h"

int main(int argc, char** argv) {
  return xinfang::ServerMain(argc, argv, "xinfang-intake", xinfang::MakeServices({"intake"}));
}
