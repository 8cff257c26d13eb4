#!/usr/bin/env python3
"""Writes tests/data/demo_feed.jsonl: the bundled demo feed of the README's first command.

About 300 posts from one evening hour of the fictional brand 拾光 / Lumio across Chinese and
English communities. Most are everyday chatter (from gen_corpus.py's vocabulary); about
one in seven should hit the shipped packs (rules/packs) in believable ways:

  - 25 refund-delay complaints in the 拾光吧 community within 7 minutes, so that
    complaint.zh.refund_delay (20 hits in 10 minutes per community) opens an incident;
  - a resident ID, a phone number and a bank card posted in clear (synthetic values that
    pass their checksums), which privacy rules catch and mask;
  - an influencer post breaking the Advertising Law's absolute-terms ban;
  - guaranteed-return and stock-tip spam in a members' group;
  - angry posts, a media threat, a call for collective action, English complaints;
  - and near-misses that must stay quiet (refund received, anti-fraud warnings, the
    official "如遇质量问题请联系客服" notice).

Deterministic: the same file every run.  Usage: gen_demo_feed.py [--out FILE]
"""
from __future__ import annotations

import argparse
import json
import os
import random
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_corpus as gc  # noqa: E402

START = 1718712000  # 2024-06-18T12:00:00Z = 20:00 in Beijing, the evening of the 618 sale
HOUR = 3600

# ----------------------------------------------------------------------------- the burst

BURST_OPEN = ["618买的耳机，", "我也一样，", "+1，", "同样的情况，", "楼主别急，我更惨，", "618下单的空气炸锅，",
              "上周退的货，", "说好的极速退款，", "商家早就签收了退货，", "第三次来问了，", "真的服了，",
              "蹲一个结果，", "我家也是，", "这个月第二次了，", "退货单号早就填了，"]
BURST_REFUND = ["退款", "退款", "退款", "退货退款", "退货款", "退款申请", "押金"]
BURST_DELAY = ["到现在还没到账", "拖了{d}天还没到账", "等了{d}天还没有到账", "石沉大海", "一直不处理",
               "拖着不给退，已经{d}天了", "还没退回来，客服说在审核", "提交{d}天了还没到账", "迟迟没有到账"]
BURST_CLOSE = ["。", "，客服只会说耐心等待。", "，到底什么时候能到？", "，618就这么对老用户？", "，有没有人一样的？",
               "，工单已经催了三次。", "。", "，说好的48小时呢？", "，再这样我就去维权了。", "。"]

ID_LEAKS = [
    ("拾光吧", "tieba", "我的身份证号是{id}，实名认证都做了，凭什么说信息不符不给退款？"),
    ("拾光会员群", "wechat", "帮我朋友问一下，她身份证{id}，会员资料被人改了怎么办"),
]
PHONE_LEAK = ("拾光吧", "tieba", "那个自称能帮大家加急退款的人是骗子，他的手机号{phone}，大家别信")
CARD_LEAK = ("拾光吧", "tieba", "等不及了，退款直接打到我卡上吧：{card}，户名李四")

OTHER_HITS = [
    ("好物分享", "xiaohongshu", "拾光这款面膜采用顶级原料，全网最低价！今晚直播间下单再送小样", "ad"),
    ("好物分享", "xiaohongshu", "连续三年销量第一的拾光蓝牙耳机，行业领导品牌，闭眼入", "ad"),
    ("拾光会员群", "wechat", "群友们看过来，合作平台理财保本保息，年化12%，随存随取，想了解的私聊", "finance"),
    ("拾光会员群", "wechat", "加老师微信，免费领牛股，跟着老师操作稳定翻倍", "finance"),
    ("拾光官方微博", "weibo", "垃圾客服，太差了，态度恶劣，真的气死了，失望透顶！", "angry"),
    ("拾光官方微博", "weibo", "再不解决我就找媒体，全网曝光你们", "media"),
    ("拾光吧", "tieba", "同样退款没到账的拉个群吧，一起维权", "collective"),
    ("数码爱好者", "weibo", "新买的拾光充电宝半夜自燃，差点把床烧了", "safety"),
    ("r/Lumio", "reddit", "Returned the Lumio blender three weeks ago and I'm still waiting for my refund.", "en"),
    ("r/Lumio", "reddit", "My package was marked as delivered but it never showed up. Support hung up on me.", "en"),
    ("@LumioHQ mentions", "twitter", "This is the worst service I have ever had. Absolutely disgusting, I hate this company.", "angry"),
    ("@LumioHQ mentions", "twitter", "@LumioHQ fix it or I'm going to the press with the screenshots.", "media"),
    ("Lumio Community #help", "discord", "Terrible, horrible experience. The staff were rude and the product is garbage.", "angry"),
    ("r/Lumio", "reddit", "Leave a 5-star review and they send you a $10 gift card, just got the card in the box.", "reviews"),
]

NEAR_MISSES = [
    ("拾光吧", "tieba", "退款已到账，感谢客服，大家耐心等等应该都会到的"),
    ("拾光吧", "tieba", "请问怎么申请退款？需要寄回商品吗"),
    ("拾光官方微博", "weibo", "【官方】如遇质量问题请联系在线客服，我们包退包换。618期间退款将在1-3个工作日内原路退回。"),
    ("拾光会员群", "wechat", "官方提醒：凡是承诺保本保息、稳赚不赔的都是骗局，谨防有人冒充客服拉群"),
    ("好物分享", "xiaohongshu", "这款相机曝光补偿调节很方便，夜景也很稳"),
    ("r/Lumio", "reddit", "Refunds are usually processed within 2 weeks of us receiving the item. - Lumio team"),
    ("Lumio Community #help", "discord", "Scam alert: people pretending to be our support team on WhatsApp. We never ask for card numbers."),
]

ZH_COMMUNITIES = [("拾光官方微博", "weibo"), ("拾光会员群", "wechat"), ("拾光吧", "tieba"), ("好物分享", "xiaohongshu"),
                  ("数码爱好者", "weibo"), ("家居灵感", "xiaohongshu")]
EN_COMMUNITIES = [("r/Lumio", "reddit"), ("Lumio Community #help", "discord"), ("@LumioHQ mentions", "twitter"),
                  ("Lumio Owners Club", "facebook")]
TITLED = {"tieba", "reddit", "xiaohongshu", "facebook"}


def iso(epoch: int, zh: bool) -> str:
    return gc.rfc3339(epoch, zh)


class Feed:
    def __init__(self) -> None:
        self.rng = random.Random(618)
        self.gen = gc.Generator(618, 0.6, 0.0, pool_size=4000)
        self.posts: list[tuple[int, dict]] = []
        self.authors = 0

    def author(self, zh: bool) -> dict:
        self.authors += 1
        a = self.rng.choice(gc.ZH_NICK_A) + self.rng.choice(gc.ZH_NICK_B) if zh else \
            self.rng.choice(gc.EN_NICK_A) + "_" + self.rng.choice(gc.EN_NICK_B)
        return {"id": f"demo-u{self.authors:04d}", "name": a + str(self.rng.randint(1, 99))}

    def add(self, t: int, community: str, platform: str, body: str, zh: bool, title: str | None = None) -> None:
        rng = self.rng
        post = {"platform": platform, "community": community, "author": self.author(zh)}
        if title is None and platform in TITLED and rng.random() < 0.5:
            title = rng.choice(gc.ZH_TITLES if zh else gc.EN_TITLES)
        if title:
            post["title"] = title
        post["body"] = body
        post["lang"] = "zh" if zh else "en"
        post["created_at"] = iso(t, zh)
        likes = int(rng.paretovariate(1.5)) - 1
        post["metrics"] = {"likes": likes, "shares": int(likes * rng.random() * 0.3),
                           "replies": int(likes * rng.random() * 0.6), "followers": int(rng.paretovariate(1.2) * 40)}
        if rng.random() < 0.4:
            post["tags"] = rng.sample(gc.ZH_TAGS if zh else gc.EN_TAGS, rng.randint(1, 2))
        self.posts.append((t, post))

    def chatter(self, count: int) -> None:
        rng = self.rng
        for _ in range(count):
            zh = rng.random() < 0.65
            community, platform = rng.choice(ZH_COMMUNITIES if zh else EN_COMMUNITIES)
            body = self.gen.body(zh)
            if rng.random() < 0.5:  # in brand communities most brand talk is about the house brand
                for brand in (gc.ZH_BRANDS if zh else gc.EN_BRANDS):
                    body = body.replace(brand, "拾光" if zh else "Lumio")
            self.add(START + rng.randint(0, HOUR - 1), community, platform, body, zh)

    def burst(self) -> None:
        rng = self.rng
        t = START + 20 * 60
        for i in range(25):
            body = (rng.choice(BURST_OPEN) + rng.choice(BURST_REFUND) + rng.choice(BURST_DELAY).format(d=rng.randint(5, 20))
                    + rng.choice(BURST_CLOSE))
            self.add(t, "拾光吧", "tieba", body, True, title=rng.choice(["退款问题", "还有人没收到退款吗", None, None]))
            t += rng.randint(10, 24)  # 25 posts in about 7 minutes

    def leaks(self) -> None:
        rng = self.rng
        t = START + 23 * 60
        for community, platform, text in ID_LEAKS:
            self.add(t, community, platform, text.format(id=gc.resident_id(rng)), True)
            t += 9 * 60
        community, platform, text = PHONE_LEAK
        self.add(START + 26 * 60 + 5, community, platform, text.format(phone=gc.mobile(rng)), True)
        community, platform, text = CARD_LEAK
        self.add(START + 24 * 60 + 40, community, platform, text.format(card=gc.luhn_number(rng, "6222", 19)), True)

    def others(self) -> None:
        rng = self.rng
        for community, platform, text, _ in OTHER_HITS:
            zh = not text.isascii()
            self.add(START + rng.randint(5 * 60, HOUR - 60), community, platform, text, zh)
        for community, platform, text in NEAR_MISSES:
            zh = not text.isascii()
            self.add(START + rng.randint(0, HOUR - 1), community, platform, text, zh)

    def write(self, path: str) -> int:
        self.posts.sort(key=lambda tp: tp[0])
        with open(path, "w", encoding="utf-8", newline="\n") as f:
            for n, (_, post) in enumerate(self.posts, 1):
                post = {"id": f"demo-{n:04d}", **post, "url": f"https://{post['platform']}.example.com/p/demo-{n:04d}"}
                f.write(json.dumps(post, ensure_ascii=False, separators=(",", ":")) + "\n")
        return len(self.posts)


def main(argv: list[str] | None = None) -> int:
    here = os.path.dirname(os.path.abspath(__file__))
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", default=os.path.join(here, "..", "data", "demo_feed.jsonl"))
    args = ap.parse_args(argv)
    feed = Feed()
    feed.burst()
    feed.leaks()
    feed.others()
    feed.chatter(300 - 25 - 4 - len(OTHER_HITS) - len(NEAR_MISSES))
    os.makedirs(os.path.dirname(os.path.abspath(args.out)), exist_ok=True)
    n = feed.write(args.out)
    print(f"wrote {n} posts to {os.path.normpath(args.out)}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
