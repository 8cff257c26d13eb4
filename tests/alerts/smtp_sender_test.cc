// SmtpSender against a minimal scripted SMTP server on 127.0.0.1 (asio, in this file):
// the rendered e-mail arrives with its envelope, its UTF-8 subject decodes back, and
// 4xx / 5xx replies, failed logins and missing STARTTLS are classified.
#include "alerts/smtp_sender.h"

#include <mutex>
#include <thread>

#include <gtest/gtest.h>
#include <boost/asio.hpp>

#include "alerts/email_notifier.h"
#include "alerts/signing.h"
#include "tests/alerts/sample_notification.h"

namespace vigil::alerts {
namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

struct ReceivedMail {
  std::string auth;  // "user:password" when the client logged in
  std::string mail_from;
  std::vector<std::string> rcpt_to;
  std::string data;  // the message, dot-unstuffed, without the final "."
};

// Speaks just enough ESMTP for libcurl: EHLO, AUTH PLAIN, MAIL, RCPT, DATA, RSET, QUIT.
class SmtpReceiver {
 public:
  SmtpReceiver() : acceptor_(io_, {asio::ip::make_address("127.0.0.1"), 0}) {
    asio::co_spawn(io_, Listen(), asio::detached);
    thread_ = std::thread([this] { io_.run(); });
  }
  ~SmtpReceiver() {
    io_.stop();
    thread_.join();
  }
  std::string url() const {
    return "smtp://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
  }

  void RequireLogin(std::string user, std::string password) {
    std::lock_guard lock(mutex_);
    login_ = "\0" + user + '\0' + password;
    login_ = std::string(1, '\0') + user + std::string(1, '\0') + password;
  }
  void AnswerRcptWith(std::string reply) {
    std::lock_guard lock(mutex_);
    rcpt_reply_ = std::move(reply);
  }
  std::vector<ReceivedMail> mails() const {
    std::lock_guard lock(mutex_);
    return mails_;
  }

 private:
  asio::awaitable<void> Listen() {
    for (;;) {
      auto [ec, socket] = co_await acceptor_.async_accept(asio::as_tuple(asio::use_awaitable));
      if (ec) co_return;
      asio::co_spawn(io_, Serve(std::move(socket)), asio::detached);
    }
  }

  asio::awaitable<bool> Reply(tcp::socket& socket, std::string text) {
    auto [ec, n] =
        co_await asio::async_write(socket, asio::buffer(text), asio::as_tuple(asio::use_awaitable));
    co_return !ec;
  }

  // One line (or, for DATA, everything up to "\r\n.\r\n"), without its terminator.
  asio::awaitable<std::optional<std::string>> Read(tcp::socket& socket, std::string& buffer,
                                                   std::string_view until) {
    auto [ec, n] = co_await asio::async_read_until(socket, asio::dynamic_buffer(buffer), until,
                                                   asio::as_tuple(asio::use_awaitable));
    if (ec) co_return std::nullopt;
    std::string line = buffer.substr(0, n - until.size());
    buffer.erase(0, n);
    co_return line;
  }

  asio::awaitable<void> Serve(tcp::socket socket) {
    std::string buffer, login, rcpt_reply;
    {
      std::lock_guard lock(mutex_);
      login = login_;
      rcpt_reply = rcpt_reply_;
    }
    ReceivedMail mail;
    if (!co_await Reply(socket, "220 127.0.0.1 ESMTP test\r\n")) co_return;
    for (;;) {
      std::optional<std::string> line = co_await Read(socket, buffer, "\r\n");
      if (!line) co_return;
      const std::string verb = line->substr(0, 4);
      std::string answer = "250 2.0.0 ok\r\n";
      if (verb == "EHLO") {
        answer = login.empty() ? "250-127.0.0.1\r\n250 8BITMIME\r\n"
                               : "250-127.0.0.1\r\n250-AUTH PLAIN\r\n250 8BITMIME\r\n";
      } else if (verb == "AUTH") {
        std::string credentials = line->size() > 11 ? line->substr(11) : "";
        if (credentials.empty()) {
          if (!co_await Reply(socket, "334 \r\n")) co_return;
          std::optional<std::string> next = co_await Read(socket, buffer, "\r\n");
          if (!next) co_return;
          credentials = *next;
        }
        const std::optional<std::string> decoded = Base64Decode(credentials);
        if (decoded && *decoded == login) {
          mail.auth = decoded->substr(1);
          std::replace(mail.auth.begin(), mail.auth.end(), '\0', ':');
          answer = "235 2.7.0 authenticated\r\n";
        } else {
          answer = "535 5.7.8 authentication failed\r\n";
        }
      } else if (verb == "MAIL") {
        if (!login.empty() && mail.auth.empty()) answer = "530 5.7.0 authentication required\r\n";
        mail.mail_from = line->substr(line->find('<') + 1, line->find('>') - line->find('<') - 1);
      } else if (verb == "RCPT") {
        if (!rcpt_reply.empty())
          answer = rcpt_reply + "\r\n";
        else
          mail.rcpt_to.push_back(
              line->substr(line->find('<') + 1, line->find('>') - line->find('<') - 1));
      } else if (verb == "DATA") {
        if (!co_await Reply(socket, "354 end with <CRLF>.<CRLF>\r\n")) co_return;
        std::optional<std::string> data = co_await Read(socket, buffer, "\r\n.\r\n");
        if (!data) co_return;
        for (size_t at = 0; (at = data->find("\r\n..", at)) != std::string::npos; at += 3)
          data->erase(at + 2, 1);
        mail.data = *data + "\r\n";
        {
          std::lock_guard lock(mutex_);
          mails_.push_back(mail);
        }
        answer = "250 2.0.0 queued\r\n";
      } else if (verb == "QUIT") {
        co_await Reply(socket, "221 2.0.0 bye\r\n");
        co_return;
      } else if (verb != "RSET" && verb != "NOOP" && verb != "HELO") {
        answer = "502 5.5.2 not implemented\r\n";
      }
      if (!co_await Reply(socket, answer)) co_return;
    }
  }

  asio::io_context io_;
  tcp::acceptor acceptor_;
  std::thread thread_;
  mutable std::mutex mutex_;
  std::string login_;       // GUARDED_BY(mutex_): "\0user\0password", empty: no AUTH offered
  std::string rcpt_reply_;  // GUARDED_BY(mutex_): empty: accept
  std::vector<ReceivedMail> mails_;  // GUARDED_BY(mutex_)
};

// Decodes RFC 2047 "=?UTF-8?B?…?=" words (the whitespace between words is dropped).
std::string DecodeHeader(const std::string& value) {
  std::string out;
  size_t at = 0;
  while (at < value.size()) {
    const size_t start = value.find("=?UTF-8?B?", at);
    if (start == std::string::npos) return out + value.substr(at);
    const std::string between = value.substr(at, start - at);
    if (between.find_first_not_of(" \t\r\n") != std::string::npos) out += between;
    const size_t end = value.find("?=", start + 10);
    out += Base64Decode(value.substr(start + 10, end - start - 10)).value_or("<bad>");
    at = end + 2;
  }
  return out;
}

// The unfolded value of a header in a message.
std::string HeaderValue(const std::string& message, const std::string& name) {
  const size_t start = message.find("\r\n" + name + ": ");
  if (start == std::string::npos) return "";
  size_t end = start + name.size() + 4;
  while (true) {
    end = message.find("\r\n", end);
    if (message[end + 2] != ' ' && message[end + 2] != '\t') break;
    end += 2;
  }
  std::string value = message.substr(start + name.size() + 4, end - start - name.size() - 4);
  for (size_t at; (at = value.find("\r\n")) != std::string::npos;) value.erase(at, 2);
  return value;
}

OutgoingRequest RenderPage(const std::string& smtp_url) {
  auto notifier = MakeEmailNotifier(
      {smtp_url, "Vigil 值班 <vigil@example.com>", {"legal@example.com", "crisis@example.com"}});
  EXPECT_TRUE(notifier.ok());
  return (*notifier)->Render(testing::SamplePage(), 1'893'456'123'456).value();
}

SmtpSenderConfig Plain(std::string user = "", std::string password = "") {
  SmtpSenderConfig config;
  config.starttls = false;  // the test server speaks no TLS
  config.username = std::move(user);
  config.password = std::move(password);
  return config;
}

TEST(SmtpSenderTest, DeliversTheMessageWithItsUtf8Subject) {
  SmtpReceiver receiver;
  receiver.RequireLogin("vigil", "pa55");
  SmtpSender sender(Plain("vigil", "pa55"));
  const OutgoingRequest request = RenderPage(receiver.url());
  const DeliveryOutcome outcome = sender.Send(request);
  ASSERT_EQ(outcome.delivery, Delivery::kDelivered) << outcome.detail;
  ASSERT_EQ(receiver.mails().size(), 1u);
  const ReceivedMail mail = receiver.mails()[0];
  EXPECT_EQ(mail.auth, "vigil:pa55");
  EXPECT_EQ(mail.mail_from, "vigil@example.com");
  EXPECT_EQ(mail.rcpt_to, (std::vector<std::string>{"legal@example.com", "crisis@example.com"}));
  EXPECT_EQ(mail.data, request.body);
  const std::string message = "\r\n" + mail.data;
  EXPECT_EQ(DecodeHeader(HeaderValue(message, "Subject")), testing::SamplePage().title);
  EXPECT_EQ(DecodeHeader(HeaderValue(message, "From")), "Vigil 值班 <vigil@example.com>");
  std::string encoded;
  for (char c : mail.data.substr(mail.data.find("\r\n\r\n") + 4))
    if (c != '\r' && c != '\n') encoded += c;
  const std::string text = Base64Decode(encoded).value_or("");
  EXPECT_NE(text.find("我的身份证号 110105********002X 被贴出来了"), std::string::npos);
}

TEST(SmtpSenderTest, RecipientRejectionsAreClassifiedByReplyCode) {
  SmtpReceiver receiver;
  SmtpSender sender(Plain());
  receiver.AnswerRcptWith("550 5.1.1 no such user");
  DeliveryOutcome outcome = sender.Send(RenderPage(receiver.url()));
  EXPECT_EQ(outcome.delivery, Delivery::kPermanent) << outcome.detail;
  EXPECT_EQ(outcome.status, 550);
  receiver.AnswerRcptWith("451 4.7.1 greylisted, try again later");
  outcome = sender.Send(RenderPage(receiver.url()));
  EXPECT_EQ(outcome.delivery, Delivery::kRetryable) << outcome.detail;
  EXPECT_EQ(outcome.status, 451);
  EXPECT_TRUE(receiver.mails().empty());
}

TEST(SmtpSenderTest, WrongPasswordIsPermanent) {
  SmtpReceiver receiver;
  receiver.RequireLogin("vigil", "pa55");
  SmtpSender sender(Plain("vigil", "wrong"));
  const DeliveryOutcome outcome = sender.Send(RenderPage(receiver.url()));
  EXPECT_EQ(outcome.delivery, Delivery::kPermanent) << outcome.detail;
  EXPECT_TRUE(receiver.mails().empty());
}

TEST(SmtpSenderTest, RequiredStartTlsThatTheServerLacksIsPermanent) {
  SmtpReceiver receiver;
  SmtpSender sender;  // starttls required by default
  const DeliveryOutcome outcome = sender.Send(RenderPage(receiver.url()));
  EXPECT_EQ(outcome.delivery, Delivery::kPermanent) << outcome.detail;
  EXPECT_TRUE(receiver.mails().empty());  // nothing went out in clear text
}

TEST(SmtpSenderTest, NoServerIsRetryableAndNonMailIsPermanent) {
  uint16_t port = 0;
  {
    asio::io_context io;
    tcp::acceptor acceptor(io, {asio::ip::make_address("127.0.0.1"), 0});
    port = acceptor.local_endpoint().port();
  }
  SmtpSender sender(Plain());
  EXPECT_EQ(sender.Send(RenderPage("smtp://127.0.0.1:" + std::to_string(port))).delivery,
            Delivery::kRetryable);
  OutgoingRequest http = RenderPage("smtp://127.0.0.1:1");
  http.url = "http://127.0.0.1:1/";
  EXPECT_EQ(sender.Send(http).delivery, Delivery::kPermanent);
}

}  // namespace
}  // namespace vigil::alerts
