"""Word lists for segmentation: domain terms, typo folding, synonyms, stop words.

Plain data, kept apart from the code in ``segment.py`` so that a community
admin (or a reviewer) can read and extend the vocabulary without touching logic.
All entries are in *normalised* form (simplified, lower case).
"""

from __future__ import annotations

# Terms jieba must keep whole; otherwise 邻长 becomes 邻/长 and 党群服务中心
# becomes 党群/服务/中心, and questions stop sharing words with phrasings.
DOMAIN_TERMS: tuple[str, ...] = (
    "吾邻", "吾邻党建", "邻长", "邻长制度", "邻长小队", "邻里小组", "邻里队伍", "邻里阵地",
    "邻里活动", "邻里角", "邻里会议", "邻里群", "网格员", "网格化", "网格管理", "网格连心",
    "党群服务中心", "党群中心", "服务中心", "党群联席会", "联席会", "联席会议", "四位一体",
    "两委", "两代表一委员", "大党委", "大工委", "党工委", "四办两中心", "四办", "两中心",
    "五权", "三权", "吹哨", "报到", "在职党员", "党员志愿者", "志愿者", "志愿队", "志愿服务",
    "最多跑一趟", "一站式", "一窗式", "15分钟", "服务圈", "前台", "后台", "红色代办",
    "楼宇共建", "商务楼宇", "准入清单", "权责清单", "权力清单", "责任清单", "减上补下",
    "包保", "联系点", "需求认领", "党建联盟", "共建协议", "执法权", "违建", "违法经营",
    "四级联动", "四级书记", "三抓一增强", "一把手", "实施意见", "领航计划", "三级两库",
    "示范库", "链上党建", "产业链", "实训基地", "社会工作师", "学历提升", "事业编",
    "事业编制", "行政编制", "定向招录", "社区工作者", "专职人员", "党务", "业委会", "物业费",
    "物业", "报修", "二维码", "邀请链接", "邻长小组", "碰头会", "碰头", "会商", "楼道",
    "楼道灯", "单元门", "减负", "甩包袱", "评先评优", "年检", "机器人", "个人信息",
    "做什么", "什么意思",
)

# General words jieba splits wrongly in our questions ("一共建了" → 一/共建).
# Also every synonym below that jieba would otherwise split, or it never fires.
SEGMENT_HINTS: tuple[str, ...] = (
    "一共", "总共", "多大", "多久", "几点", "多少钱", "是不是", "干啥", "做啥", "怎么搞",
    "物业公司", "物业企业", "楼长", "网格长", "党群联席会议", "志愿队伍", "邻里组", "多少家",
    "多少位", "多少名",
)

# Common homophone / look-alike typos, folded in the *string* before
# segmentation so that jieba then sees the right word. Only sequences that are
# not themselves plausible words in a resident's question belong here.
TYPOS: dict[str, str] = {
    "领长": "邻长", "邻张": "邻长", "临长": "邻长", "鄰长": "邻长", "无邻": "吾邻", "临里": "邻里",
    "邻里小租": "邻里小组", "邻长小对": "邻长小队", "邻里阵第": "邻里阵地", "邻里脚": "邻里角",
    "网格园": "网格员", "网格元": "网格员", "党郡": "党群", "党圆": "党员", "志原者": "志愿者",
    "志原": "志愿", "服务全": "服务圈", "前抬": "前台", "后抬": "后台", "一窗试": "一窗式",
    "两中兴": "两中心", "两为": "两委", "联席汇": "联席会", "三全": "三权", "五全": "五权",
    "一伟员": "一委员", "准如": "准入", "减付": "减负", "大党为": "大党委", "晋身": "晋升",
    "编织": "编制", "权利清单": "权力清单", "大公委": "大工委", "包宝": "包保", "任领": "认领",
    "党见": "党建", "执法全": "执法权", "书计": "书记", "吹少": "吹哨", "党员报道": "党员报到",
    "报道后": "报到后", "再职": "在职", "计化": "计划", "联心": "连心", "连上党建": "链上党建",
    "陪训": "培训", "基第": "基地", "补帖": "补贴", "代遇": "待遇", "数具": "数据",
    "街到": "街道", "全是社区": "全市社区", "机气人": "机器人", "包修": "报修", "进渡": "进度",
    "切换预言": "切换语言", "保户": "保护", "居委汇": "居委会", "时简": "时间", "店话": "电话",
    "务业": "物业", "物业废": "物业费", "活东": "活动", "强修": "抢修", "面基": "面积",
    # Not typos but variants of one expression, folded the same way.
    "留个言": "留言", "做些什么": "做什么", "一周": "每周", "十五分钟": "15分钟",
    "15min": "15分钟", "四加二": "4加2", "+": "加", "党群中心": "党群服务中心",
    # Real words elsewhere, but in a neighbourhood bot they are the homophone typo.
    "林长": "邻长", "网络员": "网格员", "邻里小祖": "邻里小组", "自愿者": "志愿者",
    # Homophones of the domain's two-character words that a pinyin keyboard offers
    # next to them (written from the words' readings, not from labelled questions).
    # 保修 is a word (warranty), but a resident asking the bot means 报修.
    "隐似": "隐私", "隐思": "隐私", "报秀": "报修", "报休": "报修", "保修": "报修",
    "社曲": "社区", "设区": "社区", "社驱": "社区", "网隔": "网格", "网阁": "网格",
    "往格": "网格", "林里": "邻里", "邻理": "邻里", "五邻": "吾邻", "午邻": "吾邻",
    "吴邻": "吾邻", "志源": "志愿", "党裙": "党群", "档群": "党群", "服物": "服务",
    "福务": "服务", "楼到": "楼道", "活洞": "活动", "对伍": "队伍", "问提": "问题",
    "神马": "什么", "怎莫": "怎么", "怎末": "怎么", "拉圾": "垃圾", "垃级": "垃圾",
    "投述": "投诉", "违见": "违建", "执发": "执法", "吹捎": "吹哨", "加如": "加入",
    "报明": "报名", "连系": "联系", "联系会": "联席会", "删出": "删除", "维秀": "维修",
    "晋生": "晋升", "反应问题": "反映问题", "领杭": "领航", "邻航": "领航",
}

# English words and phrases inside a Chinese question (code-switching: "grid worker主要
# 职责是啥", "楼道light坏了"): folded into the Chinese term before segmentation, so they
# count as the words the Chinese phrasings use instead of as words no entry knows.
# Longest first; matched only as whole Latin words.
ZH_LATIN: dict[str, str] = {
    "neighbourhood group": "邻里小组", "neighborhood group": "邻里小组",
    "neighbour group": "邻里小组", "neighbor group": "邻里小组",
    "neighbourhood captain": "邻长", "neighbour captain": "邻长", "neighbor captain": "邻长",
    "building captain": "邻长", "block captain": "邻长", "captains": "邻长", "captain": "邻长",
    "grid workers": "网格员", "grid worker": "网格员", "grid leader": "网格员",
    "grid member": "网格员", "grid": "网格",
    "volunteers": "志愿者", "volunteer": "志愿者", "volunteering": "志愿服务",
    "party members": "党员", "party member": "党员",
    "service centres": "党群服务中心", "service centre": "党群服务中心",
    "service centers": "党群服务中心", "service center": "党群服务中心",
    "daily check-in": "每日沟通交流", "daily check in": "每日沟通交流", "check-in": "打卡",
    "check in": "打卡", "checkin": "打卡", "weekly meeting": "每周碰头会",
    "front desk": "前台", "back office": "后台", "one-stop": "一站式", "one stop": "一站式",
    "qr code": "二维码", "qrcode": "二维码", "qr": "二维码",
    "lights": "灯", "light": "灯", "lamp": "灯", "leak": "漏水", "leaking": "漏水",
    "english": "英文", "chinese": "中文", "language": "语言",
    "chatbot": "机器人", "robot": "机器人", "bot": "机器人", "wulin": "吾邻",
    "privacy": "隐私", "photo": "照片", "photos": "照片", "location": "位置",
    "property management": "物业", "property": "物业",
    "community": "社区", "sub-district": "街道", "subdistrict": "街道",
    "whistle": "吹哨", "training": "培训", "salary": "待遇", "phone": "电话",
    "status": "进度", "progress": "进度", "join": "加入", "report": "报告",
    "reply": "回复", "how to": "怎么", "how do i": "怎么", "how": "怎么", "what is": "什么是",
    "what": "什么", "where": "哪里", "when": "什么时候", "who": "谁", "please": " ", "in": " ",
    # The article's other notions, and everyday words of a question about them.
    "neighbourhood sites": "邻里阵地", "neighbourhood site": "邻里阵地",
    "neighbour sites": "邻里阵地", "neighbour site": "邻里阵地",
    "neighbourhood activities": "邻里活动", "neighbour activities": "邻里活动",
    "activities": "活动", "activity": "活动", "event": "活动", "events": "活动",
    "group chat": "群", "groups": "小组", "group": "小组", "teams": "队伍", "team": "队伍",
    "party building": "党建", "joint meeting": "党群联席会", "meetings": "开会",
    "meeting": "开会", "weekly": "每周", "daily": "每天", "every day": "每天",
    "responsibilities": "职责", "responsibility": "职责", "duties": "职责", "duty": "职责",
    "jobs": "工作", "job": "工作", "work": "工作", "contact": "联系", "message": "留言",
    "change": "切换", "switch": "切换", "opening hours": "时间", "office hours": "时间",
    "hours": "时间", "open": "开门", "huainan": "淮南", "circle": "服务圈",
    "personal information": "个人信息", "personal data": "个人信息", "information": "信息",
    "info": "信息", "data": "信息", "delete": "删除", "phone number": "电话",
    "address": "地址", "name": "名字", "fee": "费", "fees": "费", "pay": "待遇",
    "wage": "待遇", "elect": "选", "elected": "选", "election": "选", "vote": "选",
    "choose": "选", "chosen": "选", "problem": "问题", "issue": "问题", "repair": "报修",
    "broken": "坏", "meaning": "意思", "mean": "意思", "concept": "什么",
    "street": "街道", "streets": "街道", "sub district": "街道", "see": "看到",
}

# Synonyms applied to jieba tokens: token → canonical token(s), space-separated.
# Question words are folded too, because residents write 咋/啥/干嘛 where the
# knowledge base says 怎么/什么/做什么; abbreviations map to the full term
# (联席会 → 党群联席会), everyday words to the knowledge base's (手机号 → 电话).
ZH_SYNONYMS: dict[str, str] = {
    "啥": "什么", "咋": "怎么", "咋样": "怎么样", "怎样": "怎么", "如何": "怎么", "怎么办": "怎么",
    "干嘛": "什么 做什么", "干啥": "什么 做什么", "干什么": "什么 做什么", "干吗": "什么 做什么",
    "做啥": "什么 做什么", "做什么": "什么 做什么",
    "啥意思": "什么", "什么意思": "什么", "怎么回事": "什么", "怎么弄": "怎么", "怎么搞": "怎么",
    "哪里": "哪", "哪儿": "哪", "在哪儿": "哪", "几级": "多少 级",
    "多少个": "多少", "几个": "多少", "几家": "多少", "几处": "多少", "多少家": "多少",
    "多少位": "多少", "几位": "多少", "多少名": "多少", "几": "多少", "几项": "多少",
    "多少次": "多少", "几次": "多少", "总数": "多少", "数量": "多少", "人数": "多少",
    "街灯": "路灯", "渗水": "漏水", "物业公司": "物业", "物业企业": "物业", "楼长": "邻长",
    "网格长": "网格员", "义工": "志愿者", "居委会": "社区", "居委": "社区", "社区居委会": "社区",
    "bot": "机器人", "english": "英文", "英语": "英文", "chinese": "中文", "汉语": "中文",
    "手机号": "电话", "手机号码": "电话", "电话号码": "电话", "号码": "电话", "手机": "电话",
    "资料": "信息", "个人资料": "个人信息", "删掉": "删除", "注销": "删除", "看见": "看到",
    "参加": "加入", "通气": "沟通", "交流": "沟通", "碰头": "开会", "会商": "开会",
    "碰头会": "开会", "天天": "每天", "每日": "每天", "每星期": "每周", "多长时间": "多久",
    "上报": "报告", "反映": "报告", "报": "报告", "进展": "进度", "状态": "进度",
    "工资": "待遇", "薪酬": "待遇", "收入": "待遇", "社工": "社区工作者", "上升": "晋升",
    "通道": "渠道", "联系方式": "电话", "report": "报告", "myreports": "报告 进度",
    "mycaptain": "联系 邻长", "forgetme": "删除 信息", "lang": "切换 语言", "help": "帮助",
    "联席会": "党群联席会", "联席会议": "党群联席会", "党群联席会议": "党群联席会",
    "服务中心": "党群服务中心", "志愿队": "志愿者 队伍", "志愿队伍": "志愿者 队伍",
    "邻里队伍": "志愿者 队伍", "小队长": "小队 队长", "换成": "切换", "改成": "切换",
    "您": "你", "选择": "选", "查看": "看",
    "邻里组": "邻里小组", "小组": "邻里小组", "邻里群": "邻里小组 群",
}

EN_SYNONYMS: dict[str, str] = {
    "neighbor": "neighbour", "neighborhood": "neighbour", "neighbourhood": "neighbour",
    "center": "centre", "centers": "centre", "chatbot": "bot", "robot": "bot",
    "subdistrict": "sub district", "leader": "lead", "head": "lead",
    "telephone": "phone", "mobile": "phone", "volunteering": "volunteer",
    "street": "sub district",  # "street office" is how 街道 is often translated
    # Chosen, elected, appointed, picked: how captains come to be.
    "choose": "choose", "chooses": "choose", "chosen": "choose", "chose": "choose",
    "elect": "choose", "elected": "choose", "election": "choose", "elections": "choose",
    "appoint": "choose", "appointed": "choose", "pick": "choose", "picked": "choose",
    "picks": "choose", "select": "choose", "selected": "choose", "selection": "choose",
    "vote": "choose", "voted": "choose",
    # Pay and its everyday words.
    "paid": "pay", "salary": "pay", "salaries": "pay", "wage": "pay", "wages": "pay",
    "income": "pay", "earn": "pay", "earns": "pay",
    # Joining and registering.
    "register": "join", "registration": "join", "enrol": "join", "enroll": "join",
    "enrolment": "join", "enrollment": "join", "signup": "join",
    # Broken things in a building.
    "lamp": "light", "lamps": "light", "bulb": "light", "bulbs": "light", "lighting": "light",
    "leaky": "leak", "leakage": "leak", "dripping": "leak",
    "garbage": "rubbish", "trash": "rubbish", "litter": "rubbish", "waste": "rubbish",
    "complain": "report", "complaint": "report", "complaints": "report",
    # Personal data.
    "info": "information", "details": "information", "data": "information",
    "private": "privacy",
    # Chat spelling.
    "wanna": "want", "u": "you", "ur": "your", "pls": "please", "plz": "please", "r": "are",
    "app": "bot", "assistant": "bot",
}

# Question words are common in general Chinese, but they carry the intent of a
# question (how many / who / how often …), which is what separates sibling
# entries such as "what is the joint meeting" and "how many joint meetings".
INTENT_WORDS: frozenset[str] = frozenset(
    "多少 多久 多大 谁 哪里 哪 哪些 什么时候 为什么 怎么 什么 做什么 什么意思 几点 怎么样 "
    "你".split()
)

# Tokens that say nothing about which entry is meant; dropped.
ZH_STOP: frozenset[str] = frozenset(
    "的 了 吗 呢 啊 吧 呀 嘛 哦 是 我 我们 你们 他 她 它 这 那 这个 那个 就 都 也 还 "
    "一下 一个 么 着 过 给 把 被 让 和 与 及 或 请 想 要 能 会 可以 一 之 其 该 对 从 向 "
    "里 上 下 中 个 哈 在 总共 一共 共 合计 多个 多件 多名 多位 多人 多次 多项 多家 多处 "
    # Dialect and colloquial pronouns, stop words like 我 and 我们.
    "俺 俺们 咱 咱们 偶 阿拉 侬".split()
)

EN_STOP: frozenset[str] = frozenset(
    "a an the is are am be been was were to of in on at for and or it its this that "
    "there these those do does did i my me mine we our us you your would should "
    "will shall please any some get got just about with by from as so if into "
    # Fillers and hedges: they colour a question, they do not say what it is about.
    "im ive actually exactly really basically even also still ok okay hi hey hello "
    "um uh like kind sort thing stuff anyway maybe".split()
)

# English question words: they carry the intent, not the subject (see INTENT_WORDS).
EN_INTENT: frozenset[str] = frozenset(
    "how what who whom whose where when which why many much often long can could".split()
)
