// xinfang-casework: the casework service as a process of its own.
#include "services/casework/casework_service.h"
#include "services/server/host.h"

int main(int argc, char** argv) {
  using xinfang::casework::CaseworkServiceImpl;
  return xinfang::ServerMain(
      argc, argv, "xinfang-casework",
      xinfang::Host({"casework"}, {xinfang::MakerOf<CaseworkServiceImpl>()}));
}
