// xinfang-query: the query service as a process of its own.
#include "services/server/services.h"

int main(int argc, char** argv) {
  return xinfang::ServerMain(argc, argv, "xinfang-query", xinfang::MakeServices({"query"}));
}
