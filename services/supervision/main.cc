// xinfang-supervision: the supervision service as a process of its own.
#include "services/supervision/supervision_service.h"
#include "services/server/host.h"

int main(int argc, char** argv) {
  using xinfang::supervision::SupervisionServiceImpl;
  return xinfang::ServerMain(
      argc, argv, "xinfang-supervision",
      xinfang::Host({"supervision"}, {xinfang::MakerOf<SupervisionServiceImpl>()}));
}
