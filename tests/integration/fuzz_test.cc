// Every RPC of every service the server serves, called over real gRPC on
// loopback against a real PostgreSQL with random bytes and with each field
// of its request set to an extreme value. The RPCs are found through server
// reflection and the protobuf descriptors, so a new RPC (or service) is
// covered without touching this file. Bounded: the whole run stops making
// calls after kBudget.
//
// For every call: no UNKNOWN, INTERNAL or DATA_LOSS; no status message
// carrying SQL text, a SQLSTATE or the database's host and port; a refused
// call writes nothing (the row counts of every table are unchanged); and the
// server still answers at the end.
#include <gmock/gmock.h>
#include <google/protobuf/descriptor.h>
#include <google/protobuf/message.h>
#include <google/protobuf/timestamp.pb.h>
#include <grpcpp/generic/generic_stub.h>
#include <grpcpp/impl/client_unary_call.h>
#include <grpcpp/impl/rpc_method.h>
#include <grpcpp/support/sync_stream.h>
#include <gtest/gtest.h>
#include <malloc.h>
#include <soci/postgresql/soci-postgresql.h>
#include <soci/soci.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <functional>
#include <iostream>
#include <limits>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/time/civil_time.h"
#include "grpc/reflection/v1alpha/reflection.grpc.pb.h"
#include "services/storage/db.h"
#include "tests/testing/petitions.h"
#include "tests/testing/test_server.h"

namespace xinfang {
namespace {

namespace pb = google::protobuf;
namespace v1 = xinfang::v1;
using testing::Monday;
using testing::Caller;
using testing::TestServer;

// The whole run makes calls for at most this long (ctest's limit is 300 s). Alone it
// takes about 30 s; the margin is for a 2-core machine running other tests beside it.
constexpr auto kBudget = std::chrono::seconds(150);

// Every role once, each where it may do the most.
const std::vector<Caller> kCallers = {
    {"fz-clerk", "intake_clerk", "prov.organs.office"},
    {"fz-officer", "case_officer", "prov.organs.office"},
    {"fz-head", "unit_head", "prov.organs.office"},
    {"fz-sup", "supervisor", "prov"},
    {"fz-admin", "administrator", "prov"},
    {"fz-auditor", "auditor", "prov"},
    {"fz-service", "service", "prov"},
};

struct Variant {
  std::string label;
  std::string body;  // the serialized request
};

// The extreme values of one field, each applied to its own copy.
using Apply = std::function<void(pb::Message*, const pb::FieldDescriptor*)>;

std::vector<std::pair<std::string, Apply>> ExtremesOf(const pb::FieldDescriptor* f) {
  using R = pb::Reflection;
  std::vector<std::pair<std::string, Apply>> out;
  auto ref = [](pb::Message* m) { return m->GetReflection(); };
  if (f->is_map()) {
    out.push_back({"10000 entries", [ref](pb::Message* m, const pb::FieldDescriptor* f) {
                     for (int i = 0; i < 10000; ++i) {
                       pb::Message* e = ref(m)->AddMessage(m, f);
                       const pb::Descriptor* ed = e->GetDescriptor();
                       const pb::FieldDescriptor* k = ed->FindFieldByName("key");
                       const pb::FieldDescriptor* v = ed->FindFieldByName("value");
                       if (k->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
                         e->GetReflection()->SetString(e, k, absl::StrCat("k", i));
                       }
                       if (v->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
                         e->GetReflection()->SetString(e, v, "v");
                       }
                     }
                   }});
    out.push_back({"a 1 MB value", [ref](pb::Message* m, const pb::FieldDescriptor* f) {
                     pb::Message* e = ref(m)->AddMessage(m, f);
                     const pb::Descriptor* ed = e->GetDescriptor();
                     const pb::FieldDescriptor* k = ed->FindFieldByName("key");
                     const pb::FieldDescriptor* v = ed->FindFieldByName("value");
                     if (k->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
                       e->GetReflection()->SetString(e, k, std::string("k\0ey", 4));
                     }
                     if (v->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
                       e->GetReflection()->SetString(e, v, std::string(1 << 20, 'v'));
                     }
                   }});
    return out;
  }
  if (f->is_repeated()) {
    out.push_back({"10000 items", [ref](pb::Message* m, const pb::FieldDescriptor* f) {
                     const R* r = ref(m);
                     for (int i = 0; i < 10000; ++i) {
                       switch (f->cpp_type()) {
                         case pb::FieldDescriptor::CPPTYPE_STRING:
                           r->AddString(m, f, "x");
                           break;
                         case pb::FieldDescriptor::CPPTYPE_INT32:
                           r->AddInt32(m, f, i);
                           break;
                         case pb::FieldDescriptor::CPPTYPE_INT64:
                           r->AddInt64(m, f, i);
                           break;
                         case pb::FieldDescriptor::CPPTYPE_UINT32:
                           r->AddUInt32(m, f, i);
                           break;
                         case pb::FieldDescriptor::CPPTYPE_UINT64:
                           r->AddUInt64(m, f, i);
                           break;
                         case pb::FieldDescriptor::CPPTYPE_BOOL:
                           r->AddBool(m, f, true);
                           break;
                         case pb::FieldDescriptor::CPPTYPE_DOUBLE:
                           r->AddDouble(m, f, i);
                           break;
                         case pb::FieldDescriptor::CPPTYPE_FLOAT:
                           r->AddFloat(m, f, i);
                           break;
                         case pb::FieldDescriptor::CPPTYPE_ENUM:
                           r->AddEnumValue(m, f, 1);
                           break;
                         case pb::FieldDescriptor::CPPTYPE_MESSAGE:
                           r->AddMessage(m, f);
                           break;
                       }
                     }
                   }});
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_STRING) {
      out.push_back(
          {"a 1 MB item with NUL bytes", [ref](pb::Message* m, const pb::FieldDescriptor* f) {
             std::string s(1 << 20, 'a');
             s[10] = '\0';
             ref(m)->AddString(m, f, s);
           }});
      out.push_back({"an item not UTF-8", [ref](pb::Message* m, const pb::FieldDescriptor* f) {
                       ref(m)->AddString(m, f, "\xff\xfe\xc3");
                     }});
    }
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_ENUM) {
      out.push_back({"an unknown enum number", [ref](pb::Message* m, const pb::FieldDescriptor* f) {
                       ref(m)->AddEnumValue(m, f, 999999);
                     }});
    }
    return out;
  }
  auto set =
      [](std::function<void(const pb::Reflection*, pb::Message*, const pb::FieldDescriptor*)> fn)
      -> Apply {
    return [fn](pb::Message* m, const pb::FieldDescriptor* f) { fn(m->GetReflection(), m, f); };
  };
  switch (f->cpp_type()) {
    case pb::FieldDescriptor::CPPTYPE_STRING:
      out.push_back({"1 MB", set([](auto r, auto m, auto f) {
                       r->SetString(m, f, std::string(1 << 20, 'a'));
                     })});
      out.push_back({"1 MB of 中", set([](auto r, auto m, auto f) {
                       std::string s;
                       for (int i = 0; i < (1 << 20) / 3; ++i) s += "中";
                       r->SetString(m, f, s);
                     })});
      out.push_back({"NUL bytes", set([](auto r, auto m, auto f) {
                       r->SetString(m, f, std::string("a\0b\0", 4));
                     })});
      out.push_back(
          {"not UTF-8", set([](auto r, auto m, auto f) { r->SetString(m, f, "\xff\xfe\xc3"); })});
      out.push_back({"SQL", set([](auto r, auto m, auto f) {
                       r->SetString(m, f, "x'); DROP TABLE cases; --");
                     })});
      break;
    case pb::FieldDescriptor::CPPTYPE_INT32:
      for (int32_t v :
           {std::numeric_limits<int32_t>::min(), std::numeric_limits<int32_t>::max(), -1}) {
        out.push_back(
            {absl::StrCat(v), set([v](auto r, auto m, auto f) { r->SetInt32(m, f, v); })});
      }
      break;
    case pb::FieldDescriptor::CPPTYPE_INT64:
      for (int64_t v : {std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
                        int64_t{-1}, int64_t{1} << 62}) {
        out.push_back(
            {absl::StrCat(v), set([v](auto r, auto m, auto f) { r->SetInt64(m, f, v); })});
      }
      break;
    case pb::FieldDescriptor::CPPTYPE_UINT32:
      out.push_back({"max", set([](auto r, auto m, auto f) {
                       r->SetUInt32(m, f, std::numeric_limits<uint32_t>::max());
                     })});
      break;
    case pb::FieldDescriptor::CPPTYPE_UINT64:
      out.push_back({"max", set([](auto r, auto m, auto f) {
                       r->SetUInt64(m, f, std::numeric_limits<uint64_t>::max());
                     })});
      break;
    case pb::FieldDescriptor::CPPTYPE_DOUBLE:
      for (double v : {std::nan(""), HUGE_VAL, -HUGE_VAL, std::numeric_limits<double>::max()}) {
        out.push_back(
            {absl::StrCat(v), set([v](auto r, auto m, auto f) { r->SetDouble(m, f, v); })});
      }
      break;
    case pb::FieldDescriptor::CPPTYPE_FLOAT:
      for (float v : {std::nanf(""), HUGE_VALF, -HUGE_VALF}) {
        out.push_back(
            {absl::StrCat(v), set([v](auto r, auto m, auto f) { r->SetFloat(m, f, v); })});
      }
      break;
    case pb::FieldDescriptor::CPPTYPE_BOOL:
      out.push_back({"true", set([](auto r, auto m, auto f) { r->SetBool(m, f, true); })});
      break;
    case pb::FieldDescriptor::CPPTYPE_ENUM:
      for (int v : {999999, -1, std::numeric_limits<int32_t>::max()}) {
        out.push_back({absl::StrCat("enum ", v),
                       set([v](auto r, auto m, auto f) { r->SetEnumValue(m, f, v); })});
      }
      break;
    case pb::FieldDescriptor::CPPTYPE_MESSAGE:
      if (f->message_type()->full_name() == "google.protobuf.Timestamp") {
        const std::pair<int64_t, int32_t> stamps[] = {
            {-62135596800, 0},          // 0001-01-01T00:00:00Z
            {253402300799, 999999999},  // 9999-12-31T23:59:59.999999999Z
            {-62135596801, 0},          // before year 1
            {253402300800, 0},          // after 9999
            {int64_t{1} << 62, 0},      // 2^62 seconds
            {-(int64_t{1} << 62), 0},  {0, -1}, {0, 1000000000},
        };
        for (const auto& [secs, nanos] : stamps) {
          out.push_back({absl::StrCat("timestamp ", secs, "s ", nanos, "ns"),
                         set([secs = secs, nanos = nanos](auto r, auto m, auto f) {
                           pb::Timestamp t;
                           t.set_seconds(secs);
                           t.set_nanos(nanos);
                           r->MutableMessage(m, f)->CopyFrom(t);
                         })});
        }
      } else {
        out.push_back(
            {"present, empty", set([](auto r, auto m, auto f) { r->MutableMessage(m, f); })});
      }
      break;
  }
  return out;
}

// The nested message a path of field numbers names in `m` (made present).
pb::Message* Navigate(pb::Message* m, const std::vector<const pb::FieldDescriptor*>& path) {
  for (const pb::FieldDescriptor* f : path) m = m->GetReflection()->MutableMessage(m, f);
  return m;
}

void AddFieldVariants(const pb::Message& base, const pb::Descriptor* d,
                      std::vector<const pb::FieldDescriptor*> path, std::vector<Variant>* out) {
  std::string prefix;
  for (const pb::FieldDescriptor* f : path) absl::StrAppend(&prefix, f->name(), ".");
  for (int i = 0; i < d->field_count(); ++i) {
    const pb::FieldDescriptor* f = d->field(i);
    for (const auto& [label, apply] : ExtremesOf(f)) {
      std::unique_ptr<pb::Message> copy(base.New());
      copy->CopyFrom(base);
      apply(Navigate(copy.get(), path), f);
      out->push_back({absl::StrCat(prefix, f->name(), ": ", label), copy->SerializeAsString()});
    }
    // Into nested messages (not maps, lists or timestamps), a few levels.
    if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE && !f->is_repeated() &&
        f->message_type()->full_name() != "google.protobuf.Timestamp" && path.size() < 3) {
      auto deeper = path;
      deeper.push_back(f);
      AddFieldVariants(base, f->message_type(), deeper, out);
    }
  }
}

// This process's VmRSS in MB.
double RssMb() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (absl::StartsWith(line, "VmRSS:")) return std::atof(line.c_str() + 6) / 1024.0;
  }
  return -1;
}

class RpcFuzzTest : public ::testing::Test {
 protected:
  // No sweeper (nothing writes but the calls); requests up to 64 MB reach
  // the services (1 MB strings are what is tried, not gRPC's size limit).
  RpcFuzzTest()
      : server_(Monday(), /*sweeper=*/false,
                [](ServerConfig& c) { c.max_message_bytes = 64 << 20; }),
        db_(soci::postgresql, *storage::ToConninfo(server_.db().url())) {}

  // The row count of every table, as one string.
  std::string Counts() {
    if (counts_sql_.empty()) {
      soci::rowset<std::string> names =
          (db_.prepare << "SELECT tablename FROM pg_tables WHERE schemaname = current_schema() "
                          "ORDER BY tablename");
      counts_sql_ = "SELECT concat_ws(','";
      for (const std::string& t : names) {
        absl::StrAppend(&counts_sql_, ", '", t, "=' || (SELECT count(*) FROM ", t, ")");
      }
      counts_sql_ += ")";
    }
    std::string out;
    db_ << counts_sql_, soci::into(out);
    return out;
  }
  std::string counts_sql_;

  // One call of `m` with `body`; a stream is read up to its caught-up marker.
  grpc::Status Call(const pb::MethodDescriptor* m, const std::string& body,
                    const std::string& token) {
    grpc::ClientContext ctx;
    ctx.AddMetadata("authorization", "Bearer " + token);
    ctx.set_deadline(std::chrono::system_clock::now() +
                     (m->server_streaming() ? std::chrono::seconds(3) : std::chrono::seconds(20)));
    grpc::Slice slice(body);
    grpc::ByteBuffer req(&slice, 1);
    const std::string path = absl::StrCat("/", m->service()->full_name(), "/", m->name());
    auto channel = server_.channel();
    if (!m->server_streaming()) {
      grpc::ByteBuffer resp;
      return grpc::internal::BlockingUnaryCall<grpc::ByteBuffer, grpc::ByteBuffer>(
          channel.get(),
          grpc::internal::RpcMethod(path.c_str(), grpc::internal::RpcMethod::NORMAL_RPC), &ctx, req,
          &resp);
    }
    std::unique_ptr<grpc::ClientReader<grpc::ByteBuffer>> reader(
        grpc::internal::ClientReaderFactory<grpc::ByteBuffer>::Create(
            channel.get(),
            grpc::internal::RpcMethod(path.c_str(), grpc::internal::RpcMethod::SERVER_STREAMING),
            &ctx, req));
    grpc::ByteBuffer resp;
    bool caught_up = false;
    const pb::FieldDescriptor* marker = m->output_type()->FindFieldByName("caught_up");
    while (!caught_up && reader->Read(&resp)) {
      std::vector<grpc::Slice> slices;
      (void)resp.Dump(&slices);
      std::string bytes;
      for (const auto& s : slices) bytes.append(reinterpret_cast<const char*>(s.begin()), s.size());
      std::unique_ptr<pb::Message> msg(
          pb::MessageFactory::generated_factory()->GetPrototype(m->output_type())->New());
      if (msg->ParseFromString(bytes) && marker != nullptr) {
        caught_up = msg->GetReflection()->GetBool(*msg, marker);
      }
    }
    if (caught_up) ctx.TryCancel();
    grpc::Status s = reader->Finish();
    if (caught_up && s.error_code() == grpc::StatusCode::CANCELLED) return grpc::Status::OK;
    return s;
  }

  // A request of `d` that gets past the first checks where that is simple:
  // a real case for a CaseRef, a valid registration.
  std::unique_ptr<pb::Message> Base(const pb::Descriptor* d) {
    std::unique_ptr<pb::Message> m(pb::MessageFactory::generated_factory()->GetPrototype(d)->New());
    if (d->full_name() == "xinfang.v1.RegisterCaseRequest") {
      auto* r = static_cast<v1::RegisterCaseRequest*>(m.get());
      r->set_request_id("fuzz-request-0001");
      *r->mutable_intake() = Intake();
      return m;
    }
    for (int i = 0; i < d->field_count(); ++i) {
      const pb::FieldDescriptor* f = d->field(i);
      if (f->cpp_type() == pb::FieldDescriptor::CPPTYPE_MESSAGE && !f->is_repeated() &&
          f->message_type()->full_name() == "xinfang.v1.CaseRef") {
        static_cast<v1::CaseRef*>(m->GetReflection()->MutableMessage(m.get(), f))
            ->set_tracking_number(tracking_);
      }
    }
    if (d->full_name() == "xinfang.v1.TakeActionRequest") {
      auto* r = static_cast<v1::TakeActionRequest*>(m.get());
      r->set_action("accept");
      r->set_expected_version(1);
    }
    return m;
  }

  static v1::CaseIntake Intake() {
    v1::CaseIntake in;
    in.set_channel(v1::CHANNEL_VISIT);
    in.mutable_visit()->set_people_present(1);
    in.set_purpose(v1::PURPOSE_CLAIM);
    in.set_category("wages.arrears");
    in.set_summary("拖欠工资");
    auto* p = in.add_petitioners();
    p->set_name("张三");
    p->set_id_number("11010519491231002X");
    p->set_phone("13800000000");
    return in;
  }

  // The failures of one call, if any.
  void Check(const pb::MethodDescriptor* m, const std::string& label, const grpc::Status& s,
             const std::string& before) {
    const std::string what = absl::StrCat(m->full_name(), " [", label, "]: ", s.error_code(), " ",
                                          s.error_message().substr(0, 300));
    EXPECT_NE(s.error_code(), grpc::StatusCode::UNKNOWN) << what;
    EXPECT_NE(s.error_code(), grpc::StatusCode::INTERNAL) << what;
    EXPECT_NE(s.error_code(), grpc::StatusCode::DATA_LOSS) << what;
    EXPECT_NE(s.error_code(), grpc::StatusCode::UNIMPLEMENTED) << what;
    const std::string& msg = s.error_message();
    EXPECT_LE(msg.size(), 1000u) << what;
    for (const char* leak : {"SQLSTATE", "sqlstate", "SELECT ", "INSERT ", "UPDATE ", "DELETE ",
                             "syntax error", "relation \"", "violates", "connection to server",
                             "127.0.0.1", "localhost", "postgres"}) {
      EXPECT_FALSE(absl::StrContains(msg, leak)) << what << " (carries '" << leak << "')";
    }
    EXPECT_FALSE(absl::StrContains(msg, db_port_)) << what << " (carries the database port)";
    if (!s.ok()) {
      EXPECT_EQ(Counts(), before) << what << ": a refused call wrote";
    }
  }

  TestServer server_;
  soci::session db_;
  std::string tracking_;
  std::string db_port_;
};

TEST_F(RpcFuzzTest, EveryRpcSurvivesGarbageAndExtremes) {
  const auto start = std::chrono::steady_clock::now();
  // The database's port, which no message may show.
  db_port_ = server_.db().Query("SELECT current_setting('port')");
  ASSERT_FALSE(db_port_.empty());
  // A case for the requests that name one.
  {
    v1::RegisterCaseRequest req;
    req.set_request_id("fuzz-seed-case-01");
    *req.mutable_intake() = Intake();
    v1::RegisterCaseResponse resp;
    auto ctx = server_.Context(kCallers[0]);
    ASSERT_TRUE(server_.intake()->RegisterCase(ctx.get(), req, &resp).ok());
    tracking_ = resp.case_().tracking_number();
  }

  // The services, from the server itself.
  std::vector<std::string> services;
  {
    auto stub = grpc::reflection::v1alpha::ServerReflection::NewStub(server_.channel());
    grpc::ClientContext ctx;
    auto stream = stub->ServerReflectionInfo(&ctx);
    grpc::reflection::v1alpha::ServerReflectionRequest req;
    req.set_list_services("*");
    ASSERT_TRUE(stream->Write(req));
    grpc::reflection::v1alpha::ServerReflectionResponse resp;
    ASSERT_TRUE(stream->Read(&resp));
    stream->WritesDone();
    for (const auto& s : resp.list_services_response().service()) {
      if (absl::StartsWith(s.name(), "xinfang.")) services.push_back(s.name());
    }
    (void)stream->Finish();
  }
  ASSERT_GE(services.size(), 5u);

  std::vector<const pb::MethodDescriptor*> methods;
  for (const std::string& name : services) {
    const pb::ServiceDescriptor* sd = pb::DescriptorPool::generated_pool()->FindServiceByName(name);
    ASSERT_NE(sd, nullptr) << name;
    for (int i = 0; i < sd->method_count(); ++i) methods.push_back(sd->method(i));
  }
  ASSERT_GE(methods.size(), 21u);

  // Per RPC, a role allowed to call it (the first whose empty request is not
  // refused for its role), so that the calls reach the RPC's own checks.
  std::map<const pb::MethodDescriptor*, std::string> token;
  for (const pb::MethodDescriptor* m : methods) {
    for (const Caller& c : kCallers) {
      const std::string t = server_.TokenFor(c);
      grpc::Status s = Call(m, "", t);
      if (s.error_code() == grpc::StatusCode::PERMISSION_DENIED &&
          absl::StrContains(s.error_message(), "not for role")) {
        continue;
      }
      token[m] = t;
      break;
    }
    ASSERT_TRUE(token.count(m)) << m->full_name() << ": no role may call it";
  }

  std::mt19937 rng(20261129);
  int calls = 0;
  bool out_of_time = false;
  // XINFANG_FUZZ_ROUNDS=N repeats the run N times without the time budget
  // (for the memory investigation in docs/benchmarks.md); CI runs one.
  int rounds = 1;
  if (const char* r = std::getenv("XINFANG_FUZZ_ROUNDS")) rounds = std::max(1, std::atoi(r));
  for (int round = 0; round < rounds; ++round) {
    if (round > 0) {
      std::cout << "round " << round << ": rss " << RssMb() << " MB\n";
    }
    for (const pb::MethodDescriptor* m : methods) {
      std::vector<Variant> variants;
      std::unique_ptr<pb::Message> base = Base(m->input_type());
      variants.push_back({"base", base->SerializeAsString()});
      // Random bytes, and the base with random bytes changed.
      for (int i = 0; i < 12; ++i) {
        std::string junk(1 + rng() % 256, '\0');
        for (char& c : junk) c = static_cast<char>(rng());
        variants.push_back({absl::StrCat("random bytes #", i), junk});
        std::string flipped = variants[0].body;
        if (!flipped.empty()) {
          for (int k = 0; k < 3; ++k) flipped[rng() % flipped.size()] = static_cast<char>(rng());
          variants.push_back({absl::StrCat("flipped base #", i), flipped});
        }
      }
      AddFieldVariants(*base, m->input_type(), {}, &variants);
      for (const Variant& v : variants) {
        if (rounds == 1 && std::chrono::steady_clock::now() - start > kBudget) {
          out_of_time = true;
          break;
        }
        const std::string before = Counts();
        Check(m, v.label, Call(m, v.body, token[m]), before);
        ++calls;
      }
    }
  }
  const auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      std::chrono::steady_clock::now() - start);
  std::cout << calls << " calls of " << methods.size() << " RPCs in " << took.count() << " ms"
            << (out_of_time ? " (budget reached: the rest not tried)" : "") << "\n";
  EXPECT_FALSE(out_of_time) << "the fuzz run no longer fits its budget: trim the variants";

  // For docs/benchmarks.md (memory over time): this process (server and
  // client) before and after glibc returns its free memory.
  const double rss = RssMb();
  malloc_trim(0);
  std::cout << "rss after the run: " << rss << " MB; after malloc_trim: " << RssMb() << " MB\n";

  // Still serving (for a caller the run did not touch: SignOut and
  // RevokeToken may have ended the fuzzing callers' own tokens).
  v1::WhoAmIResponse who;
  auto ctx = server_.Context(Caller{"after-the-fuzz", kCallers[0].role, kCallers[0].unit});
  const grpc::Status still = server_.admin()->WhoAmI(ctx.get(), v1::WhoAmIRequest(), &who);
  EXPECT_TRUE(still.ok()) << still.error_code() << " " << still.error_message();
}

}  // namespace
}  // namespace xinfang
