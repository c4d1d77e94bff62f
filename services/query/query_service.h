// CaseQueryService: what other services and dashboards read.
#ifndef XINFANG_SERVICES_QUERY_QUERY_SERVICE_H_
#define XINFANG_SERVICES_QUERY_QUERY_SERVICE_H_

#include <memory>

#include "services/common/core.h"
#include "services/query/feed.h"
#include "xinfang/v1/query.grpc.pb.h"

namespace xinfang::query {

class Query {
 public:
  explicit Query(Core& core) : core_(core) {}
  absl::StatusOr<xinfang::v1::GetCaseResponse> GetCase(const workflow::Actor& actor,
                                                       const xinfang::v1::GetCaseRequest& req);
  absl::StatusOr<xinfang::v1::GetHistoryResponse> GetHistory(
      const workflow::Actor& actor, const xinfang::v1::GetHistoryRequest& req);
  absl::StatusOr<xinfang::v1::ListCasesResponse> ListCases(
      const workflow::Actor& actor, const xinfang::v1::ListCasesRequest& req);
  absl::StatusOr<xinfang::v1::GetStatisticsResponse> GetStatistics(
      const workflow::Actor& actor, const xinfang::v1::GetStatisticsRequest& req);
  absl::StatusOr<xinfang::v1::GetSituationReportResponse> GetSituationReport(
      const workflow::Actor& actor, const xinfang::v1::GetSituationReportRequest& req);
  absl::StatusOr<xinfang::v1::ListDocumentsResponse> ListDocuments(
      const workflow::Actor& actor, const xinfang::v1::ListDocumentsRequest& req);
  absl::StatusOr<xinfang::v1::Document> GetDocument(const workflow::Actor& actor,
                                                    const xinfang::v1::GetDocumentRequest& req);
  absl::StatusOr<xinfang::v1::ListNotificationsResponse> ListNotifications(
      const workflow::Actor& actor, const xinfang::v1::ListNotificationsRequest& req);

 private:
  Core& core_;
};

class CaseQueryServiceImpl final : public xinfang::v1::CaseQueryService::Service {
 public:
  // Starts the event feed's sequencer once the server listens.
  explicit CaseQueryServiceImpl(Core& core);
  grpc::Status GetCase(grpc::ServerContext* ctx, const xinfang::v1::GetCaseRequest* req,
                       xinfang::v1::GetCaseResponse* resp) override;
  grpc::Status GetHistory(grpc::ServerContext* ctx, const xinfang::v1::GetHistoryRequest* req,
                          xinfang::v1::GetHistoryResponse* resp) override;
  grpc::Status ListCases(grpc::ServerContext* ctx, const xinfang::v1::ListCasesRequest* req,
                         xinfang::v1::ListCasesResponse* resp) override;
  grpc::Status GetSituationReport(grpc::ServerContext* ctx,
                                  const xinfang::v1::GetSituationReportRequest* req,
                                  xinfang::v1::GetSituationReportResponse* resp) override;
  grpc::Status GetStatistics(grpc::ServerContext* ctx, const xinfang::v1::GetStatisticsRequest* req,
                             xinfang::v1::GetStatisticsResponse* resp) override;
  grpc::Status ListDocuments(grpc::ServerContext* ctx, const xinfang::v1::ListDocumentsRequest* req,
                             xinfang::v1::ListDocumentsResponse* resp) override;
  grpc::Status GetDocument(grpc::ServerContext* ctx, const xinfang::v1::GetDocumentRequest* req,
                           xinfang::v1::Document* resp) override;
  grpc::Status ListNotifications(grpc::ServerContext* ctx,
                                 const xinfang::v1::ListNotificationsRequest* req,
                                 xinfang::v1::ListNotificationsResponse* resp) override;
  grpc::Status WatchEvents(grpc::ServerContext* ctx, const xinfang::v1::WatchEventsRequest* req,
                           grpc::ServerWriter<xinfang::v1::WatchEventsResponse>* writer) override;

 private:
  Core& core_;
  Query query_;
  std::unique_ptr<Feed> feed_;
};

}  // namespace xinfang::query

#endif  // XINFANG_SERVICES_QUERY_QUERY_SERVICE_H_
