// xinfang-query: the query service (and the petitioner's PublicService) as
// a process of its own.
#include "services/query/public_service.h"
#include "services/query/query_service.h"
#include "services/server/host.h"

int main(int argc, char** argv) {
  using xinfang::query::CaseQueryServiceImpl;
  using xinfang::query::PublicServiceImpl;
  return xinfang::ServerMain(
      argc, argv, "xinfang-query",
      xinfang::Host({"query"}, {xinfang::MakerOf<CaseQueryServiceImpl>(),
                                  xinfang::MakerOf<PublicServiceImpl>()}));
}
