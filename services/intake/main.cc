// xinfang-intake: the intake service as a process of its own.
#include "services/intake/intake_service.h"
#include "services/server/host.h"

int main(int argc, char** argv) {
  using xinfang::intake::IntakeServiceImpl;
  return xinfang::ServerMain(
      argc, argv, "xinfang-intake",
      xinfang::Host({"intake"}, {xinfang::MakerOf<IntakeServiceImpl>()}));
}
