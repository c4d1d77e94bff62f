// PublicService (proto/xinfang/v1/public.proto): the petitioner's own view of
// a case, by tracking number and query code, without a bearer token. Hosted
// wherever CaseQueryService is (the all-in-one server, xinfang-query).
//
// A lookup: the fields are checked, then the caller's address and the
// tracking number each take a token from their bucket (RESOURCE_EXHAUSTED
// when empty), then one statement reads the stored code's salt and hash —
// an unknown number reads none and is hashed against a stand-in, so a wrong
// number and a wrong code cost the same and get the same NOT_FOUND — then
// the lookup is recorded in the access log (account "public", unit the
// caller's address, never the code), and only a match reads the case.
//
// Thread-safety: PublicStatus and PublicServiceImpl are thread-safe.
#ifndef XINFANG_SERVICES_QUERY_PUBLIC_SERVICE_H_
#define XINFANG_SERVICES_QUERY_PUBLIC_SERVICE_H_

#include <chrono>
#include <functional>
#include <string>

#include "services/common/auth.h"
#include "services/common/core.h"
#include "xinfang/v1/public.grpc.pb.h"

namespace xinfang::query {

// The message of every lookup that finds nothing: unknown number or wrong code.
inline constexpr char kNoSuchCase[] = "no case with this tracking number and query code";

// The logic, usable without gRPC.
class PublicStatus {
 public:
  // The rate limits' time (real time even on a simulated case clock); tests
  // pass their own.
  using Ticker = std::function<std::chrono::steady_clock::time_point()>;
  explicit PublicStatus(
      Core& core, Ticker ticker = [] { return std::chrono::steady_clock::now(); });

  // The status of the case `req` names, for a caller at `peer` (PeerOf).
  // INVALID_ARGUMENT naming the field, RESOURCE_EXHAUSTED, NOT_FOUND
  // (kNoSuchCase), UNAVAILABLE.
  absl::StatusOr<xinfang::v1::GetPublicStatusResponse> Get(
      const xinfang::v1::GetPublicStatusRequest& req, const std::string& peer);

  // The petitioner's online evaluation: checked and limited as Get, then the
  // action "evaluate_online" taken as ROLE_PETITIONER (actor "petitioner");
  // the status as it then stands. A field the engine refuses is named by
  // its request name (unit_rating, unit_reason, office_rating,
  // office_reason); a closed window is FAILED_PRECONDITION. A retry of the
  // evaluation already taken (the same two ratings) answers the status.
  absl::StatusOr<xinfang::v1::GetPublicStatusResponse> Evaluate(
      const xinfang::v1::EvaluateCaseRequest& req, const std::string& peer);

  // A written document to the petitioner, one the status lists, with its
  // text: checked and limited as Get; NOT_FOUND (naming `number`) for a
  // number that is not one of them.
  absl::StatusOr<xinfang::v1::PublicDocument> Document(
      const xinfang::v1::GetPublicDocumentRequest& req, const std::string& peer);

 private:
  // The case's documents to the petitioner that have reached them: all,
  // but a decision's or opinion's only once it was served.
  absl::StatusOr<std::vector<storage::DocumentRow>> PetitionersDocuments(
      const storage::CaseRecord& rec, const xinfang::v1::Case& c,
      const workflow::Engine* engine);
  // The case the number and code name, after the checks, the limits and
  // the access-log record of `rpc`; NOT_FOUND (kNoSuchCase) otherwise.
  absl::StatusOr<int64_t> Authenticate(const std::string& tracking_number,
                                       const std::string& query_code, const std::string& peer,
                                       const std::string& rpc);
  absl::StatusOr<xinfang::v1::GetPublicStatusResponse> View(int64_t case_id);
  Core& core_;
  Ticker ticker_;
  RateLimiter per_address_, per_number_;
};

class PublicServiceImpl final : public xinfang::v1::PublicService::Service {
 public:
  explicit PublicServiceImpl(Core& core) : status_(core) {}
  grpc::Status GetPublicStatus(grpc::ServerContext* ctx,
                               const xinfang::v1::GetPublicStatusRequest* req,
                               xinfang::v1::GetPublicStatusResponse* resp) override;
  grpc::Status EvaluateCase(grpc::ServerContext* ctx, const xinfang::v1::EvaluateCaseRequest* req,
                            xinfang::v1::GetPublicStatusResponse* resp) override;
  grpc::Status GetPublicDocument(grpc::ServerContext* ctx,
                                 const xinfang::v1::GetPublicDocumentRequest* req,
                                 xinfang::v1::PublicDocument* resp) override;

 private:
  PublicStatus status_;
};

}  // namespace xinfang::query

#endif  // XINFANG_SERVICES_QUERY_PUBLIC_SERVICE_H_
