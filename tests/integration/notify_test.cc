// Notifications (issue 15): the outbox made from the event feed and
// delivered by e-mail to a real SMTP server (Debian's python3-aiosmtpd,
// started here on a free loopback port, keeping what it receives in a
// Maildir), on a simulated clock.
#include <gmock/gmock.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <signal.h>
#include <spawn.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <sstream>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "services/common/mail.h"
#include "services/supervision/notifier.h"
#include "tests/testing/petitions.h"
#include "tests/testing/status_matchers.h"
#include "tests/testing/test_server.h"
#include "xinfang/v1/admin.grpc.pb.h"

extern char** environ;

namespace xinfang {
namespace {

namespace v1 = xinfang::v1;
using testing::Monday;
using supervision::Notifier;
using testing::Caller;
using testing::FromGrpc;
using ::testing::ElementsAre;
using ::testing::HasSubstr;
using testing::IsOk;
using ::testing::IsEmpty;
using testing::StatusIs;
using testing::TestServer;

const Caller kClerk{"clerk1", "intake_clerk", "prov.organs.office"};
const Caller kOfficer{"officer1", "case_officer", "prov.organs.office"};
const Caller kHead{"head1", "unit_head", "prov.organs.office"};
const Caller kAdmin{"admin1", "administrator", "prov"};

int FreePort() {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  ::bind(fd, reinterpret_cast<sockaddr*>(&a), sizeof a);
  socklen_t len = sizeof a;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&a), &len);
  ::close(fd);
  return ntohs(a.sin_port);
}

bool Accepts(int port) {
  int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in a{};
  a.sin_family = AF_INET;
  a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  a.sin_port = htons(static_cast<uint16_t>(port));
  const bool ok = ::connect(fd, reinterpret_cast<sockaddr*>(&a), sizeof a) == 0;
  ::close(fd);
  return ok;
}

// A received message: its headers, its decoded text and attachment.
struct Mail {
  std::string to, subject, text, attachment, message_id;
};

// Debian's aiosmtpd on 127.0.0.1:port, keeping every message in a Maildir.
class SmtpSink {
 public:
  explicit SmtpSink(int port) : port_(port) {
    dir_ = std::filesystem::temp_directory_path() / absl::StrCat("xf-mail-", ::getpid(), "-", port);
    for (const char* sub : {"tmp", "new", "cur"}) std::filesystem::create_directories(dir_ / sub);
    const std::string listen = absl::StrCat("127.0.0.1:", port);
    const std::string dir = dir_.string();
    const char* argv[] = {"/usr/bin/aiosmtpd", "-n", "-l", listen.c_str(), "-c",
                          "aiosmtpd.handlers.Mailbox", dir.c_str(), nullptr};
    EXPECT_EQ(posix_spawn(&pid_, argv[0], nullptr, nullptr, const_cast<char**>(argv), environ), 0)
        << "install python3-aiosmtpd";
    // It is up when it accepts connections (bounded: 100 tries).
    for (int i = 0; i < 100 && !Accepts(port_); ++i) ::usleep(50 * 1000);
    EXPECT_TRUE(Accepts(port_)) << "aiosmtpd did not start on " << listen;
  }
  ~SmtpSink() {
    if (pid_ > 0) {
      ::kill(pid_, SIGTERM);
      int status = 0;
      ::waitpid(pid_, &status, 0);
    }
    std::filesystem::remove_all(dir_);
  }

  std::vector<Mail> Received() const {
    std::vector<Mail> out;
    const auto fresh = dir_ / "new";
    if (!std::filesystem::exists(fresh)) return out;
    std::vector<std::filesystem::path> files;
    for (const auto& e : std::filesystem::directory_iterator(fresh)) files.push_back(e.path());
    std::sort(files.begin(), files.end());
    for (const auto& f : files) {
      std::stringstream buf;
      buf << std::ifstream(f).rdbuf();
      out.push_back(Parse(buf.str()));
    }
    return out;
  }

 private:
  static std::string DecodeWord(const std::string& v) {
    if (v.rfind("=?UTF-8?B?", 0) != 0) return v;
    std::string out;
    absl::Base64Unescape(v.substr(10, v.size() - 12), &out);
    return out;
  }
  // The base64 block after the n-th "Content-Transfer-Encoding: base64".
  static std::string Part(const std::string& m, int n) {
    size_t at = 0;
    for (int i = 0; i <= n; ++i) {
      at = m.find("Content-Transfer-Encoding: base64", at);
      if (at == std::string::npos) return "";
      at += 10;
    }
    size_t start = m.find("\n\n", at);
    if (start == std::string::npos) return "";
    start += 2;
    size_t end = m.find("\n--", start);
    std::string b64 = m.substr(start, end == std::string::npos ? std::string::npos : end - start);
    std::string clean;
    for (char c : b64) {
      if (c != '\n' && c != '\r') clean += c;
    }
    std::string out;
    absl::Base64Unescape(clean, &out);
    return out;
  }
  static Mail Parse(std::string m) {
    m.erase(std::remove(m.begin(), m.end(), '\r'), m.end());
    Mail out;
    for (absl::string_view line : absl::StrSplit(m.substr(0, m.find("\n\n")), '\n')) {
      if (absl::ConsumePrefix(&line, "X-RcptTo: ")) out.to = std::string(line);
      if (absl::ConsumePrefix(&line, "Subject: ")) out.subject = DecodeWord(std::string(line));
      if (absl::ConsumePrefix(&line, "Message-ID: ")) out.message_id = std::string(line);
    }
    out.text = Part(m, 0);
    out.attachment = Part(m, 1);
    return out;
  }

  int port_;
  pid_t pid_ = 0;
  std::filesystem::path dir_;
};

// The usual petition by 张三, who gives an e-mail address instead of numbers.
v1::RegisterCaseRequest Visit(const std::string& request_id, const std::string& email) {
  v1::RegisterCaseRequest r = testing::WagesVisit(request_id);
  r.mutable_intake()->clear_request();
  v1::Petitioner* p = r.mutable_intake()->mutable_petitioners(0);
  p->clear_id_number();
  p->clear_phone();
  p->set_email(email);
  return r;
}

class NotifyTest : public ::testing::Test {
 protected:
  explicit NotifyTest(std::vector<std::string> off = {})
      : port_(FreePort()), server_(Monday(), true, [off](ServerConfig& c) {
          c.notify_off = off;
          c.public_status_url = "https://xf.example.org/status";
        }) {
    server_.TokenFor(kOfficer);
    server_.TokenFor(kHead);
  }

  std::unique_ptr<Notifier> MakeNotifier(int port) {
    return std::make_unique<Notifier>(
        server_.core(), std::make_unique<SmtpChannel>(absl::StrCat("127.0.0.1:", port),
                                                      "xinfang@example.org", absl::Seconds(5)));
  }

  std::string Register(const std::string& rid, const std::string& email = "zhangsan@example.com") {
    auto r = server_.Register(Visit(rid, email), kClerk);
    EXPECT_THAT(r, IsOk());
    return r.ok() ? r->case_().tracking_number() : "";
  }

  absl::StatusOr<std::vector<v1::Notification>> Notifications(const std::string& tracking) {
    auto stub = server_.query();
    auto ctx = server_.Context(kClerk);
    v1::ListNotificationsRequest req;
    req.mutable_case_()->set_tracking_number(tracking);
    v1::ListNotificationsResponse resp;
    grpc::Status s = stub->ListNotifications(ctx.get(), req, &resp);
    if (!s.ok()) return FromGrpc(s);
    return std::vector<v1::Notification>(resp.notifications().begin(),
                                         resp.notifications().end());
  }

  int port_;
  TestServer server_;
};

TEST_F(NotifyTest, ThePetitionerIsMailedTheNoticeOnceWithTheDocumentAttached) {
  SmtpSink smtp(port_);
  auto notifier = MakeNotifier(port_);
  const std::string t = Register("notify-0001");
  ASSERT_THAT(server_.Act(t, "accept", kClerk), IsOk());
  auto pass = notifier->ProcessOnce();
  ASSERT_THAT(pass, IsOk());
  EXPECT_EQ(pass->made, 1);
  EXPECT_EQ(pass->delivered.sent, 1);
  std::vector<Mail> mail = smtp.Received();
  ASSERT_EQ(mail.size(), 1u);
  EXPECT_EQ(mail[0].to, "zhangsan@example.com");
  EXPECT_EQ(mail[0].subject, absl::StrCat("受理告知书（信访编号 ", t, "）"));
  EXPECT_THAT(mail[0].text, HasSubstr("省直机关工会信访办公室信受〔2026〕1号"));
  EXPECT_THAT(mail[0].text, HasSubstr("https://xf.example.org/status"));
  EXPECT_THAT(mail[0].attachment, HasSubstr("张三："));  // the notice itself
  EXPECT_THAT(mail[0].attachment, HasSubstr("@page { size: A4"));

  // Again, and from a second process: nothing is made or sent twice.
  auto other = MakeNotifier(port_);
  ASSERT_THAT(other->ProcessOnce(), IsOk());
  ASSERT_THAT(notifier->ProcessOnce(), IsOk());
  EXPECT_EQ(smtp.Received().size(), 1u);
  auto listed = Notifications(t);
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].kind(), "petitioner_document");
  EXPECT_EQ((*listed)[0].state(), "sent");
  EXPECT_EQ((*listed)[0].attempts(), 1);
  EXPECT_EQ((*listed)[0].recipient(), "zhangsan@example.com");
}

TEST_F(NotifyTest, TheDecisionIsMailedWhenServedNotWhenWritten) {
  SmtpSink smtp(port_);
  auto notifier = MakeNotifier(port_);
  const std::string t = Register("notify-0002");
  ASSERT_THAT(server_.Act(t, "accept", kClerk), IsOk());
  ASSERT_THAT(server_.Act(t, "assign_officer", kHead, {{"officer", "officer1"}}), IsOk());
  ASSERT_THAT(server_.Act(t, "decide", kOfficer,
                          {{"outcome", "support"}, {"decision_text", "责成公司补发工资"}}),
              IsOk());
  ASSERT_THAT(notifier->ProcessOnce(), IsOk());
  ASSERT_EQ(smtp.Received().size(), 1u);  // the acceptance notice only
  ASSERT_THAT(server_.Act(t, "serve", kClerk,
                          {{"served_on", "2026-03-02"}, {"method", "in_person"},
                           {"receipt", "signed"}, {"signed_by", "张三"}}),
              IsOk());
  ASSERT_THAT(notifier->ProcessOnce(), IsOk());
  std::vector<Mail> mail = smtp.Received();
  ASSERT_EQ(mail.size(), 2u);
  const Mail& decision = mail[0].subject.find("处理意见书") != std::string::npos ? mail[0] : mail[1];
  EXPECT_THAT(decision.subject, HasSubstr("信访事项处理意见书"));
  EXPECT_THAT(decision.attachment, HasSubstr("责成公司补发工资"));

  // Two days before the evaluation window closes (7 days from service, to
  // 3/9): the petitioner is reminded.
  ASSERT_THAT(server_.AdvanceTo(Monday() + absl::Hours(24 * 5 + 16)), IsOk());
  ASSERT_THAT(notifier->ProcessOnce(), IsOk());
  mail = smtp.Received();
  bool reminded = false;
  for (const Mail& m : mail) {
    if (m.subject.find("评价处理结果的期限将于 2026-03-09 届满") != std::string::npos) reminded = true;
  }
  EXPECT_TRUE(reminded) << mail.size() << " messages";
}

TEST_F(NotifyTest, AMissedDeadlineMailsTheRungsStaffButNeverNamesThePetitioner) {
  SmtpSink smtp(port_);
  auto notifier = MakeNotifier(port_);
  {
    auto stub = server_.admin();
    server_.TokenFor(kAdmin);
    auto ctx = server_.Context(kAdmin);
    v1::SetAccountEmailRequest req;
    req.set_name("head1");
    req.set_email("head1@example.org");
    v1::SetAccountDisabledResponse resp;
    ASSERT_TRUE(stub->SetAccountEmail(ctx.get(), req, &resp).ok());
    EXPECT_EQ(resp.account().email(), "head1@example.org");
    ctx = server_.Context(kAdmin);
    req.set_email("not an address");
    grpc::Status bad = stub->SetAccountEmail(ctx.get(), req, &resp);
    EXPECT_EQ(bad.error_code(), grpc::StatusCode::INVALID_ARGUMENT);
    EXPECT_THAT(bad.error_message(), HasSubstr("email"));
  }
  const std::string t = Register("notify-0003");
  // The intake notice was due by 3/17; the unit head is pressed 3 days later.
  ASSERT_THAT(server_.AdvanceTo(Monday() + absl::Hours(24 * 20)), IsOk());
  ASSERT_THAT(notifier->ProcessOnce(), IsOk());
  std::vector<Mail> to_head;
  for (const Mail& m : smtp.Received()) {
    if (m.to == "head1@example.org") to_head.push_back(m);
  }
  // Rung 1 (the officer: none is assigned yet, so the unit's heads) and
  // rung 2 (the unit head); rung 3 goes to the unit above, where no one has
  // an address.
  ASSERT_EQ(to_head.size(), 2u);
  std::string texts;
  for (const Mail& m : to_head) {
    EXPECT_THAT(m.subject, HasSubstr(absl::StrCat("督办提醒：", t)));
    EXPECT_EQ(m.text.find("张三"), std::string::npos);
    EXPECT_EQ(m.text.find("拖欠"), std::string::npos);
    texts += m.text;
  }
  EXPECT_THAT(texts, HasSubstr("第 1 级"));
  EXPECT_THAT(texts, HasSubstr("第 2 级（单位负责人催办"));
}

TEST_F(NotifyTest, AnUnreachableServerIsRetriedWithBackoffThenDelivered) {
  const std::string t = Register("notify-0004");
  ASSERT_THAT(server_.Act(t, "accept", kClerk), IsOk());
  auto notifier = MakeNotifier(port_);  // nothing listens there yet
  auto pass = notifier->ProcessOnce();
  ASSERT_THAT(pass, IsOk());
  EXPECT_EQ(pass->delivered.retried, 1);
  auto listed = Notifications(t);
  ASSERT_THAT(listed, IsOk());
  ASSERT_EQ(listed->size(), 1u);
  EXPECT_EQ((*listed)[0].state(), "pending");
  EXPECT_EQ((*listed)[0].attempts(), 1);
  EXPECT_THAT((*listed)[0].last_error(), HasSubstr("SMTP server"));
  // Not before its time: a minute later, the second try.
  SmtpSink smtp(port_);
  ASSERT_THAT(notifier->ProcessOnce(), IsOk());
  EXPECT_THAT(smtp.Received(), IsEmpty());
  ASSERT_THAT(server_.AdvanceTo(Monday() + absl::Minutes(2)), IsOk());
  pass = notifier->ProcessOnce();
  ASSERT_THAT(pass, IsOk());
  EXPECT_EQ(pass->delivered.sent, 1);
  EXPECT_EQ(smtp.Received().size(), 1u);
  listed = Notifications(t);
  ASSERT_THAT(listed, IsOk());
  EXPECT_EQ((*listed)[0].state(), "sent");
  EXPECT_EQ((*listed)[0].attempts(), 2);
  EXPECT_EQ(supervision::NotifyBackoff(1), absl::Minutes(1));
  EXPECT_EQ(supervision::NotifyBackoff(3), absl::Minutes(4));
  EXPECT_EQ(supervision::NotifyBackoff(20), absl::Hours(6));
}

TEST_F(NotifyTest, NoAddressNoMessageAndABadAddressIsRefusedAtRegistration) {
  SmtpSink smtp(port_);
  auto notifier = MakeNotifier(port_);
  const std::string t = Register("notify-0005", "");
  ASSERT_THAT(server_.Act(t, "accept", kClerk), IsOk());
  auto pass = notifier->ProcessOnce();
  ASSERT_THAT(pass, IsOk());
  EXPECT_EQ(pass->made, 0);
  EXPECT_THAT(server_.Register(Visit("notify-0006", "zhangsan at example"), kClerk),
              StatusIs(absl::StatusCode::kInvalidArgument,
                       HasSubstr("intake.petitioners[0].email")));
}

class NotifyOffTest : public NotifyTest {
 protected:
  NotifyOffTest() : NotifyTest({"petitioner_document"}) {}
};

TEST_F(NotifyOffTest, AKindTurnedOffMakesNoMessage) {
  SmtpSink smtp(port_);
  auto notifier = MakeNotifier(port_);
  const std::string t = Register("notify-0007");
  ASSERT_THAT(server_.Act(t, "accept", kClerk), IsOk());
  auto pass = notifier->ProcessOnce();
  ASSERT_THAT(pass, IsOk());
  EXPECT_EQ(pass->made, 0);
  EXPECT_THAT(smtp.Received(), IsEmpty());
}

TEST(MailTest, TheMimeMessageCarriesUtf8SubjectTextAndAttachment) {
  OutboundMessage m;
  m.to = "a@example.org";
  m.subject = "受理告知书";
  m.text = "您好\n.一行以点开头";
  m.attachment_name = "受理告知书.html";
  m.attachment_html = "<p>文书</p>";
  m.message_id = "<outbox-1.1@xinfang>";
  m.date = absl::FromUnixSeconds(1772413200);
  const std::string mime = MimeMessage(m, "x@example.org");
  EXPECT_THAT(mime, HasSubstr("Subject: =?UTF-8?B?" + absl::Base64Escape("受理告知书") + "?="));
  EXPECT_THAT(mime, HasSubstr("Message-ID: <outbox-1.1@xinfang>\r\n"));
  EXPECT_THAT(mime, HasSubstr(absl::Base64Escape("<p>文书</p>")));
  EXPECT_THAT(mime, HasSubstr("filename*=UTF-8''%E5%8F%97"));
  EXPECT_TRUE(IsEmailAddress("zhang.san@mail.example.cn"));
  for (const char* bad : {"", "a", "a@b", "@b.c", "a@b.", "a b@c.d", "a@@b.c", "<a@b.c>"}) {
    EXPECT_FALSE(IsEmailAddress(bad)) << bad;
  }
}

}  // namespace
}  // namespace xinfang
