#!/usr/bin/env python3
"""Deterministic generator of Vigil rules for benchmarks and differential tests.

Writes one rule file (docs/rules.md) with --count rules, ids gen.0001, gen.0002, ...
A realistic mix:
  ~70% literal rules: `any` of 2-10 Chinese or English terms; some `all` + `near` over
       term lists, some with `unless` exclusions, some on `fields: [body]` or [title];
  ~25% regex rules (--regex-ratio): digit patterns (some with a validator: cn_mobile,
       cn_resident_id, luhn, iban, email, ipv4), \\b-bounded English word regexes, Chinese
       with \\d+ or alternations, proximity regexes;
  ~5%  rules combining literals and regexes (--mixed-ratio).
Terms come partly from the same everyday vocabulary as gen_corpus.py (so generated
rules do fire on generated corpora) and partly from risk vocabulary.

Every regex is RE2 syntax without look-around or back-references, cannot match the empty
string, contains no upper-case or full-width characters, and is checked at generation.
With --examples on, each rule gets one hit and one miss example, verified against an
approximate evaluator of the language before they are written.

Python 3.11, standard library only; same --seed, same output.

  gen_rules.py --count 1000 --seed 1 --out /tmp/rules.yaml
  gen_rules.py --count 10000 --regex-ratio 0.3 --out /tmp/rules10k.yaml
"""
from __future__ import annotations

import argparse
import os
import random
import re
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import gen_corpus as gc  # noqa: E402  (shared vocabulary and valid-value generators)

# ----------------------------------------------------------------------------- vocabulary

ZH_RISK = """
退款 退钱 退费 押金 没到账 未到账 石沉大海 一直不处理 拖着不退 投诉 维权 曝光 消协 黑猫投诉 市场监管 工商局 假货 高仿
非正品 翻新机 以次充好 货不对板 缺斤少两 质量问题 质量太差 开胶 掉色 漏水 异味 发霉 变质 过期 吃出虫子 食物中毒 拉肚子
自燃 起火 爆炸 冒烟 漏电 鼓包 烫伤 划伤 骗子 诈骗 骗钱 割韭菜 黑心 坑人 霸王条款 虚假宣传 大数据杀熟 乱收费 隐形消费
强制消费 捆绑销售 自动续费 乱扣费 重复扣款 无法提现 冻结 封号 注销不了 砍单 不发货 虚假发货 丢件 冒签 已读不回 踢皮球
态度恶劣 敷衍 打不通 挂电话 机器人回复 拒绝保修 人为损坏 拖欠工资 欠薪 暴力催收 爆通讯录 起诉 律师函 法庭见 仲裁 集体维权
拉群维权 联名投诉 受害者 讨说法 上热搜 找媒体 找记者 全网曝光 避雷 拉黑 卸载 抵制 失望透顶 垃圾 恶心 气死 太差劲 无语
保本保息 稳赚不赔 零风险 高收益 年化收益 内部认购 原始股 拉人头 返利 发展下线 资金盘 内幕消息 荐股 带单 跟着老师 稳定翻倍
牛股 涨停 庄家 喊单 配资 好评返现 刷单 删差评 最佳 最高级 国家级 全网最低 顶级 极品 万能 第一品牌 销量第一 特供 根治
无副作用 药到病除 人肉 开盒 家庭住址 身份证号 银行卡号 手机号码 密码泄露
""".split()
EN_RISK = """
refund chargeback overcharged scam scammer fraud fraudulent ripoff counterfeit knockoff defective broken faulty
recall lawsuit lawyer attorney complaint regulator ombudsman boycott uninstall unsubscribe cancellation
delayed missing stolen damaged leaking overheating explosion burned injury hospital poisoning allergic
mold expired contaminated rude ignored unresponsive escalate petition class-action viral journalist
reporter guaranteed risk-free insider pump dump signals leverage airdrop giveaway phishing impersonation
password leaked doxxed harassment discrimination racist sexist layoffs unpaid overtime strike walkout
""".split()

ZH_EVERYDAY = (gc.ZH_PRODUCTS + gc.ZH_FOODS + gc.ZH_CITIES + gc.ZH_PLACES + gc.ZH_ACTS + gc.ZH_ASPECTS
               + [b + p for b in gc.ZH_BRANDS[:8] for p in gc.ZH_PRODUCTS[:12]])
EN_EVERYDAY = [w for w in gc.EN_PRODUCTS + gc.EN_FOODS + [c.lower() for c in gc.EN_CITIES] + gc.EN_ACTS
               + gc.EN_ASPECTS + [b.lower() + " " + p for b in gc.EN_BRANDS[:6] for p in gc.EN_PRODUCTS[:10]]
               if len(w) >= 4]
EN_RISK_SINGLE = sorted({w for w in EN_RISK if re.fullmatch(r"[a-z]+", w) and len(w) >= 4})
EN_EVERYDAY_SINGLE = sorted({w for w in gc.EN_ASPECTS + gc.EN_FOODS + gc.EN_PRODUCTS
                             if re.fullmatch(r"[a-z]+", w) and len(w) >= 4})

# Probability that a term is an everyday word rather than risk vocabulary. Everyday words
# occur in most generated posts, so this sets how often generated rules fire on a
# gen_corpus.py corpus. With 1,000 rules on a default corpus: 0 -> only the ~3% planted
# posts hit (many rules each); 0.001 (default) -> about 20% of posts have a hit;
# 0.005 -> about 55%; 0.02 -> nearly all. Set by --everyday-rate.
EVERYDAY_RATE = 0.001


def _words(rng: random.Random, k: int, risk: list[str], everyday: list[str]) -> list[str]:
    out: list[str] = []
    while len(out) < k:
        w = rng.choice(everyday if rng.random() < EVERYDAY_RATE else risk)
        if w not in out:
            out.append(w)
    return out


def en_words(rng: random.Random, k: int) -> list[str]:
    return _words(rng, k, EN_RISK_SINGLE, EN_EVERYDAY_SINGLE)


def zh_words(rng: random.Random, k: int) -> list[str]:
    return _words(rng, k, ZH_RISK, ZH_EVERYDAY)


ZH_UNITS = ["天", "个月", "小时", "次", "周", "分钟", "元", "块", "单", "件"]

CATEGORIES = ["complaint", "complaint", "complaint", "compliance", "privacy_leak", "sentiment"]
SEVERITIES = ["info", "low", "low", "medium", "medium", "medium", "high", "critical"]
OWNERS = ["crisis_advisor", "investor_relations", "community_coordinator", "content_director",
          "customer_service", "legal", "data_analyst", "operations_manager"]

META = set(".^$*+?()[]{}|\\")


def rx_escape(text: str) -> str:
    """Escapes RE2 metacharacters (only those: RE2 rejects escapes of letters)."""
    return "".join("\\" + c if c in META else c for c in text)


def check_regex(expr: str) -> None:
    """Fails loudly if a generated regex is outside what Vigil accepts."""
    if re.search(r"\(\?<?[=!]|\\[1-9]|\\k<", expr):
        raise ValueError(f"look-around or back-reference in {expr!r}")
    compiled = re.compile(expr, re.ASCII | re.IGNORECASE)
    if compiled.fullmatch("") is not None:
        raise ValueError(f"regex matches the empty string: {expr!r}")
    if any(ord(c) > 127 and (c != c.lower() or 0xFF01 <= ord(c) <= 0xFF5E) for c in expr):
        raise ValueError(f"upper-case or full-width character in {expr!r}")


def yq(text: str) -> str:
    """A YAML single-quoted scalar (backslashes stay literal, quotes are doubled)."""
    return "'" + text.replace("'", "''") + "'"


def yflow(items: list[str]) -> str:
    return "[" + ", ".join(yq(i) for i in items) + "]"


# ----------------------------------------------------------------------------- regexes
# Each maker returns (regex, sample text that it matches, validator or None).


def r_digits(rng):
    n = rng.randint(6, 12)
    sample = str(rng.randint(1, 9)) + "".join(str(rng.randint(0, 9)) for _ in range(n - 1))
    return rf"\b\d{{{n}}}\b", sample, None


def r_order_code(rng):
    prefix = rng.choice(["sf", "jd", "yt", "zto", "yd", "ems", "ord", "tb"])
    lo, hi = rng.choice([(10, 13), (8, 12), (12, 15)])
    sample = prefix + "".join(str(rng.randint(0, 9)) for _ in range(lo))
    return rf"\b{prefix}\d{{{lo},{hi}}}\b", sample, None


def r_mobile(rng):
    return r"\b(1[3-9]\d{9})\b", gc.mobile(rng), "cn_mobile"


def r_resident_id(rng):
    return r"\b(\d{17}[\dx])\b", gc.resident_id(rng).lower(), "cn_resident_id"


def r_card(rng):
    return r"\b([2-6]\d{3}(?:[- ]?\d{4}){2}[- ]?\d{1,4}(?:[- ]?\d{1,3})?)\b", gc.luhn_number(rng), "luhn"


def r_iban(rng):
    return (r"\b([a-z]{2}\d{2}(?: ?[a-z0-9]{4}){2,7}(?: ?[a-z0-9]{1,3})?)\b",
            rng.choice(["gb82west12345698765432", "de89370400440532013000", "nl91abna0417164300"]), "iban")


def r_email(rng):
    user = rng.choice(gc.EN_NICK_A) + "." + rng.choice(gc.EN_NICK_B) + str(rng.randint(1, 99))
    domain = rng.choice(["example.com", "example.org", "example.net", "mail.example.cn"])
    return r"\b([a-z0-9][a-z0-9._%+-]*@[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,})\b", f"{user}@{domain}", "email"


def r_ipv4(rng):
    sample = ".".join(str(rng.randint(1, 254)) for _ in range(4))
    return r"\b((?:\d{1,3}\.){3}\d{1,3})\b", sample, "ipv4"


def r_version(rng):
    word = rng.choice(["v", "version ", "ver", "build ", "固件", "版本"])
    return rf"{rx_escape(word)}\d+\.\d+(?:\.\d+)?", f"{word}{rng.randint(1, 20)}.{rng.randint(0, 9)}", None


def r_en_alternation(rng):
    words = en_words(rng, rng.randint(2, 6))
    return r"\b(?:" + "|".join(words) + r")\b", rng.choice(words), None


def r_en_inflected(rng):
    w = en_words(rng, 1)[0]
    return rf"\b{w}(?:s|es|ed|ing)?\b", w + rng.choice(["", "s", "ed", "ing"]), None


def r_en_phrase(rng):
    a, *bs = en_words(rng, 1 + rng.randint(1, 4))
    return rf"\b{a}\s+(?:{'|'.join(bs)})\b", f"{a} {rng.choice(bs)}", None


def r_en_window(rng):
    a, b = en_words(rng, 2)
    k = rng.randint(1, 4)
    return rf"\b{a}\W+(?:\w+\W+){{0,{k}}}{b}\b", f"{a}, the {b}", None


def r_zh_count(rng):
    t = zh_words(rng, 1)[0]
    units = rng.sample(ZH_UNITS, rng.randint(1, 4))
    return rf"{rx_escape(t)}(?:了)?\d+(?:{'|'.join(units)})", f"{t}{rng.randint(2, 60)}{units[0]}", None


def r_zh_alternation(rng):
    ts = rng.sample(ZH_RISK, rng.randint(2, 5))
    tail = rng.choice(["", "了", "(?:了|过)?"])
    sample = rng.choice(ts) + ("了" if tail == "了" else "")
    return "(?:" + "|".join(rx_escape(t) for t in ts) + ")" + tail, sample, None


def r_zh_window(rng):
    a, b = zh_words(rng, 2)
    k = rng.choice([5, 8, 10, 15, 20])
    return rf"{rx_escape(a)}.{{0,{k}}}{rx_escape(b)}", f"{a}，真的{b}", None


def r_zh_money(rng):
    t = rng.choice(ZH_RISK)
    return rf"\d+(?:\.\d+)?(?:元|块钱?|万)(?:的)?{rx_escape(t)}", f"{rng.randint(5, 999)}元的{t}", None


def r_zh_ordinal(rng):
    t = zh_words(rng, 1)[0]
    return rf"第\d+(?:次|天|回){rx_escape(t)}", f"第{rng.randint(2, 9)}次{t}", None


REGEX_MAKERS = [
    (r_digits, 6), (r_order_code, 6), (r_mobile, 4), (r_resident_id, 4), (r_card, 3), (r_iban, 1),
    (r_email, 2), (r_ipv4, 1), (r_version, 3), (r_en_alternation, 10), (r_en_inflected, 8),
    (r_en_phrase, 6), (r_en_window, 4), (r_zh_count, 10), (r_zh_alternation, 10), (r_zh_window, 8),
    (r_zh_money, 4), (r_zh_ordinal, 4),
]

# ----------------------------------------------------------------------------- examples check
# An approximation of the matcher, good enough to verify generated examples: literals are
# lower-case substrings; regexes run case-insensitively with ASCII classes.

NEUTRAL_ZH = ["今天天气不错，适合出门走走。", "周末在家看书，喝了杯茶。", "楼下的花开了，拍了几张照片。"]
NEUTRAL_EN = ["Nice weather today, went for a walk.", "Spent the weekend reading at home.",
              "The flowers downstairs are blooming."]


def _matches(pattern: str, text: str, validator: str | None) -> bool:
    if pattern.startswith("re:"):
        for m in re.finditer(pattern[3:], text, re.ASCII | re.IGNORECASE):
            value = m.group(1) if m.re.groups and m.group(1) is not None else m.group(0)
            if validator is None or _validate(validator, value):
                return True
        return False
    return pattern.lower() in text.lower()


def _validate(name: str, value: str) -> bool:
    v = value.replace(" ", "").replace("-", "").lower()
    if name == "cn_mobile":
        return re.fullmatch(r"1[3-9]\d{9}", v) is not None
    if name == "cn_resident_id":
        if not re.fullmatch(r"\d{17}[\dx]", v):
            return False
        return "10x98765432"[sum(int(c) * w for c, w in zip(v, gc.ID_WEIGHTS)) % 11] == v[17]
    if name == "luhn":
        if not v.isdigit() or not 13 <= len(v) <= 19:
            return False
        total = 0
        for i, c in enumerate(reversed(v)):
            d = int(c) * (2 if i % 2 else 1)
            total += d - 9 if d > 9 else d
        return total % 10 == 0
    if name == "iban":
        s = v[4:] + v[:4]
        return v.isalnum() and v[:2].isalpha() and int("".join(str(int(c, 36)) for c in s)) % 97 == 1
    if name == "email":
        return re.fullmatch(r"[a-z0-9._%+-]+@[a-z0-9-]+(\.[a-z0-9-]+)*\.[a-z]{2,}", v) is not None
    if name == "ipv4":
        parts = value.split(".")
        return len(parts) == 4 and all(p.isdigit() and int(p) <= 255 and (p == "0" or p[0] != "0") for p in parts)
    return True


def fires(rule: dict, lists: dict, text: str) -> bool:
    expand = lambda item: lists[item[1:]] if item.startswith("$") else [item]  # noqa: E731
    when = rule["when"]
    if any(_matches(p, text, None) for u in when.get("unless", []) for p in expand(u)):
        return False
    groups = [expand(i) for i in when.get("all", [])]
    if when.get("any"):
        groups.append([p for i in when["any"] for p in expand(i)])
    return all(any(_matches(p, text, when.get("validate")) for p in g) for g in groups)


# ----------------------------------------------------------------------------- rules


class RuleGen:
    def __init__(self, seed: int, regex_ratio: float, mixed_ratio: float, examples: bool, prefix: str = "gen"):
        self.rng = random.Random(seed)
        self.prefix = prefix
        self.regex_ratio = regex_ratio
        self.mixed_ratio = mixed_ratio
        self.examples = examples
        self.lists: dict[str, list[str]] = {}
        self.shared: list[str] = []
        for i in range(1, 21):  # lists shared by several rules, as real packs have
            zh = i % 3 != 0
            name = f"{prefix}_shared_{i:02d}"
            self.lists[name] = self.terms(zh, self.rng.randint(3, 8))
            self.shared.append(name)

    def terms(self, zh: bool, k: int) -> list[str]:
        """k distinct terms, mostly risk vocabulary (see EVERYDAY_RATE)."""
        return _words(self.rng, k, ZH_RISK, ZH_EVERYDAY) if zh else _words(self.rng, k, EN_RISK, EN_EVERYDAY)

    def regex(self):
        makers, weights = zip(*REGEX_MAKERS)
        expr, sample, validator = self.rng.choices(makers, weights)[0](self.rng)
        check_regex(expr)
        if not re.search(expr, sample, re.ASCII | re.IGNORECASE):
            raise AssertionError(f"sample {sample!r} does not match {expr!r}")
        return expr, sample, validator

    def header(self, rid: str, kind: str) -> dict:
        rng = self.rng
        rule = {"id": rid, "category": rng.choice(CATEGORIES), "severity": rng.choice(SEVERITIES),
                "owner": rng.choice(OWNERS), "tags": [self.prefix, kind]}
        if rng.random() < 0.15:
            rule["fields"] = rng.choice([["body"], ["title"], ["title", "body"]])
        if rng.random() < 0.05:
            rule["status"] = rng.choice(["experimental", "disabled"])
        if rng.random() < 0.3:
            rule["incident"] = {"group_by": [rng.choice(["community", "platform", "author"])],
                                "count": rng.choice([1, 3, 5, 10, 20]), "within": rng.choice(["5m", "10m", "1h"])}
        return rule

    def literal_rule(self, rid: str) -> tuple[dict, list[str]]:
        rng = self.rng
        zh = rng.random() < 0.6
        rule = self.header(rid, "literal")
        hit_parts: list[str] = []
        shape = rng.random()
        if shape < 0.22:  # all + near over two or three lists
            groups = []
            for g in range(rng.choice([2, 2, 3])):
                if rng.random() < 0.3:
                    name = rng.choice(self.shared)
                else:
                    name = f"{self.prefix}_l{rid.split('.')[1]}_{g}"
                    self.lists[name] = self.terms(zh, rng.randint(2, 6))
                groups.append("$" + name)
                hit_parts.append(rng.choice(self.lists[name]))
            rule["when"] = {"all": groups, "near": rng.choice([10, 20, 30, 50])}
        else:
            terms = self.terms(zh, rng.randint(2, 10))
            if rng.random() < 0.1:
                terms.append("$" + rng.choice(self.shared))
            rule["when"] = {"any": terms}
            first = terms[0]
            hit_parts.append(first)
        if rng.random() < 0.2:
            used = [t for item in rule["when"].get("any", []) + rule["when"].get("all", [])
                    for t in (self.lists[item[1:]] if item.startswith("$") else [item])]
            unless = [t for t in self.terms(zh, rng.randint(1, 3))
                      if not any(t in u or u in t for u in used)]  # an exclusion must not kill the rule
            if unless:
                rule["when"]["unless"] = unless
        return rule, hit_parts

    def regex_rule(self, rid: str) -> tuple[dict, list[str]]:
        rule = self.header(rid, "regex")
        patterns, samples, validator = [], [], None
        for _ in range(self.rng.choice([1, 1, 1, 2, 3])):
            expr, sample, v = self.regex()
            if v or validator:
                # A validator applies to every regex of the rule, so a validated regex
                # stands alone.
                if not patterns:
                    patterns, samples, validator = ["re:" + expr], [sample], v
                break
            patterns.append("re:" + expr)
            samples.append(sample)
        rule["when"] = {"any": patterns}
        if validator:
            rule["when"]["validate"] = validator
            rule["mask"] = True
            rule["category"] = "privacy_leak"
        return rule, [samples[0]]

    def mixed_rule(self, rid: str) -> tuple[dict, list[str]]:
        rng = self.rng
        zh = rng.random() < 0.6
        rule = self.header(rid, "mixed")
        name = f"{self.prefix}_l{rid.split('.')[1]}_0"
        self.lists[name] = self.terms(zh, rng.randint(2, 6))
        expr, sample, validator = self.regex()
        rule["when"] = {"all": ["$" + name, "re:" + expr]}
        if rng.random() < 0.5:
            rule["when"]["near"] = rng.choice([20, 40, 80])
        if validator:
            rule["when"]["validate"] = validator
            rule["mask"] = True
        return rule, [rng.choice(self.lists[name]), sample]

    def add_examples(self, rule: dict, parts: list[str]) -> None:
        zh = any(ord(c) > 0x2E80 for c in "".join(parts))
        neutral = NEUTRAL_ZH if zh else NEUTRAL_EN
        hit = neutral[0] + " " + " 和 ".join(f" {p} " for p in parts) + " " + neutral[1]
        miss = neutral[2]
        fields = rule.get("fields", ["title", "body"])
        if "body" not in fields:  # examples are bodies unless given as a mapping
            hit, miss = {"title": hit}, {"title": miss}
        text_hit = hit if isinstance(hit, str) else hit["title"]
        text_miss = miss if isinstance(miss, str) else miss["title"]
        if fires(rule, self.lists, text_hit) and not fires(rule, self.lists, text_miss):
            rule["examples"] = {"hit": [hit], "miss": [miss]}

    def generate(self, count: int) -> list[dict]:
        rules = []
        width = max(4, len(str(count)))
        for i in range(1, count + 1):
            rid = f"{self.prefix}.{i:0{width}d}"
            x = self.rng.random()
            if x < self.mixed_ratio:
                rule, parts = self.mixed_rule(rid)
            elif x < self.mixed_ratio + self.regex_ratio:
                rule, parts = self.regex_rule(rid)
            else:
                rule, parts = self.literal_rule(rid)
            if self.examples and rule["when"].get("near") is None:
                self.add_examples(rule, parts)
            rules.append(rule)
        return rules


def emit(out, lists: dict[str, list[str]], rules: list[dict], args) -> None:
    w = out.write
    w(f"# Generated by tests/bench/gen_rules.py --count {args.count} --seed {args.seed} --id-prefix {args.id_prefix} "
      f"--regex-ratio {args.regex_ratio} --mixed-ratio {args.mixed_ratio} --everyday-rate {args.everyday_rate}. "
      "Do not edit.\n")
    w("lists:\n")
    for name, items in lists.items():
        w(f"  {name}: {yflow(items)}\n")
    w("rules:\n")
    for r in rules:
        w(f"  - id: {r['id']}\n")
        for key in ("category", "severity", "owner", "status"):
            if key in r:
                w(f"    {key}: {r[key]}\n")
        w(f"    tags: [{', '.join(r['tags'])}]\n")
        if "fields" in r:
            w(f"    fields: [{', '.join(r['fields'])}]\n")
        w("    when:\n")
        for key in ("all", "any", "unless"):
            if key in r["when"]:
                w(f"      {key}: {yflow(r['when'][key])}\n")
        for key in ("near", "validate"):
            if key in r["when"]:
                w(f"      {key}: {r['when'][key]}\n")
        if r.get("mask"):
            w("    mask: true\n")
        if "incident" in r:
            inc = r["incident"]
            w(f"    incident: {{group_by: [{', '.join(inc['group_by'])}], count: {inc['count']}, "
              f"within: {inc['within']}}}\n")
        if "examples" in r:
            w("    examples:\n")
            for kind in ("hit", "miss"):
                w(f"      {kind}:\n")
                for e in r["examples"][kind]:
                    if isinstance(e, str):
                        w(f"        - {yq(e)}\n")
                    else:
                        w("        - {" + ", ".join(f"{k}: {yq(v)}" for k, v in e.items()) + "}\n")


def main(argv: list[str] | None = None) -> int:
    global EVERYDAY_RATE
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=1000, help="number of rules (default 1000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--out", default="-", help="output file (default stdout)")
    ap.add_argument("--regex-ratio", type=float, default=0.25, help="fraction of regex rules (default 0.25)")
    ap.add_argument("--mixed-ratio", type=float, default=0.05,
                    help="fraction of rules combining literals and a regex (default 0.05)")
    ap.add_argument("--everyday-rate", type=float, default=EVERYDAY_RATE,
                    help="probability that a term is an everyday word that generated corpora use "
                         f"(default {EVERYDAY_RATE}; raises the hit rate)")
    ap.add_argument("--id-prefix", default="gen",
                    help="rule ids are PREFIX.NNNN and list names PREFIX_...; change it to load two "
                         "generated files together (default gen)")
    ap.add_argument("--examples", choices=["off", "on"], default="off",
                    help="write one verified hit and miss example per rule (default off)")
    args = ap.parse_args(argv)
    if args.count < 1 or not 0 <= args.regex_ratio <= 1 or not 0 <= args.mixed_ratio <= 1 \
            or args.regex_ratio + args.mixed_ratio > 1:
        ap.error("--count must be >= 1 and the ratios in [0, 1] with regex + mixed <= 1")
    if not 0 <= args.everyday_rate <= 1:
        ap.error("--everyday-rate must be in [0, 1]")
    if not re.fullmatch(r"[a-z][a-z0-9_]*", args.id_prefix):
        ap.error("--id-prefix must be lower-case letters, digits and '_', starting with a letter")
    EVERYDAY_RATE = args.everyday_rate
    gen = RuleGen(args.seed, args.regex_ratio, args.mixed_ratio, args.examples == "on", args.id_prefix)
    rules = gen.generate(args.count)
    if args.out == "-":
        emit(sys.stdout, gen.lists, rules, args)
    else:
        with open(args.out, "w", encoding="utf-8", newline="\n") as f:
            emit(f, gen.lists, rules, args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
