// xinfang-query: the query service as a process of its own.
#include "services/query/query_service.h"
#include "services/server/host.h"

int main(int argc, char** argv) {
  using xinfang::query::CaseQueryServiceImpl;
  return xinfang::ServerMain(
      argc, argv, "xinfang-query",
      xinfang::Host({"query"}, {xinfang::MakerOf<CaseQueryServiceImpl>()}));
}
