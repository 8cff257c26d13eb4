#!/usr/bin/env python3
"""Deterministic generator of realistic community posts (JSON Lines) for Vigil benchmarks.

Every line is one post in the schema of DESIGN.md:
  id, body (required); platform, community, author{id,name}, title, url, lang,
  created_at (RFC 3339), metrics{likes,shares,replies,followers}, tags (optional).

Bodies are 100-500 characters of everyday Chinese or English community chatter (product
talk, logistics, praise, questions, daily life) assembled from a large pool of sentences
built from templates, so that posts differ. A fraction of posts (--hit-rate) gets one
planted trigger: a complaint sentence, a leaked (checksum-valid, synthetic) resident ID,
phone or card number, or compliance-violating advertising / investment language. The
filler never contains the trigger vocabulary (sentences that would are dropped when the
pool is built), so hits come from the planted posts.

Python 3.11, standard library only. Same --seed, same output, byte for byte.

  gen_corpus.py --count 1000000 --seed 7 --out /tmp/corpus.jsonl
  gen_corpus.py --count 1000 --truth /tmp/truth.tsv      # which posts got which trigger
"""
from __future__ import annotations

import argparse
import io
import json
import random
import sys
import time

# ----------------------------------------------------------------------------- vocabulary
# Shared with gen_rules.py and gen_demo_feed.py (they import these names).

ZH_PRODUCTS = [
    "耳机", "蓝牙耳机", "降噪耳机", "手机壳", "充电线", "平板", "笔记本电脑", "机械键盘", "鼠标", "显示器",
    "智能手表", "运动手环", "扫地机器人", "空气净化器", "加湿器", "电饭煲", "空气炸锅", "咖啡机", "破壁机",
    "电动牙刷", "吹风机", "卷发棒", "行李箱", "双肩包", "帆布鞋", "跑步鞋", "羽绒服", "卫衣", "牛仔裤",
    "连衣裙", "防晒霜", "洗面奶", "口红", "香水", "保温杯", "台灯", "落地灯", "投影仪", "音箱", "路由器",
    "相机", "镜头", "三脚架", "自行车", "滑板", "瑜伽垫", "哑铃", "帐篷", "睡袋", "猫粮", "狗粮", "猫砂",
    "收纳盒", "沙发", "床品四件套", "窗帘", "地毯", "绿植", "多肉", "拼图", "积木", "手账本", "钢笔",
]
ZH_BRANDS = ["拾光", "木槿", "青禾", "云朵", "橘子家", "南山", "北屿", "星河", "小满", "白鹭", "山茶", "栗子",
             "鹿角", "知了", "松果", "暖阳", "海盐", "柠檬树", "米粒", "远山"]
ZH_COLORS = ["奶白色", "雾蓝色", "燕麦色", "薄荷绿", "樱花粉", "曜石黑", "香槟金", "深空灰", "焦糖色", "橄榄绿", "天蓝色", "酒红色"]
ZH_ASPECTS = ["手感", "做工", "外观", "颜值", "续航", "音质", "屏幕", "重量", "尺寸", "包装", "配色", "面料", "味道",
              "操作", "噪音", "分量", "设计", "按键", "接口", "容量", "材质", "细节", "气味", "版型"]
ZH_POS = ["很舒服", "挺不错的", "超出预期", "很细腻", "很耐看", "挺扎实", "比想象中好", "很顺手", "很清爽", "很稳",
          "中规中矩", "还可以", "挺合适", "很轻巧", "很友好", "很有质感", "挺耐用", "很自然"]
ZH_NEU = ["需要适应几天", "有点小贵但能接受", "看个人喜好", "和上一代变化不大", "适合日常用", "算是常规升级",
          "价格还算合理", "新手也能很快上手", "说明书写得挺清楚", "颜色和图片基本一致", "尺码偏大半码",
          "晚上用会更明显", "夏天用刚好", "出门携带方便", "放在桌上不占地方"]
ZH_CITIES = ["北京", "上海", "广州", "深圳", "杭州", "成都", "重庆", "武汉", "西安", "南京", "苏州", "长沙", "厦门",
             "青岛", "大连", "昆明", "天津", "郑州", "合肥", "福州", "宁波", "无锡", "佛山", "东莞", "济南"]
ZH_PLACES = ["商场", "公园", "图书馆", "咖啡店", "菜市场", "夜市", "博物馆", "江边", "海边", "山上", "古镇", "美术馆",
             "体育馆", "书店", "花市", "小区楼下", "公司楼下", "地铁站", "展览馆", "植物园"]
ZH_TIMES = ["早上", "中午", "下午", "傍晚", "晚上", "周末", "昨天", "今天", "前天", "上周", "假期", "下班后", "午休时"]
ZH_FOODS = ["火锅", "烤鱼", "酸菜鱼", "小龙虾", "麻辣烫", "煎饼果子", "肠粉", "米线", "牛肉面", "饺子", "包子", "寿司",
            "披萨", "汉堡", "沙拉", "奶茶", "咖啡", "蛋挞", "糖水", "烧烤", "螺蛳粉", "热干面", "生煎", "羊肉串",
            "椰子鸡", "凉皮", "肉夹馍", "煲仔饭", "豆花", "双皮奶"]
ZH_TASTES = ["很地道", "偏甜", "有点辣", "清淡爽口", "分量很足", "香得很", "中规中矩", "比上次好吃", "值得再来", "很下饭"]
ZH_WEATHER = ["下小雨", "阴天", "大太阳", "刮大风", "有点闷热", "凉快多了", "起雾了", "晴转多云", "降温了", "飘雪了"]
ZH_ACTS = ["跑步", "骑车", "爬山", "游泳", "打羽毛球", "逛街", "看展", "露营", "钓鱼", "拍照", "散步", "练瑜伽",
           "打篮球", "看电影", "做饭", "烘焙", "画画", "弹吉他", "读书", "学英语"]
ZH_PEOPLE = ["室友", "同事", "闺蜜", "老妈", "老爸", "对象", "表弟", "同学", "邻居", "老公", "老婆", "发小"]
ZH_PETS = [("猫", "又把纸巾拽出来"), ("狗子", "又在门口等我"), ("仓鼠", "囤了一嘴的瓜子"), ("兔子", "把电线啃了一口"),
           ("鹦鹉", "学会了说早上好"), ("猫主子", "霸占了我的键盘")]
ZH_FEATURES = ["夜间模式", "快捷键", "自动关机", "定时功能", "省电模式", "字体大小", "通知提醒", "蓝牙配对", "壁纸",
               "手势操作", "开机密钥"]
ZH_EVENTS = ["满减", "抽奖", "打卡", "签到", "积分兑换", "拼团", "秒杀", "直播间互动", "新人礼包", "会员日"]
ZH_DRAMAS = ["古装剧", "悬疑剧", "综艺", "纪录片", "动画片", "老电影", "科幻片", "美食节目"]
ZH_FEELS = ["剧情挺上头", "节奏有点慢", "配乐很好听", "演员演技在线", "看得停不下来", "画面特别美", "笑到肚子疼",
            "结局有点意外"]
ZH_TAILS = ["", "", "", "哈哈", "～", "！", "。", "，大家觉得呢？", "，先记录一下。", "，有空再来更新。", "😂", "👍",
            "✨", "，就这样吧。"]

ZH_TEMPLATES = [
    "{time}去{place}逛了一圈，人{crowd}。",
    "{brand}这款{product}的{aspect}{pos}，用了{n}周感觉{neu}。",
    "有人用过{brand}的{product}吗？想问问{aspect}怎么样。",
    "刚拆开{product}，{color}的外观比图片上还好看{tail}",
    "{city}今天{weather}，出门记得带伞{tail}",
    "{time}和{person}去吃了{food}，味道{taste}。",
    "{product}的{aspect}比上一代提升了不少，{neu}。",
    "请问{product}和{product2}选哪个比较好？预算{n}00左右。",
    "打卡第{n2}天，今天{act}了{n3}分钟{tail}",
    "最近在追一部{drama}，{feel}。",
    "下单的{product}今天到了，包装挺严实，{aspect}{pos}。",
    "分享一下我的{product}使用心得：{aspect}{pos}，{aspect2}{neu}。",
    "{time}的{place}风景很美，拍了好多照片{tail}",
    "家里的{pet}今天{petact}，哈哈。",
    "有没有{city}的朋友，周末一起{act}？",
    "这次{event}活动的规则有点没看懂，有人解释一下吗？",
    "{brand}新出的{color}配色好好看，已经加购物车了{tail}",
    "上班路上听了{n}首歌，心情不错{tail}",
    "{product}续航大概{n}小时，日常用够了。",
    "给{person}买的礼物是{product}，希望喜欢{tail}",
    "{time}学会了做{food}，比想象中简单。",
    "{city}的{food}真的绝了，下次还要去{tail}",
    "更新到新版本以后{aspect}流畅了很多。",
    "求问{product}怎么设置{feature}？找了半天没找到。",
    "{brand}的门店{time}人不多，体验了一下{product}，{aspect}{pos}。",
    "第一次买{brand}的东西，{aspect}{pos}{tail}",
    "{product}放在客厅刚刚好，{color}和家里的风格很搭。",
    "{person}说我买的{product}{pos}，有点小开心。",
    "想给{person}换个{product}，大家有什么建议吗？",
    "今天{act}的时候遇到了好久不见的{person}，聊了很久。",
    "{city}到{city2}的高铁{n}个小时就到了，很方便。",
    "早餐吃了{food}，{taste}，一天的好心情{tail}",
    "{product}用了{n}个月，{aspect}{neu}。",
    "有人知道{place}附近哪里好停车吗？",
    "这周{act}了{n}次，感觉精神好多了。",
    "周末在家收拾了一下，把{product}挪到了阳台边上。",
    "{brand}的{event}活动今天开始，大家可以看看{tail}",
    "{time}{weather}，窝在家里看{drama}，{feel}。",
    "晒一下我的{product}，{color}，{aspect}{pos}。",
    "新买的{product}和{product2}一起用，体验挺好。",
    "{city}最近开了一家{food}店，排队的人很多。",
    "请问{product}的{aspect}有没有{color}和{color2}两种？",
    "记录一下：{time}{act}{n3}分钟，{food}一份，开心。",
    "楼下的{place}新开了，{time}去看了看，{crowd2}。",
    "{pet}最近胃口特别好，{time}吃了两碗。",
    "{product}的说明书有点长，看了{n}遍才弄明白{feature}。",
    "出差去了趟{city}，吃了当地的{food}，{taste}。",
    "大家平时{act}都用什么{product}？",
    "今天的晚霞好美，在{place}拍到了{tail}",
    "这个{product}的{aspect}和{brand}家的比起来差不多。",
]
ZH_CROWD = ["挺多的", "不算多", "特别多", "少得可怜", "刚刚好", "比平时多"]
ZH_CROWD2 = ["环境还不错", "装修挺有特色", "东西种类挺全", "价格也还行", "店员挺热情"]

EN_PRODUCTS = [
    "headphones", "earbuds", "phone case", "charging cable", "tablet", "laptop", "mechanical keyboard", "mouse",
    "monitor", "smartwatch", "fitness band", "robot vacuum", "air purifier", "humidifier", "rice cooker",
    "air fryer", "coffee maker", "blender", "electric toothbrush", "hair dryer", "suitcase", "backpack",
    "sneakers", "running shoes", "puffer jacket", "hoodie", "jeans", "sunscreen", "face wash", "water bottle",
    "desk lamp", "floor lamp", "projector", "speaker", "router", "camera", "lens", "tripod", "bike",
    "skateboard", "yoga mat", "dumbbells", "tent", "sleeping bag", "cat food", "dog bed", "storage box", "sofa",
    "bedding set", "curtains", "rug", "houseplant", "jigsaw puzzle", "building blocks", "notebook", "fountain pen",
]
EN_BRANDS = ["Lumio", "Northwind", "Bluefin", "Maple & Co", "Cedar", "Kestrel", "Orchard", "Pebble", "Solace",
             "Tidewater", "Juniper", "Copperleaf", "Brightside", "Foxglove", "Harbor", "Willow"]
EN_COLORS = ["oat white", "slate blue", "sage green", "blush pink", "midnight black", "champagne", "space grey",
             "caramel", "olive", "sky blue", "burgundy", "sand"]
EN_ASPECTS = ["build", "finish", "design", "battery life", "sound", "screen", "weight", "size", "packaging",
              "color", "fabric", "taste", "setup", "noise level", "portion", "buttons", "ports", "capacity",
              "texture", "fit", "grip"]
EN_POS = ["really nice", "pretty solid", "better than expected", "smooth", "comfortable", "clean", "surprisingly good",
          "lovely", "decent", "great", "just right", "well thought out", "sturdy", "lightweight"]
EN_NEU = ["takes a few days to get used to", "a bit pricey but fine", "depends on what you need",
          "not that different from the last one", "good enough for daily use", "nothing spectacular",
          "reasonably priced", "easy for beginners", "the manual is clear", "looks like the photos",
          "runs half a size large", "more noticeable at night", "fine for summer", "easy to carry around"]
EN_CITIES = ["Seattle", "Austin", "Toronto", "Vancouver", "London", "Manchester", "Dublin", "Sydney", "Melbourne",
             "Auckland", "Singapore", "Boston", "Denver", "Chicago", "Portland", "Edinburgh", "Bristol", "Leeds"]
EN_PLACES = ["the mall", "the park", "the library", "a coffee shop", "the farmers market", "the night market",
             "the museum", "the riverside", "the beach", "the trail", "the old town", "the gallery", "the gym",
             "the bookstore", "the flower market", "the botanical garden"]
EN_TIMES = ["this morning", "at lunch", "this afternoon", "this evening", "tonight", "over the weekend",
            "yesterday", "last week", "on my day off", "after work"]
EN_FOODS = ["ramen", "tacos", "pho", "dumplings", "pizza", "burgers", "sushi", "pad thai", "curry", "banana bread",
            "pancakes", "lasagna", "chili", "salad", "bagels", "fried rice", "noodle soup", "cinnamon rolls"]
EN_TASTES = ["really good", "a bit sweet", "quite spicy", "light and fresh", "very filling", "so tasty",
             "okay", "better than last time", "worth going back for"]
EN_WEATHER = ["rainy", "cloudy", "sunny", "windy", "humid", "cooler", "foggy", "bright", "chilly", "snowy"]
EN_ACTS = ["run", "bike ride", "hike", "swim", "walk", "yoga session", "picnic", "photo walk", "gym session",
           "movie night", "baking session", "game night", "board game night"]
EN_PEOPLE = ["roommate", "coworker", "best friend", "mom", "dad", "partner", "cousin", "classmate", "neighbor", "sister"]
EN_PETS = [("cat", "knocked the plant over again"), ("dog", "waited by the door all day"),
           ("hamster", "stuffed its cheeks with seeds"), ("rabbit", "chewed the charger cable"),
           ("parrot", "learned to say good morning")]
EN_FEATURES = ["dark mode", "shortcuts", "auto shut-off", "timer", "power saving mode", "font size",
               "notifications", "pairing", "wallpaper", "gesture controls"]
EN_EVENTS = ["spring sale", "giveaway", "photo contest", "member day", "launch stream", "community meetup",
             "bundle deal", "loyalty points"]
EN_SHOWS = ["mystery series", "cooking show", "documentary", "anime", "old movie", "sci-fi show", "sitcom"]
EN_FEELS = ["really hooked", "a bit slow", "the soundtrack is great", "the acting is solid",
            "beautiful to look at", "funny as heck", "the ending surprised me"]
EN_TAILS = ["", "", "", " :)", "!", " lol", " Thoughts?", " Just sharing.", " 👍", " 😄"]

EN_TEMPLATES = [
    "Just got the new {product} from {brand}, the {aspect} is {pos}.",
    "Anyone tried the {color} {product}? Thinking about getting one.",
    "Weather in {city} is {weather} today, perfect for a {act}.",
    "Made {food} for dinner {time}, turned out {taste}.",
    "Quick question: how do I change the {feature} on the {product}?",
    "Battery lasts about {n} hours with normal use, good enough for me.",
    "Took my {pet} to the park {time}, it was a good day{tail}",
    "The {event} starts at {n} pm, see you there!",
    "Went to {place} {time}, it was {crowd}.",
    "My {person} borrowed my {product} and now wants one too{tail}",
    "Been using the {product} for {n} weeks, the {aspect} is {pos}, {neu}.",
    "Which one would you pick, the {product} or the {product2}? Budget is around {n}00.",
    "Day {n2} of my {act} streak{tail}",
    "Started watching a {show}, {feel}.",
    "The {product} came today, packed well, and the {aspect} is {pos}.",
    "Sharing my notes on the {product}: {aspect} is {pos}, {aspect2} is {neu}.",
    "{place} looked amazing {time}, took a ton of photos{tail}",
    "My {pet} {petact}{tail}",
    "Anyone in {city} up for a {act} this weekend?",
    "Not sure I understand the rules for the {event}, can someone explain?",
    "{brand} dropped a {color} version and I already added it to my cart{tail}",
    "Listened to {n} songs on the commute, good mood today.",
    "Bought a {product} as a gift for my {person}, hope they like it.",
    "Learned to make {food} {time}, easier than I thought.",
    "The {food} in {city} is so good, going back next time{tail}",
    "After the update the {aspect} feels a lot smoother.",
    "Visited the {brand} store {time}, tried the {product}, the {aspect} is {pos}.",
    "First time buying from {brand}, the {aspect} is {pos}{tail}",
    "The {product} fits nicely in the living room, the {color} matches everything.",
    "Thinking of getting my {person} a new {product}, any ideas?",
    "Ran into my old {person} during a {act} {time}, we talked for ages.",
    "Breakfast was {food}, {taste}, great start to the day.",
    "Had the {product} for {n} months, the {aspect} is {neu}.",
    "Does anyone know where to park near {place}?",
    "Did {n} {act}s this week and I feel so much better.",
    "Rearranged the room {time} and moved the {product} next to the window.",
    "Rainy {time}, stayed in and watched a {show}, {feel}.",
    "Here's my {color} {product}, the {aspect} is {pos}.",
    "Using the new {product} together with the {product2}, works nicely.",
    "A new {food} place opened in {city}, the line was long.",
    "Does the {product} come in {color} and {color2}?",
    "Log: {act} for {n3} minutes, {food} for lunch, happy.",
    "Business trip to {city}, tried the local {food}, {taste}.",
    "What {product} do you all use for your {act}?",
    "The sunset was gorgeous, caught it from {place}{tail}",
    "The {aspect} on this {product} is about the same as the {brand} one.",
]
EN_CROWD = ["pretty busy", "quiet", "packed", "almost empty", "just right", "busier than usual"]

# Words that must not occur in filler: the trigger vocabulary of the shipped packs (and of
# the planted phrases). A pool sentence containing one is dropped.
FORBIDDEN = [
    "退款", "退钱", "退费", "押金", "到账", "石沉大海", "投诉", "维权", "曝光", "12315", "消协", "黑猫", "315", "假货",
    "高仿", "正品", "质量", "骗", "坑", "垃圾", "恶心", "最佳", "最高级", "顶级", "极品", "万能", "极致", "永久",
    "国家级", "全网", "保本", "稳赚", "风险", "收益", "内部", "内幕", "荐股", "涨停", "股票", "老师", "带单", "翻倍",
    "拉群", "建群", "加群", "起诉", "律师", "法庭", "客服", "售后", "不回复", "爆炸", "起火", "自燃", "冒烟", "漏电",
    "中毒", "过期", "发霉", "变质", "身份证", "住址", "家住", "人肉", "开盒", "推荐", "安利", "回购", "种草", "好评",
    "差评", "刷单", "封号", "冻结", "提现", "扣费", "扣款", "续费", "注销", "砍单", "欠薪", "工资", "催收", "第一品牌",
    "销量第一", "失望", "愤怒", "气死", "太差", "没收到", "丢了", "停滞", "不发货", "拒绝", "不给", "说法", "媒体",
    "记者", "热搜", "集体", "联名", "受害", "冒充", "诈骗", "杀熟", "乱收费", "泄露", "删差评", "返现", "密码",
    "refund", "scam", "fraud", "rip", "lawsuit", "lawyer", "attorney", "court", "press", "media", "viral", "bbb",
    "ftc", "guarantee", "risk", "insider", "stock", "share", "earning", "signal", "trade", "clinical", "cure",
    "side effect", "review", "defect", "broke", "fake", "counterfeit", "knock", "fire", "explod", "melt", "sick",
    "poison", "mold", "hurt", "injur", "danger", "unsafe", "hate", "worst", "terrible", "awful", "disgust",
    "boycott", "uninstall", "never", "stay away", "recommend", "obsess", "must-have", "ceo", "founder", "manage",
    "charge", "cancel", "withdraw", "frozen", "lock", "suspend", "petition", "victim", "dox", "password",
    "address", "support", "agent", "order", "tracking", "deliver", "shipping", "package", "parcel", "sue ",
    "complain", "rude", "ignored", "useless", "lost", "stuck", "late", "damaged", "money back", "returns",
]

# ----------------------------------------------------------------------------- triggers

ZH_COMPLAINTS = [
    "退款一个月了还没到账，客服一直不处理。",
    "申请退款拖了{d}天，钱还是没到账。",
    "押金等了{d}天还没退，打电话也没人管。",
    "客服已读不回，问了三遍都没人理。",
    "快递{d}天了还没更新，物流信息一直停滞。",
    "物流显示已签收，可我根本没收到。",
    "才用了{d}天就坏了，质量太差。",
    "收到的和图片完全货不对板，颜色都不一样。",
    "专柜鉴定为假，旗舰店也敢卖假货？",
    "外卖里吃出一只虫子，太恶心了。",
    "新买的充电宝半夜自燃，差点出事。",
    "黑心商家，明摆着割韭菜。",
    "会员自动续费也没提醒，直接扣了我{d}块。",
    "提现申请{d}天了还没到，是不是要跑路。",
    "已经打了12315，明天再去消协。",
    "再不解决我就找媒体，全网曝光你们。",
    "被坑的朋友已经有两百多人，准备集体维权。",
    "同样被坑的拉个群吧，一起维权。",
    "再不退款我就起诉你们，法庭见。",
    "这件事你们必须给我一个交代，不然就维权到底。",
    "老用户比新用户贵了二十块，大数据杀熟。",
    "售后和客服互相推诿，皮球踢来踢去。",
    "垃圾产品，太差了，客服态度恶劣，真的气死了，失望透顶！",
]
EN_COMPLAINTS = [
    "I'm still waiting for my refund after {d} days.",
    "My package was marked as delivered but it never showed up.",
    "Customer service hung up on me twice.",
    "The zipper broke after two uses, really cheaply made.",
    "They sold me a fake, the serial number doesn't exist.",
    "Found a cockroach in my salad, disgusting.",
    "My power bank literally exploded in my bag.",
    "This company is a total scam, they took my money.",
    "Got charged twice for the same order and nobody answers.",
    "Filed a complaint with the BBB today.",
    "If this isn't fixed by Friday I'm taking legal action.",
    "Fix it or I'm going to the press with the screenshots.",
    "Anyone else affected? We started a victims group.",
    "The support team ignored my emails for two weeks.",
]
ZH_COMPLIANCE = [
    "本店面膜采用顶级原料，全网最低价！",
    "连续三年销量第一，行业领导品牌。",
    "平台理财产品保本保息，年化{d}%，随存随取。",
    "跟着我投，稳赚不赔，月收益8%。",
    "公司上市前内部认购原始股，名额有限，私聊。",
    "内部消息，下周公告重组，赶紧上车。",
    "加老师微信，免费领牛股，跟着老师操作稳定翻倍。",
    "亲，五星好评返5元红包，截图发客服。",
    "这款酵素喝一个月就能治愈便秘，无副作用。",
]
EN_COMPLIANCE = [
    "Our fund offers guaranteed returns of {d}% a year, fully risk-free investment.",
    "Insider tip: the takeover is happening next week, load up.",
    "This stock will double by Friday, join my signal group.",
    "Leave a 5-star review and we'll send you a $10 gift card.",
]
ZH_PRIVACY = [
    "身份证号{id}，麻烦帮我查一下。",
    "这个人的身份证：{id}，大家认准了。",
    "这个骗子的手机号是{phone}，大家小心。",
    "退款请打到我的卡号 {card}，户名张三。",
]
EN_PRIVACY = [
    "call him on +86 {phone} and ask for the money back",
    "my card {card} was charged twice",
    "Send the refund to my IBAN GB82 WEST 1234 5698 7654 32 please",
]

ID_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
ID_REGIONS = ("110105", "110108", "310104", "310115", "440305", "440106", "330106", "320582", "510107", "420102",
              "370202", "350203", "610113", "120104", "500103")


def resident_id(rng: random.Random) -> str:
    """A synthetic resident ID that passes GB 11643 (region, date and check character)."""
    region = rng.choice(ID_REGIONS)
    birth = f"{rng.randint(1960, 2004)}{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    body = f"{region}{birth}{rng.randint(0, 999):03d}"
    return body + "10X98765432"[sum(int(c) * w for c, w in zip(body, ID_WEIGHTS)) % 11]


def luhn_number(rng: random.Random, prefix: str = "6222", length: int = 16) -> str:
    digits = prefix + "".join(str(rng.randint(0, 9)) for _ in range(length - len(prefix) - 1))
    total = 0
    for i, c in enumerate(reversed(digits)):
        d = int(c)
        if i % 2 == 0:
            d *= 2
            d -= 9 if d > 9 else 0
        total += d
    return digits + str((10 - total % 10) % 10)


def mobile(rng: random.Random) -> str:
    return rng.choice(("138", "139", "150", "158", "186", "187", "135", "136")) + f"{rng.randint(0, 99999999):08d}"


def trigger(rng: random.Random, zh: bool) -> tuple[str, str]:
    """A planted trigger sentence and its kind (complaint | compliance | privacy)."""
    r = rng.random()
    if r < 0.6:
        kind, pool = "complaint", ZH_COMPLAINTS if zh else EN_COMPLAINTS
    elif r < 0.8:
        kind, pool = "compliance", ZH_COMPLIANCE if zh else EN_COMPLIANCE
    else:
        kind, pool = "privacy", ZH_PRIVACY if zh else EN_PRIVACY
    template = rng.choice(pool)
    values = {"d": rng.randint(5, 45)}
    if "{id}" in template:
        values["id"] = resident_id(rng)
    if "{phone}" in template:
        values["phone"] = mobile(rng)
    if "{card}" in template:
        values["card"] = luhn_number(rng)
    return template.format(**values), kind


# ----------------------------------------------------------------------------- sentence pools


def _slot_makers(zh: bool) -> dict:
    """Slot name -> function(rng) -> text. Paired slots (product/product2) stay distinct."""
    if zh:
        v = dict(time=ZH_TIMES, place=ZH_PLACES, crowd=ZH_CROWD, crowd2=ZH_CROWD2, brand=ZH_BRANDS, pos=ZH_POS,
                 neu=ZH_NEU, weather=ZH_WEATHER, person=ZH_PEOPLE, food=ZH_FOODS, taste=ZH_TASTES, act=ZH_ACTS,
                 drama=ZH_DRAMAS, feel=ZH_FEELS, event=ZH_EVENTS, feature=ZH_FEATURES)
        pairs = dict(product=ZH_PRODUCTS, color=ZH_COLORS, aspect=ZH_ASPECTS, city=ZH_CITIES)
        pets, tails, n3 = ZH_PETS, ZH_TAILS, (15, 20, 30, 40, 45, 60, 90)
    else:
        v = dict(time=EN_TIMES, place=EN_PLACES, crowd=EN_CROWD, brand=EN_BRANDS, pos=EN_POS, neu=EN_NEU,
                 weather=EN_WEATHER, person=EN_PEOPLE, food=EN_FOODS, taste=EN_TASTES, act=EN_ACTS, show=EN_SHOWS,
                 feel=EN_FEELS, event=EN_EVENTS, feature=EN_FEATURES, city=EN_CITIES)
        pairs = dict(product=EN_PRODUCTS, color=EN_COLORS, aspect=EN_ASPECTS)
        pets, tails, n3 = EN_PETS, EN_TAILS, (15, 20, 30, 45, 60)
    return dict(vocab=v, pairs=pairs, pets=pets, tails=tails, n3=n3, stop="。" if zh else ".")


def _fill(rng: random.Random, template: str, zh: bool, _cache: dict = {}) -> str:
    import string
    key = (template, zh)
    fields = _cache.get(key)
    if fields is None:
        fields = _cache[key] = sorted({f for _, f, _, _ in string.Formatter().parse(template) if f})
    m = _cache.get(zh)
    if m is None:
        m = _cache[zh] = _slot_makers(zh)
    out = {}
    pet = None
    for f in fields:
        if f in m["vocab"]:
            out[f] = rng.choice(m["vocab"][f])
        elif f.rstrip("2") in m["pairs"]:
            base = f.rstrip("2")
            if base not in out:
                out[base], out[base + "2"] = rng.sample(m["pairs"][base], 2)
        elif f in ("pet", "petact"):
            if pet is None:
                pet = rng.choice(m["pets"])
            out["pet"], out["petact"] = pet
        elif f == "n":
            out[f] = rng.randint(2, 9)
        elif f == "n2":
            out[f] = rng.randint(2, 99)
        elif f == "n3":
            out[f] = rng.choice(m["n3"])
        elif f == "tail":
            out[f] = rng.choice(m["tails"]) or m["stop"]
        else:
            raise KeyError(f"template slot {{{f}}} has no vocabulary")
    return template.format(**out)


_FORBIDDEN_RE = None


def clean(sentence: str) -> bool:
    """True when the sentence holds none of the FORBIDDEN trigger words."""
    global _FORBIDDEN_RE
    if _FORBIDDEN_RE is None:
        import re
        _FORBIDDEN_RE = re.compile("|".join(re.escape(f) for f in sorted(FORBIDDEN, key=len, reverse=True)))
    return _FORBIDDEN_RE.search(sentence.lower()) is None


def sentence_pool(rng: random.Random, zh: bool, size: int) -> list[str]:
    templates = ZH_TEMPLATES if zh else EN_TEMPLATES
    seen: set[str] = set()
    pool: list[str] = []
    attempts = 0
    while len(pool) < size and attempts < size * 4:
        attempts += 1
        s = _fill(rng, rng.choice(templates), zh)
        if s not in seen and clean(s):
            seen.add(s)
            pool.append(s)
    return pool


# ----------------------------------------------------------------------------- post metadata

ZH_PLATFORMS = {
    "weibo": ["拾光官方微博", "数码爱好者", "城市生活", "美食探店"],
    "xiaohongshu": ["好物分享", "家居灵感", "穿搭日记", "护肤心得"],
    "tieba": ["拾光吧", "耳机吧", "数码吧", "装修吧"],
    "douyin": ["开箱测评", "生活记录"],
    "wechat": ["拾光会员群", "拾光粉丝群3", "同城团购群"],
    "zhihu": ["消费电子", "生活方式"],
}
EN_PLATFORMS = {
    "reddit": ["r/gadgets", "r/BuyItForLife", "r/HomeImprovement", "r/Cooking", "r/Lumio"],
    "twitter": ["@LumioHQ mentions", "tech twitter"],
    "discord": ["Lumio Community #general", "Lumio Community #help"],
    "facebook": ["Lumio Owners Club", "Home Gadgets Group"],
    "app_review": ["Lumio app reviews"],
}
TITLED = {"tieba", "zhihu", "reddit", "xiaohongshu", "facebook"}
ZH_TITLES = ["求助", "分享一下", "开箱", "日常记录", "有点纠结", "新人报到", "晒单", "随便聊聊", "使用一个月后的感受",
             "周末记录", "问个问题", "好物清单整理", "今日份快乐"]
EN_TITLES = ["Quick question", "Sharing my setup", "Unboxing", "Daily log", "Can't decide", "New here",
             "Weekend notes", "Thoughts after a month", "Small win today", "Help me choose"]
ZH_TAGS = ["数码", "家居", "美食", "穿搭", "日常", "出行", "宠物", "运动", "开箱", "求助", "分享"]
EN_TAGS = ["gadgets", "home", "food", "style", "daily", "travel", "pets", "fitness", "unboxing", "question", "share"]

ZH_NICK_A = ["小", "阿", "大", "老", "橘子", "momo", "糖", "木子", "一只", "今天也要", "爱吃", "想去", "不吃", "夜猫"]
ZH_NICK_B = ["鱼", "杰", "白", "王", "酱", "同学", "兔", "猫", "咸鱼", "早睡", "火锅", "旅行", "香菜", "子", "米饭", "小熊"]
EN_NICK_A = ["sunny", "quiet", "lazy", "happy", "urban", "retro", "pixel", "coffee", "night", "little", "blue", "wild"]
EN_NICK_B = ["coder", "panda", "fox", "runner", "baker", "gamer", "otter", "reader", "hiker", "owl", "cat", "maker"]


def author_pools(rng: random.Random, size: int) -> tuple[list[dict], list[dict]]:
    zh, en = [], []
    for i in range(size):
        name = rng.choice(ZH_NICK_A) + rng.choice(ZH_NICK_B) + (str(rng.randint(1, 999)) if rng.random() < 0.4 else "")
        zh.append({"id": f"u{i:06d}", "name": name})
        name = rng.choice(EN_NICK_A) + "_" + rng.choice(EN_NICK_B) + str(rng.randint(1, 99))
        en.append({"id": f"e{i:06d}", "name": name})
    return zh, en


def rfc3339(epoch: float, zh: bool) -> str:
    if zh:  # China Standard Time, as the Chinese platforms report it
        t = time.gmtime(epoch + 8 * 3600)
        return time.strftime("%Y-%m-%dT%H:%M:%S+08:00", t)
    return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch))


def parse_start(text: str) -> float:
    from datetime import datetime
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp()


def metrics(rng: random.Random) -> dict:
    likes = int(rng.paretovariate(1.3)) - 1
    return {"likes": likes, "shares": int(likes * rng.random() * 0.3), "replies": int(likes * rng.random() * 0.5),
            "followers": int(rng.paretovariate(1.1) * 50)}


# ----------------------------------------------------------------------------- generation


class Generator:
    """Builds posts. post() returns a dict (for scripts that post-process); line() returns
    the JSON text directly and is what the command line uses, because it is several
    times faster than encoding a dict."""

    def __init__(self, seed: int, zh_ratio: float, hit_rate: float, pool_size: int = 20000):
        self.rng = random.Random(seed)
        self.seed = seed
        self.zh_ratio = zh_ratio
        self.hit_rate = hit_rate
        self.zh_pool = sentence_pool(self.rng, True, pool_size)
        self.en_pool = sentence_pool(self.rng, False, pool_size)
        # Bodies are drawn from random pairs of sentences: half the draws, same variety.
        r = self.rng.random
        self._zh_chunks = [self.zh_pool[int(r() * pool_size)] + self.zh_pool[int(r() * pool_size)]
                           for _ in range(2 * pool_size)]
        self._en_chunks = [self.en_pool[int(r() * pool_size)] + " " + self.en_pool[int(r() * pool_size)]
                           for _ in range(2 * pool_size)]
        self.zh_authors, self.en_authors = author_pools(self.rng, 5000)
        self.zh_where = [(p, c) for p, cs in ZH_PLATFORMS.items() for c in cs]
        self.en_where = [(p, c) for p, cs in EN_PLATFORMS.items() for c in cs]
        enc = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
        self._enc = enc
        # Pre-encoded JSON fragments for everything drawn from a small set.
        self._where_json = {
            zh: [(p, f'"platform":{enc(p)},"community":{enc(c)}') for p, c in (self.zh_where if zh else self.en_where)]
            for zh in (True, False)}
        self._author_json = {zh: [enc(a) for a in (self.zh_authors if zh else self.en_authors)] for zh in (True, False)}
        self._title_json = {True: [enc(t) for t in ZH_TITLES], False: [enc(t) for t in EN_TITLES]}
        self._tags = {True: ZH_TAGS, False: EN_TAGS}
        self._time_cache: dict[tuple[int, bool], str] = {}

    def body(self, zh: bool, planted: str | None = None) -> str:
        r = self.rng.random
        pool = self._zh_chunks if zh else self._en_chunks
        size = len(pool)
        sep = 0 if zh else 1
        target = 100 + int(r() * 381)
        parts: list[str] = []
        length = -sep
        while length < target:
            s = pool[int(r() * size)]
            parts.append(s)
            length += len(s) + sep
        if zh and r() < 0.3:  # a little code-switching, as in real posts
            parts.insert(int(r() * len(parts)), self.en_pool[int(r() * len(self.en_pool))] + " ")
        if planted is not None:
            parts.insert(int(r() * (len(parts) + 1)), planted)
        text = ("" if zh else " ").join(parts)
        if len(text) > 500:
            if planted is None or planted in text[:500]:
                text = text[:500]
            else:
                text = text[: 499 - len(planted)] + " " + planted
        return text

    def _created_at(self, epoch: float, zh: bool) -> str:
        key = (int(epoch), zh)
        v = self._time_cache.get(key)
        if v is None:
            if len(self._time_cache) > 4096:
                self._time_cache.clear()
            v = self._time_cache[key] = rfc3339(key[0], zh)
        return v

    def line(self, n: int, epoch: float) -> tuple[str, str | None, str]:
        """One post as a JSON line (without newline), the planted kind or None, and its id."""
        rng = self.rng
        r = rng.random
        zh = r() < self.zh_ratio
        planted = kind = None
        if r() < self.hit_rate:
            planted, kind = trigger(rng, zh)
        wheres = self._where_json[zh]
        platform, where = wheres[int(r() * len(wheres))]
        authors = self._author_json[zh]
        author = authors[int(r() * len(authors))]
        pid = f"s{self.seed}-{n:09d}"
        title = ""
        if platform in TITLED and r() < 0.7:
            titles = self._title_json[zh]
            title = f',"title":{titles[int(r() * len(titles))]}'
        body = self._enc(self.body(zh, planted))
        likes = int(rng.paretovariate(1.3)) - 1
        m = (f'{{"likes":{likes},"shares":{int(likes * r() * 0.3)},"replies":{int(likes * r() * 0.5)},'
             f'"followers":{int(rng.paretovariate(1.1) * 50)}}}')
        k = int(r() * 4)
        tags = ""
        if k:
            vocab = self._tags[zh]
            start = int(r() * len(vocab))
            tags = ',"tags":[' + ",".join(f'"{vocab[(start + 3 * i) % len(vocab)]}"' for i in range(k)) + "]"
        text = (f'{{"id":"{pid}",{where},"author":{author}{title},"body":{body},'
                f'"url":"https://{platform}.example.com/p/{pid}","lang":"{"zh" if zh else "en"}",'
                f'"created_at":"{self._created_at(epoch, zh)}","metrics":{m}{tags}}}')
        return text, kind, pid

    def post(self, n: int, epoch: float) -> tuple[dict, str | None]:
        text, kind, _ = self.line(n, epoch)
        return json.loads(text), kind


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--count", type=int, default=100000, help="number of posts (default 100000)")
    ap.add_argument("--seed", type=int, default=1, help="random seed (default 1)")
    ap.add_argument("--hit-rate", type=float, default=0.03, help="fraction of posts with a planted trigger (0.03)")
    ap.add_argument("--zh-ratio", type=float, default=0.6, help="fraction of Chinese posts (default 0.6)")
    ap.add_argument("--start", default="2024-06-01T00:00:00Z", help="created_at of the first post (RFC 3339)")
    ap.add_argument("--rate", type=float, default=20.0, help="mean posts per second for created_at (default 20)")
    ap.add_argument("--out", default="-", help="output file (default stdout)")
    ap.add_argument("--truth", help="also write 'post id<TAB>kind' for every planted post to this file")
    args = ap.parse_args(argv)
    if args.count < 0 or not 0 <= args.hit_rate <= 1 or not 0 <= args.zh_ratio <= 1 or args.rate <= 0:
        ap.error("--count must be >= 0, --hit-rate and --zh-ratio in [0, 1], --rate > 0")

    gen = Generator(args.seed, args.zh_ratio, args.hit_rate)
    if args.out == "-":
        out = io.TextIOWrapper(sys.stdout.buffer, encoding="utf-8", newline="\n", write_through=False)
    else:
        out = open(args.out, "w", encoding="utf-8", newline="\n")
    truth = open(args.truth, "w", encoding="utf-8") if args.truth else None
    epoch = parse_start(args.start)
    rate = args.rate
    expovariate = gen.rng.expovariate
    batch: list[str] = []
    try:
        for n in range(args.count):
            text, kind, pid = gen.line(n, epoch)
            batch.append(text)
            if kind and truth:
                truth.write(f"{pid}\t{kind}\n")
            if len(batch) >= 4096:
                batch.append("")
                out.write("\n".join(batch))
                batch.clear()
            epoch += expovariate(rate)
        if batch:
            batch.append("")
            out.write("\n".join(batch))
        out.flush()
    except BrokenPipeError:
        return 0
    finally:
        if truth:
            truth.close()
        if args.out == "-":
            out.detach()  # leave sys.stdout usable
        else:
            out.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
