// The storage's JSON reader (services/storage/json.h) against protobuf's own
// parser: the same messages from the same JSON, and the same refusals.
#include "services/storage/json.h"

#include <google/protobuf/descriptor.pb.h>
#include <google/protobuf/dynamic_message.h>
#include <google/protobuf/util/json_util.h>
#include <google/protobuf/util/message_differencer.h>

#include <memory>
#include <random>
#include <string>

#include "gtest/gtest.h"
#include "xinfang/v1/case.pb.h"

namespace xinfang::storage {
namespace {

using Kind = JsonValue::Kind;

TEST(JsonTest, ParsesValuesAndUnescapesStrings) {
  auto v = ParseJson(R"( {"a": [1, -2.5e3, true, false, null], "b": "x\"\\\/\b\f\n\r\t\u00e9\u4fe1\ud83d\ude00", "": {}} )");
  ASSERT_TRUE(v.has_value());
  ASSERT_EQ(v->kind, Kind::kObject);
  ASSERT_EQ(v->members.size(), 3u);
  const JsonValue& a = v->members[0].value;
  ASSERT_EQ(a.kind, Kind::kArray);
  ASSERT_EQ(a.items.size(), 5u);
  EXPECT_EQ(a.items[0].text, "1");
  EXPECT_EQ(a.items[1].text, "-2.5e3");
  EXPECT_TRUE(a.items[2].boolean);
  EXPECT_EQ(a.items[3].kind, Kind::kBool);
  EXPECT_FALSE(a.items[3].boolean);
  EXPECT_EQ(a.items[4].kind, Kind::kNull);
  EXPECT_EQ(v->members[1].value.str(), "x\"\\/\b\f\n\r\t\xc3\xa9\xe4\xbf\xa1\xf0\x9f\x98\x80");
  EXPECT_EQ(v->members[2].key, "");
  EXPECT_EQ(v->members[2].value.kind, Kind::kObject);
  EXPECT_EQ(a.items[0].str(), "");  // not a string
  EXPECT_EQ(ParseJson("\"\xe4\xbf\xa1\"")->str(), "\xe4\xbf\xa1");  // UTF-8 as it is
}

TEST(JsonTest, RefusesWhatIsNotJson) {
  for (const char* bad :
       {"", " ", "{", "[1,]", "{\"a\":1,}", "{\"a\" 1}", "{a:1}", "01", "1.", "-", ".5", "1e",
        "tru", "nul", "\"abc", "\"a\x01\"", "\"\\x\"", "\"\\u12\"", "\"\\udc00\"",
        "\"\\ud800\"", "\"\\ud800\\u0041\"", "[1] 2", "{} x", "'a'"}) {
    EXPECT_FALSE(ParseJson(bad).has_value()) << bad;
  }
  std::string deep(100, '[');
  deep += std::string(100, ']');
  EXPECT_TRUE(ParseJson(deep).has_value());
  EXPECT_FALSE(ParseJson("[" + deep + "]").has_value()) << "deeper than 100";
}

TEST(JsonTest, StringMapsReadStringsOnly) {
  auto m = ParseStringMap(R"({"k": "v", "n": 3, "o": {"x": "y"}, "e": ""})");
  ASSERT_TRUE(m.has_value());
  EXPECT_EQ(m->at("k"), "v");
  EXPECT_EQ(m->at("n"), "");
  EXPECT_EQ(m->at("o"), "");
  EXPECT_EQ(m->at("e"), "");
  EXPECT_EQ(m->size(), 4u);
  EXPECT_FALSE(ParseStringMap("[]").has_value());
  EXPECT_FALSE(ParseStringMap("{").has_value());
  // What JsonObject writes reads back the same.
  const std::map<std::string, std::string> written{
      {"quote\"", "back\\slash"}, {"ctl", std::string("\x01\n\t", 3)}, {"信访", "人"}};
  EXPECT_EQ(ParseStringMap(JsonObject(written)), written);
}

// A petition with every kind of field the intake has, drawn at random.
class RandomIntake {
 public:
  explicit RandomIntake(unsigned seed) : rng_(seed) {}

  v1::CaseIntake Next() {
    v1::CaseIntake in;
    in.set_channel(static_cast<v1::Channel>(Pick(6)));  // 5: a number with no name
    switch (Pick(5)) {
      case 0: {
        auto* v = in.mutable_visit();
        v->set_people_present(static_cast<int32_t>(Pick(2000)) - 5);
        for (int k = Pick(4); k > 0; --k) v->add_representatives(Text());
        break;
      }
      case 1: in.mutable_call()->set_caller_number(Text()); break;
      case 2:
        in.mutable_letter()->set_postmark_date(Text());
        in.mutable_letter()->add_scan_references(Text());
        break;
      case 3: in.mutable_online()->set_platform(Text()); break;
      default: break;  // none
    }
    if (Pick(4) != 0) {
      in.mutable_received_at()->set_seconds(static_cast<int64_t>(Pick(4'000'000'000u)));
      in.mutable_received_at()->set_nanos(static_cast<int32_t>(Pick(3)) == 0 ? 0 : Pick(999'999'999));
    }
    in.set_anonymous(Pick(2) == 1);
    for (int k = Pick(4); k > 0; --k) {
      v1::Petitioner* p = in.add_petitioners();
      p->set_name(Text());
      p->set_id_number(Text());
      p->set_phone(Text());
      p->set_address(Text());
      p->set_member_id(Text());
      p->set_person_id(static_cast<int64_t>(Pick(1u << 31)) * (Pick(2) ? 1 : -4096));
      p->set_same_person_confirmed(Pick(2) == 1);
      p->set_email(Text());
    }
    in.set_purpose(static_cast<v1::Purpose>(Pick(6)));
    in.set_category(Text());
    in.set_issue_location(Text());
    in.set_summary(Text());
    in.set_request(Text());
    in.set_facts_and_reasons(Text());
    in.set_complained_about(Text());
    in.set_complained_about_unit(Text());
    for (int k = Pick(3); k > 0; --k) in.add_attachments(Text());
    in.set_registering_unit(Text());
    return in;
  }

 private:
  uint32_t Pick(uint32_t n) { return std::uniform_int_distribution<uint32_t>(0, n - 1)(rng_); }

  std::string Text() {
    static const char* const kPieces[] = {
        "a", "Z", "0", " ", "\"", "\\", "/", "<", ">", "&", "'", "\n", "\t", "\x01", "\x1f",
        "\x7f", "\xe4\xbf\xa1", "\xe8\xae\xbf", "\xc3\xa9", "\xf0\x9f\x98\x80", "\xe2\x80\xa8",
        "{", "}", "[", "]", ":", ","};
    std::string s;
    for (int k = Pick(12); k > 0; --k) s += kPieces[Pick(std::size(kPieces))];
    return s;
  }

  std::mt19937 rng_;
};

// protobuf's reading of `json` (with unknown fields ignored, as stored
// intakes are read) and ours: both refuse, or both give the same message.
void ExpectSameAsProtobuf(const std::string& json) {
  v1::CaseIntake theirs, ours;
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  const bool they_read = google::protobuf::util::JsonStringToMessage(json, &theirs, o).ok();
  ASSERT_EQ(JsonToMessage(json, &ours), they_read) << json;
  if (they_read) {
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(ours, theirs))
        << json << "\nours: " << ours.DebugString() << "\ntheirs: " << theirs.DebugString();
  }
}

TEST(JsonTest, IntakesReadAsProtobufReadsThemAndWithoutIt) {
  RandomIntake random(20261201);
  for (int n = 0; n < 2000; ++n) {
    const v1::CaseIntake in = random.Next();
    google::protobuf::util::JsonPrintOptions print;
    print.add_whitespace = n % 2 == 1;
    print.preserve_proto_field_names = n % 3 == 1;
    print.always_print_primitive_fields = n % 5 == 1;
    std::string json;
    ASSERT_TRUE(google::protobuf::util::MessageToJsonString(in, &json, print).ok());
    ExpectSameAsProtobuf(json);
    // The storage's own reader took it (no fall back to protobuf's) and got
    // the petition back.
    v1::CaseIntake ours;
    ASSERT_TRUE(internal::ReadMessage(json, &ours)) << json;
    EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(ours, in)) << json;
  }
}

TEST(JsonTest, AnythingElseIsProtobufsAnswer) {
  for (const char* json : {
           R"({"channel": "NO_SUCH_CHANNEL", "category": "x"})",  // unknown enum name
           R"({"visit": {"peoplePresent": 1.0}})",                 // integral double
           R"({"visit": {"peoplePresent": "7"}})",                 // int as string
           R"({"visit": {"peoplePresent": " 7"}})",
           R"({"visit": {"peoplePresent": "+7"}})",
           R"({"visit": {"peoplePresent": "-"}})",
           R"({"petitioners": [{"personId": "-12"}]})",
           R"({"visit": {"peoplePresent": 1e2}})",
           R"({"visit": {"peoplePresent": 3000000000}})",          // out of range
           R"({"visit": {}, "call": {}})",                         // two of a oneof
           R"({"receivedAt": "2026-13-01T00:00:00Z"})",            // no such month
           R"({"receivedAt": "2026-12-01T08:00:00+08:00"})",       // an offset
           R"({"receivedAt": 5})",
           R"({"anonymous": "true"})",
           R"({"petitioners": {"name": "x"}})",                    // not an array
           R"({"petitioners": [null]})",
           R"({"attachments": ["a", 1]})",
           R"({"category": null, "summary": "s"})",
           R"({"unknownField": {"deep": [1, 2]}, "summary": "s"})",
           R"({"summary": "a", "summary": "b"})",
           R"({"complained_about": "by its .proto name"})",
           R"([])", R"("text")", R"({)", R"({"summary": "\ud800"})"}) {
    ExpectSameAsProtobuf(json);
  }
}

// Null is a field's default, except in protobuf's own google.protobuf.Value,
// where it is the value NULL_VALUE: such a field goes to protobuf's parser.
// (The intake has none; a message made here for the test has one.)
TEST(JsonTest, NullInAValueFieldIsProtobufsNull) {
  using google::protobuf::FieldDescriptorProto;
  google::protobuf::DescriptorPool pool(google::protobuf::DescriptorPool::generated_pool());
  google::protobuf::FileDescriptorProto file;
  file.set_name("json_test_value.proto");
  file.set_syntax("proto3");
  file.add_dependency("google/protobuf/struct.proto");
  google::protobuf::DescriptorProto* type = file.add_message_type();
  type->set_name("WithValue");
  FieldDescriptorProto* v = type->add_field();
  v->set_name("v");
  v->set_number(1);
  v->set_label(FieldDescriptorProto::LABEL_OPTIONAL);
  v->set_type(FieldDescriptorProto::TYPE_MESSAGE);
  v->set_type_name(".google.protobuf.Value");
  FieldDescriptorProto* text = type->add_field();
  text->set_name("text");
  text->set_number(2);
  text->set_label(FieldDescriptorProto::LABEL_OPTIONAL);
  text->set_type(FieldDescriptorProto::TYPE_STRING);
  const google::protobuf::FileDescriptor* built = pool.BuildFile(file);
  ASSERT_NE(built, nullptr);
  google::protobuf::DynamicMessageFactory factory(&pool);
  const google::protobuf::Message* prototype =
      factory.GetPrototype(built->FindMessageTypeByName("WithValue"));
  std::unique_ptr<google::protobuf::Message> ours(prototype->New()), theirs(prototype->New());
  const std::string json = R"({"v": null, "text": "x"})";
  google::protobuf::util::JsonParseOptions o;
  o.ignore_unknown_fields = true;
  ASSERT_TRUE(google::protobuf::util::JsonStringToMessage(json, theirs.get(), o).ok());
  ASSERT_TRUE(JsonToMessage(json, ours.get()));
  EXPECT_TRUE(ours->GetReflection()->HasField(*ours, built->message_type(0)->field(0)));
  EXPECT_TRUE(google::protobuf::util::MessageDifferencer::Equals(*ours, *theirs))
      << ours->DebugString() << " / " << theirs->DebugString();
}

}  // namespace
}  // namespace xinfang::storage
