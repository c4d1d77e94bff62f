// The HTTP face's error mapping (the HTTP itself: tests/e2e/http_e2e.sh).
#include "services/common/http_face.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

namespace xinfang {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;
using ::testing::Pair;

TEST(FieldViolations, NamesTheFieldsAMessageStartsWith) {
  EXPECT_THAT(FieldViolations("intake.petitioners[0].id_number: bad"),
              ElementsAre(Pair("intake.petitioners[0].id_number",
                               "intake.petitioners[0].id_number: bad")));
  EXPECT_THAT(FieldViolations("from, to: the period is required"),
              ElementsAre(Pair("from", "from, to: the period is required"),
                          Pair("to", "from, to: the period is required")));
}

TEST(FieldViolations, NoneWithoutAFieldPath) {
  EXPECT_THAT(FieldViolations("case XF1 is at version 3, not 2"), IsEmpty());
  EXPECT_THAT(FieldViolations("request body is not a JSON x: y"), IsEmpty());
  EXPECT_THAT(FieldViolations(""), IsEmpty());
  EXPECT_THAT(FieldViolations(": x"), IsEmpty());
}

TEST(ConnectErrorJson, CodeMessageAndBadRequest) {
  EXPECT_EQ(ConnectErrorJson(grpc::Status(grpc::StatusCode::NOT_FOUND, "no case \"X\"")),
            R"({"code":"not_found","message":"no case \"X\""})");
  // BadRequest{field_violations: [{field: "a", description: "a: b"}]} in base64, unpadded.
  EXPECT_EQ(ConnectErrorJson(grpc::Status(grpc::StatusCode::INVALID_ARGUMENT, "a: b")),
            R"({"code":"invalid_argument","message":"a: b","details":[{"type":"google.rpc.BadRequest",)"
            R"("value":"CgkKAWESBGE6IGI","debug":{"fieldViolations":[{"field":"a","description":"a: b"}]}}]})");
  // Only invalid_argument names fields.
  EXPECT_EQ(ConnectErrorJson(grpc::Status(grpc::StatusCode::FAILED_PRECONDITION, "a: b")),
            R"({"code":"failed_precondition","message":"a: b"})");
}

TEST(ConnectHttpStatus, AsTheConnectProtocolSays) {
  EXPECT_EQ(ConnectHttpStatus(grpc::StatusCode::INVALID_ARGUMENT), 400);
  EXPECT_EQ(ConnectHttpStatus(grpc::StatusCode::UNAUTHENTICATED), 401);
  EXPECT_EQ(ConnectHttpStatus(grpc::StatusCode::PERMISSION_DENIED), 403);
  EXPECT_EQ(ConnectHttpStatus(grpc::StatusCode::NOT_FOUND), 404);
  EXPECT_EQ(ConnectHttpStatus(grpc::StatusCode::ABORTED), 409);
  EXPECT_EQ(ConnectHttpStatus(grpc::StatusCode::RESOURCE_EXHAUSTED), 429);
  EXPECT_EQ(ConnectHttpStatus(grpc::StatusCode::UNIMPLEMENTED), 501);
  EXPECT_EQ(ConnectHttpStatus(grpc::StatusCode::UNAVAILABLE), 503);
  EXPECT_EQ(ConnectHttpStatus(grpc::StatusCode::INTERNAL), 500);
}

}  // namespace
}  // namespace xinfang
