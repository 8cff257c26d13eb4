// The paging path end to end in one process, with a fake clock and a fake sender over a
// real SQLite store: incident engine decisions -> outbox -> pager (on-call, quiet hours,
// destinations) -> channel requests; escalation and acknowledgement; silences and
// inhibition; rate budgets with digests, failover and waiting; dead deliveries.
#include "alerts/pager.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "alerts/incident_engine.h"
#include "tests/testing/temp_dir.h"

namespace vigil::alerts {
namespace {

using std::chrono::minutes;
using std::chrono::seconds;
using ::testing::HasSubstr;
using ::testing::Not;

// 2027-01-15T08:00:00Z, a Friday: 16:00 in Shanghai.
constexpr int64_t kStartSeconds = 1'800'000'000;

constexpr const char* kPaging = R"yaml(
public_url: https://vigil.example.com/
time_zone: Asia/Shanghai
channels:
  cs-wecom: {type: wecom, url: "http://127.0.0.1:9/cgi-bin/webhook/send?key=cs", budget_per_minute: 3, failover: cs-mail}
  advisor-ding: {type: dingtalk, url: "http://127.0.0.1:9/robot/send?access_token=adv", secret: SECabc}
  cs-mail: {type: email, smtp_url: "smtp://127.0.0.1:9", from: "vigil@example.com", to: [cs-team@example.com]}
  ops-hook: {type: webhook, url: "http://127.0.0.1:9/hook", secret: s3cret}
people:
  alice: {name: 王丽, contacts: [{channel: cs-wecom, mention: "13800000001"}, {channel: cs-mail, mention: alice@example.com}]}
  bob: {name: Bob, contacts: [{channel: cs-wecom, mention: "13800000002"}]}
  carol: {name: 陈静, contacts: [{channel: advisor-ding, mention: "13900000003"}]}
roles:
  customer_service:
    members: [alice, bob]
    rotation: {every: week, start: "2027-01-04 09:00"}
  crisis_advisor:
    members: [carol]
    quiet_hours: {from: "22:00", to: "08:00", pages_at: high}
policies:
  default:
    levels:
      - {notify: [owner], ack_within: 10m}
      - {notify: [role:crisis_advisor], ack_within: 15m}
    repeat_last: 1
  legal:
    levels: [{notify: [person:carol]}]
routes:
  - {match: {category: privacy_leak}, policy: legal}
dead_letter_channel: ops-hook
)yaml";

class FakeSender : public Sender {
 public:
  DeliveryOutcome Send(const OutgoingRequest& request) override {
    requests.push_back(request);
    DeliveryOutcome outcome;
    outcome.delivery = fail ? Delivery::kRetryable : Delivery::kDelivered;
    outcome.status = fail ? 503 : 200;
    outcome.body = fail ? "" : R"({"errcode":0,"errmsg":"ok","code":0})";
    outcome.detail = fail ? "503" : "200";
    return outcome;
  }
  std::vector<OutgoingRequest> requests;
  bool fail = false;
};

class PagerTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto paging = ParsePagingConfig(kPaging, "paging.yaml");
    ASSERT_TRUE(paging.ok()) << paging.error().message;
    paging_ = *paging;
    store_ = OpenSqliteStore((dir_ / "vigil.db").string()).value();
    EngineOptions options;
    options.policy_for = [this](const Incident& i) { return paging_->PolicyFor(i); };
    engine_ = std::make_unique<IncidentEngine>(clock_, options);
    pager_ = std::make_unique<Pager>(*store_, clock_, paging_, sender_,
                                     PagerOptions{"", "link-secret", 3});
    dispatcher_ = std::make_unique<OutboxDispatcher>(
        *store_, clock_, DeliverBatchFn([this](const std::vector<OutboxEntry>& due) {
          return pager_->Deliver(due);
        }),
        DispatcherOptions{.max_attempts = 2},
        [this](const OutboxEntry& e, const std::string& error) { pager_->OnDead(e, error); });
  }

  HitEvent Hit(const std::string& post, const std::string& community = "拾光吧",
               rules::Severity severity = rules::Severity::kMedium,
               rules::Category category = rules::Category::kComplaint) {
    HitEvent hit;
    hit.rule_id = category == rules::Category::kPrivacyLeak ? "privacy.id" : "complaint.refund";
    hit.incident_key =
        hit.rule_id + "|community=" + community + "|" + std::string(rules::SeverityName(severity));
    hit.category = category;
    hit.severity = severity;
    hit.owner = "customer_service";
    hit.community = community;
    hit.post_id = post;
    hit.excerpt = "退款一个月了还没到账 " + post;
    hit.at = clock_.Now();
    return hit;
  }
  void Apply(Batch& batch) { ASSERT_TRUE(store_->Apply(batch).ok()); }
  void Hits(std::vector<HitEvent> hits) {
    Batch batch;
    engine_->OnHits(hits, batch);
    Apply(batch);
  }
  void Tick() {
    Batch batch;
    engine_->Tick(batch);
    Apply(batch);
  }
  // Expands decisions, then delivers what they became.
  void Dispatch() {
    while (dispatcher_->RunOnce() > 0 && !StoreIdle()) {
    }
  }
  bool StoreIdle() { return store_->PendingOutbox(100, clock_.NowMillis())->empty(); }
  std::vector<std::string> Urls() const {
    std::vector<std::string> urls;
    for (const auto& r : sender_.requests) urls.push_back(r.url.substr(0, r.url.find('?')));
    return urls;
  }
  std::vector<AuditEntry> Timeline(int64_t id) { return store_->GetIncident(id)->value().timeline; }

  testing::TempDir dir_;
  FakeClock clock_{TimePoint(seconds(kStartSeconds))};
  std::shared_ptr<const PagingConfig> paging_;
  std::unique_ptr<StateStore> store_;
  std::unique_ptr<IncidentEngine> engine_;
  FakeSender sender_;
  std::unique_ptr<Pager> pager_;
  std::unique_ptr<OutboxDispatcher> dispatcher_;
};

TEST_F(PagerTest, PagesTheOwnersOnCallMemberOnTheirChannelWithMentionAndSignedAckLink) {
  Hits({Hit("p1")});
  Dispatch();
  // Bob has the second week of the rotation that started on Monday 4 January at 09:00.
  ASSERT_EQ(sender_.requests.size(), 1u);
  const OutgoingRequest& page = sender_.requests[0];
  EXPECT_EQ(page.url, "http://127.0.0.1:9/cgi-bin/webhook/send?key=cs");
  EXPECT_THAT(page.body, HasSubstr("13800000002"));
  EXPECT_THAT(page.body, Not(HasSubstr("13800000001")));
  EXPECT_THAT(page.body, HasSubstr("https://vigil.example.com/api/v1/incidents/1"));
  EXPECT_THAT(page.body, HasSubstr("退款一个月了还没到账 p1"));
  const std::string link = pager_->AckUrl(1, "bob");
  EXPECT_THAT(page.body, HasSubstr(link.substr(link.find("sig=") + 4)));
  EXPECT_TRUE(pager_->CheckAck(1, "bob", link.substr(link.find("sig=") + 4)));
  EXPECT_FALSE(pager_->CheckAck(2, "bob", link.substr(link.find("sig=") + 4)));
  EXPECT_FALSE(pager_->CheckAck(1, "alice", link.substr(link.find("sig=") + 4)));

  const auto timeline = Timeline(1);
  ASSERT_EQ(timeline.size(), 2u);
  EXPECT_EQ(timeline[1].action, "notified");
  EXPECT_EQ(timeline[1].detail, "page (level 0): Bob (bob, customer_service on call) on cs-wecom");
  const auto deliveries = store_->GetIncident(1)->value().deliveries;
  ASSERT_EQ(deliveries.size(), 1u);
  EXPECT_EQ(deliveries[0].destination, "cs-wecom");
  EXPECT_EQ(deliveries[0].state, "delivered");
  EXPECT_EQ(deliveries[0].idempotency_key, "incident-1-open/cs-wecom");
}

TEST_F(PagerTest, EscalatesAtTheTimeoutAndAnAcknowledgementStopsItAndTellsEveryonePaged) {
  Hits({Hit("p1")});
  Dispatch();
  clock_.Advance(minutes(10) - seconds(1));
  Tick();
  Dispatch();
  EXPECT_EQ(sender_.requests.size(), 1u) << "not before ack_within";
  clock_.Advance(seconds(1));
  Tick();
  Dispatch();
  ASSERT_EQ(sender_.requests.size(), 2u);
  EXPECT_EQ(Urls()[1], "http://127.0.0.1:9/robot/send");
  EXPECT_THAT(sender_.requests[1].url, HasSubstr("&timestamp="));  // DingTalk signs
  EXPECT_THAT(sender_.requests[1].body, HasSubstr("13900000003"));

  Batch ack;
  ASSERT_TRUE(engine_->Acknowledge(1, "carol", ack).ok());
  Apply(ack);
  Dispatch();
  // The acknowledge notice goes to both destinations that were paged, mentioning nobody.
  ASSERT_EQ(sender_.requests.size(), 4u);
  const std::vector<std::string> urls = Urls();
  std::vector<std::string> notice_urls(urls.begin() + 2, urls.end());
  std::sort(notice_urls.begin(), notice_urls.end());
  EXPECT_EQ(notice_urls, (std::vector<std::string>{"http://127.0.0.1:9/cgi-bin/webhook/send",
                                                   "http://127.0.0.1:9/robot/send"}));
  for (size_t i = 2; i < 4; ++i) {
    EXPECT_THAT(sender_.requests[i].body, HasSubstr("carol"));
    EXPECT_THAT(sender_.requests[i].body, Not(HasSubstr("1380000000")));
  }
  clock_.Advance(minutes(60));
  Tick();
  Dispatch();
  EXPECT_EQ(sender_.requests.size(), 4u) << "no escalation after an acknowledgement";
}

TEST_F(PagerTest, QuietHoursSkipARoleBelowItsFloorButNotAbove) {
  // 23:00 in Shanghai.
  clock_.Advance(std::chrono::hours(7));
  Hits({Hit("p1")});
  Dispatch();
  clock_.Advance(minutes(10));
  Tick();
  Dispatch();
  EXPECT_EQ(sender_.requests.size(), 1u) << "the crisis advisor sleeps through a medium incident";
  EXPECT_THAT(Timeline(1).back().detail,
              HasSubstr("role crisis_advisor: quiet hours, not paged (medium is below high)"));

  Hits({Hit("p2", "另一个吧", rules::Severity::kHigh)});
  Dispatch();
  clock_.Advance(minutes(10));
  Tick();
  Dispatch();
  EXPECT_EQ(Urls().back(), "http://127.0.0.1:9/robot/send") << "high reaches the floor";
}

TEST_F(PagerTest, RoutesChooseThePolicy) {
  Hits({Hit("p1", "c", rules::Severity::kHigh, rules::Category::kPrivacyLeak)});
  Dispatch();
  ASSERT_EQ(sender_.requests.size(), 1u);
  EXPECT_EQ(Urls()[0], "http://127.0.0.1:9/robot/send") << "privacy goes to carol (legal policy)";
}

TEST_F(PagerTest, OverBudgetPagesFoldIntoOneDigestAndNothingIsDropped) {
  std::vector<HitEvent> hits;
  for (int i = 0; i < 10; ++i)
    hits.push_back(Hit("p" + std::to_string(i), "c" + std::to_string(i)));
  Hits(hits);
  Dispatch();
  // Budget 3: two pages on their own, the other eight folded into one digest.
  ASSERT_EQ(sender_.requests.size(), 3u);
  EXPECT_THAT(sender_.requests[2].body, HasSubstr("Digest of 8 pages"));
  for (int i = 2; i < 10; ++i) {
    EXPECT_THAT(sender_.requests[2].body, HasSubstr("/api/v1/incidents/" + std::to_string(i + 1)));
  }
  EXPECT_EQ(store_->CountOutbox()->pending, 0);
  EXPECT_EQ(pager_->stats().digests.load(), 1u);
  EXPECT_EQ(pager_->stats().folded.load(), 8u);
  const ChannelStats& wecom = pager_->channel_stats().at("cs-wecom");
  EXPECT_EQ(wecom.folded.load(), 8u);
  EXPECT_EQ(wecom.sent.load(), 3u) << "two pages and the digest";
  EXPECT_EQ(pager_->channel_stats().at("cs-mail").sent.load(), 0u);
}

TEST_F(PagerTest, ASpentBudgetFailsOverToTheSecondChannel) {
  std::vector<HitEvent> hits;
  for (int i = 0; i < 3; ++i) hits.push_back(Hit("p" + std::to_string(i), "c" + std::to_string(i)));
  Hits(hits);
  Dispatch();
  ASSERT_EQ(sender_.requests.size(), 3u);  // the budget is spent
  Hits({Hit("p9", "c9"), Hit("p10", "c10")});
  Dispatch();
  ASSERT_EQ(sender_.requests.size(), 4u);
  EXPECT_EQ(sender_.requests[3].url, "smtp://127.0.0.1:9");
  EXPECT_EQ(sender_.requests[3].rcpt_to, std::vector<std::string>{"cs-team@example.com"});
  EXPECT_THAT(sender_.requests[3].body, HasSubstr("cs-wecom is rate limited; sent via cs-mail"));
  EXPECT_EQ(store_->CountOutbox()->pending, 0);
  EXPECT_EQ(pager_->channel_stats().at("cs-wecom").failover.load(), 2u);
  EXPECT_EQ(pager_->channel_stats().at("cs-mail").sent.load(), 1u);
}

TEST_F(PagerTest, WithoutFailoverPagesWaitForTheBudgetWithoutSpendingAttempts) {
  auto paging = std::make_shared<PagingConfig>(*paging_);
  paging->channels["cs-wecom"].failover.clear();
  pager_ = std::make_unique<Pager>(*store_, clock_, paging, sender_, PagerOptions{"", "k", 3});
  std::vector<HitEvent> hits;
  for (int i = 0; i < 5; ++i) hits.push_back(Hit("p" + std::to_string(i), "c" + std::to_string(i)));
  Hits(hits);
  Dispatch();
  ASSERT_EQ(sender_.requests.size(), 3u);  // 2 + a digest of 3
  Hits({Hit("p9", "c9")});
  Dispatch();
  EXPECT_EQ(sender_.requests.size(), 3u);
  EXPECT_EQ(store_->CountOutbox()->pending, 1) << "waiting, not dropped";
  EXPECT_EQ(store_->PendingOutbox(10)->front().attempts, 0) << "waiting is not a failed attempt";
  EXPECT_EQ(pager_->channel_stats().at("cs-wecom").deferred.load(), 1u);
  clock_.Advance(seconds(21));  // one message every 20 s at 3 a minute (and a second's rounding)
  Dispatch();
  ASSERT_EQ(sender_.requests.size(), 4u);
  EXPECT_THAT(sender_.requests[3].body, HasSubstr("/api/v1/incidents/6"));
}

TEST_F(PagerTest, ASilencedIncidentRecordsHitsHoldsPagesAndStillSendsItsResolveNotice) {
  Hits({Hit("p1")});
  Dispatch();
  ASSERT_EQ(sender_.requests.size(), 1u);
  Silence silence;
  silence.matchers = {{"rule", "complaint.*"}, {"community", "拾光吧"}};
  silence.ends_ms = clock_.NowMillis() + 3600'000;
  silence.author = "alice";
  silence.comment = "known: refund backlog, fix deploying";
  Batch batch;
  ASSERT_TRUE(engine_->AddSilence(silence, batch).ok());
  Apply(batch);
  clock_.Advance(minutes(30));
  Hits({Hit("p2")});
  Tick();
  Dispatch();
  EXPECT_EQ(sender_.requests.size(), 1u) << "the escalation is held while silenced";
  EXPECT_EQ(store_->GetIncident(1)->value().incident.hits, 2) << "hits still count";
  EXPECT_THAT(Timeline(1).back().detail, HasSubstr("silenced by silence 1 (alice: known: refund"));
  Batch resolve;
  ASSERT_TRUE(engine_->Resolve(1, "alice", "fixed", resolve).ok());
  Apply(resolve);
  Dispatch();
  ASSERT_EQ(sender_.requests.size(), 2u);
  EXPECT_THAT(sender_.requests[1].body, HasSubstr("Resolved"));
  EXPECT_EQ(Urls()[1], "http://127.0.0.1:9/cgi-bin/webhook/send");
}

TEST_F(PagerTest, APageHeldBySilenceGoesOutWhenTheSilenceEnds) {
  Silence silence;
  silence.matchers = {{"community", "拾光吧"}};
  silence.ends_ms = clock_.NowMillis() + 600'000;
  silence.author = "alice";
  silence.comment = "maintenance";
  Batch batch;
  ASSERT_TRUE(engine_->AddSilence(silence, batch).ok());
  Apply(batch);
  Hits({Hit("p1")});
  Tick();
  Dispatch();
  EXPECT_TRUE(sender_.requests.empty());
  clock_.Advance(minutes(10));
  Tick();
  Dispatch();
  ASSERT_EQ(sender_.requests.size(), 1u);
  EXPECT_THAT(Timeline(1)[2].action, "page released");
}

TEST_F(PagerTest, ACriticalIncidentInACommunityInhibitsLowerOnesThere) {
  Hits({Hit("p1", "拾光吧", rules::Severity::kCritical)});
  Hits(
      {Hit("p2", "拾光吧", rules::Severity::kMedium), Hit("p3", "别处", rules::Severity::kMedium)});
  Dispatch();
  EXPECT_EQ(sender_.requests.size(), 2u) << "the critical one and the one elsewhere";
  EXPECT_THAT(Timeline(2).back().detail, HasSubstr("inhibited by critical incident 1 in 拾光吧"));
  Batch resolve;
  ASSERT_TRUE(engine_->Resolve(1, "carol", "handled", resolve).ok());
  Apply(resolve);
  Tick();
  Dispatch();
  // The resolve notice of incident 1 and the released page of incident 2, in one digest
  // (the robot's budget of 3 has one message left).
  EXPECT_EQ(sender_.requests.size(), 3u);
  EXPECT_THAT(sender_.requests.back().body, HasSubstr("/api/v1/incidents/2"));
  EXPECT_THAT(sender_.requests.back().body, HasSubstr("Resolved"));
  EXPECT_EQ(Timeline(2).back().action, "notified");
}

TEST_F(PagerTest, ADeadDeliveryIsRecordedAndAnnouncedOnTheDeadLetterChannel) {
  sender_.fail = true;
  Hits({Hit("p1")});
  Dispatch();  // expanded; the first attempt fails
  sender_.fail = false;
  // Only the dead-letter notice may go through: fail the robot by URL from now on.
  clock_.Advance(minutes(1));
  sender_.fail = true;
  Dispatch();  // the second attempt fails: dead (max_attempts 2); so does the notice's first
  sender_.fail = false;
  clock_.Advance(minutes(1));
  Dispatch();  // the notice on ops-hook, retried
  EXPECT_EQ(store_->CountOutbox()->dead, 1);
  EXPECT_EQ(store_->CountOutbox()->pending, 0);
  EXPECT_EQ(pager_->channel_stats().at("cs-wecom").failed.load(), 2u);
  EXPECT_EQ(pager_->channel_stats().at("cs-wecom").dead.load(), 1u);
  EXPECT_EQ(pager_->channel_stats().at("ops-hook").failed.load(), 1u);
  EXPECT_EQ(pager_->channel_stats().at("ops-hook").sent.load(), 1u);
  ASSERT_FALSE(sender_.requests.empty());
  EXPECT_EQ(sender_.requests.back().url, "http://127.0.0.1:9/hook");
  EXPECT_FALSE(sender_.requests.back().Header("X-Vigil-Signature").empty());
  bool recorded = false;
  for (const AuditEntry& e : Timeline(1)) {
    recorded |= e.action == "delivery failed" &&
                e.detail.find("page to cs-wecom gave up after 2 attempts") != std::string::npos;
  }
  EXPECT_TRUE(recorded);
}

TEST_F(PagerTest, AnExpansionRepeatedAfterACrashSendsNothingTwice) {
  Hits({Hit("p1")});
  const OutboxEntry decision = store_->PendingOutbox(10)->front();
  Dispatch();
  ASSERT_EQ(sender_.requests.size(), 1u);
  // The same decision expanded again (as after a crash before it was marked).
  const std::vector<DeliveryResult> again = pager_->Deliver({decision});
  EXPECT_EQ(again[0].kind, DeliveryResult::Kind::kDelivered);
  Dispatch();
  EXPECT_EQ(sender_.requests.size(), 1u);
}

TEST(PagingConfigTest, EveryProblemIsReportedWithItsPosition) {
  auto paging = ParsePagingConfig(R"yaml(
channels:
  robot: {type: wecom}
  hook: {type: carrier-pigeon, url: x}
people:
  alice: {contacts: [{channel: nowhere}]}
roles:
  cs: {members: [alice, zed], rotation: {every: fortnight, start: "2027-13-01 09:00"}, time_zone: Mars/Base}
policies:
  default: {levels: [{notify: [role:legal], ack_within: soon}]}
routes:
  - {match: {category: gossip}, policy: missing}
)yaml",
                                  "paging.yaml");
  ASSERT_FALSE(paging.ok());
  const std::string& m = paging.error().message;
  EXPECT_THAT(m, HasSubstr("paging.yaml:3:10: channel robot (wecom): 'url' is required\n"
                           "paging.yaml:4:16"));
  EXPECT_THAT(m, HasSubstr("paging.yaml:4:16: channel hook: unknown type 'carrier-pigeon'"));
  EXPECT_THAT(m, HasSubstr("paging.yaml:6:32: person alice: no channel named 'nowhere'"));
  EXPECT_THAT(m, HasSubstr("time_zone: unknown time zone"));
  EXPECT_THAT(m, HasSubstr("role cs: no person named 'zed'"));
  EXPECT_THAT(m, HasSubstr("rotation.every must be day or week, not 'fortnight'"));
  EXPECT_THAT(m, HasSubstr("rotation.start: "));
  EXPECT_THAT(m, HasSubstr("policy default: 'role:legal' is not owner"));
  EXPECT_THAT(m, HasSubstr("ack_within must be a duration"));
  EXPECT_THAT(m, HasSubstr("match.category: unknown category 'gossip'"));
  EXPECT_THAT(m, HasSubstr("route: no policy named 'missing'"));
}

}  // namespace
}  // namespace vigil::alerts
